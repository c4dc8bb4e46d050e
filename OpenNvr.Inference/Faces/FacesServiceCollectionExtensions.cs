using OpenNvr.Inference.Apis;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Faces;

public static class FacesServiceCollectionExtensions
{
    /// <summary>
    /// Face analytics: the face pipeline (<c>Faces:*</c>), the persistent registry over <c>inferencedb</c> (the
    /// InferenceDbContext must be registered) with its in-memory index kept in sync across replicas, and the tasks
    /// <c>face_detection</c>, <c>face_embedding</c>, <c>face_recognition</c>, <c>face_verify</c>, <c>watchlist_check</c>.
    /// </summary>
    public static IHostApplicationBuilder AddFaceAnalytics(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<FacesOptions>(FacesOptions.Section);
        services.AddSingleton(FaceAnalyzerFactory.Create);
        services.AddSingleton<FacesMetrics>();
        services.AddSingleton<FaceRegistry>();
        services.AddHostedService<FaceRegistrySync>();

        services.AddInferenceTask<FaceDetectionTask>();
        services.AddInferenceTask<FaceEmbeddingTask>();
        services.AddInferenceTask<FaceRecognitionTask>();
        services.AddInferenceTask<FaceVerifyTask>();
        services.AddInferenceTask<WatchlistCheckTask>();
        return builder;
    }

    /// <summary>The <c>/faces</c> registry routes.</summary>
    public static IEndpointRouteBuilder MapFaceAnalytics(this IEndpointRouteBuilder app) => app.MapFacesApi();
}
