using OpenNvr.Inference.Infrastructure;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Cloud;

public static class CloudRoutingExtensions
{
    /// <summary>
    /// Cloud routing: the Hugging Face client and the cloud tasks (<c>object_detection_detr</c>, <c>object-detection</c>,
    /// <c>image-classification</c>, <c>image-to-text</c>). The tasks are always registered and are offered only when
    /// <c>HuggingFace:Token</c> is set. Call before the <see cref="TaskRegistry"/> is first resolved.
    /// </summary>
    public static IHostApplicationBuilder AddHuggingFaceRouting(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddHuggingFaceClient();
        services.AddInferenceTask<DetrObjectDetectionTask>();
        services.AddInferenceTask<HuggingFaceObjectDetectionTask>();
        services.AddInferenceTask<ImageClassificationTask>();
        services.AddInferenceTask<ImageToTextTask>();
        return builder;
    }
}
