using System.Text.Json;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Cloud;

/// <summary>
/// The validated <c>input_data</c> of a cloud task:
/// <c>{"model_name":"facebook/detr-resnet-50","inputs":{"image":"opennvr://frames/camera_0/latest.jpg"},"parameters":{}}</c>.
/// </summary>
/// <param name="Model">The model id (the task's default when <c>model_name</c> is absent).</param>
/// <param name="ImageUri">An <c>opennvr://</c> frame URI, read through <see cref="IFrameSource"/> like every local task's frame.</param>
/// <param name="Parameters">A non-empty <c>parameters</c> object to pass to Hugging Face, or null.</param>
public sealed record CloudInput(string Model, string ImageUri, JsonElement? Parameters)
{
    private const string Example =
        "{\"task\":\"object_detection_detr\",\"input_data\":{\"model_name\":\"facebook/detr-resnet-50\",\"inputs\":{\"image\":\"opennvr://frames/camera_0/latest.jpg\"},\"parameters\":{}}}";

    public static CloudInput Parse(InferenceRequest request, string defaultModel, HuggingFaceOptions options)
    {
        if (request.InputData is not { } data)
        {
            // A cloud task never falls back to the local "input" form, and a local task never reaches the cloud.
            throw InferenceProblemException.BadRequest(request.Input is null
                ? $"Task '{request.Task}' runs on Hugging Face and needs \"input_data\", e.g. {Example}."
                : $"Task '{request.Task}' runs on Hugging Face and reads \"input_data\", not \"input\", e.g. {Example}.");
        }

        var model = ReadModel(data, defaultModel);
        if (!options.IsAllowed(model))
        {
            throw new InferenceProblemException(StatusCodes.Status403Forbidden, "Cloud model not allowed",
                $"The model '{model}' is not in HuggingFace:AllowedModels, which lists the models this adapter may call.");
        }

        return new CloudInput(model, ReadImageUri(data), ReadParameters(data));
    }

    private static string ReadModel(JsonElement data, string defaultModel)
    {
        if (!data.TryGetProperty("model_name", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return defaultModel;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw InferenceProblemException.BadRequest($"input_data.model_name must be a string, not {InferenceRequest.Describe(value)}.");
        }

        var model = value.GetString()!;
        return HuggingFaceModelId.Check(model) is { } problem
            ? throw InferenceProblemException.BadRequest($"input_data.model_name is not a valid Hugging Face model id: {problem}")
            : model;
    }

    private static string ReadImageUri(JsonElement data)
    {
        if (!data.TryGetProperty("inputs", out var inputs) || inputs.ValueKind == JsonValueKind.Null)
        {
            throw InferenceProblemException.BadRequest($"input_data.inputs is required, e.g. {Example}.");
        }

        if (inputs.ValueKind != JsonValueKind.Object)
        {
            throw InferenceProblemException.BadRequest(
                $"input_data.inputs must be an object with an \"image\" frame URI ({{\"image\":\"opennvr://frames/<camera>/<file>\"}}), not {InferenceRequest.Describe(inputs)}.");
        }

        if (!inputs.TryGetProperty("image", out var image) || image.ValueKind == JsonValueKind.Null)
        {
            throw InferenceProblemException.BadRequest("input_data.inputs.image is required: an opennvr:// frame URI.");
        }

        if (image.ValueKind != JsonValueKind.String)
        {
            throw InferenceProblemException.BadRequest($"input_data.inputs.image must be a string, not {InferenceRequest.Describe(image)}.");
        }

        var uri = image.GetString()!;
        if (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            // Fetching client-supplied URLs would let any caller make this service request addresses on its own
            // network (cloud metadata, admin pages): only frames the NVR itself published are sent to the cloud.
            throw new InferenceProblemException(StatusCodes.Status400BadRequest, "Invalid frame URI",
                "input_data.inputs.image must be an opennvr://frames/<camera>/<file> frame URI: http(s) image URLs are not fetched by this service, so that a request cannot make it reach addresses on its own network.");
        }

        return uri;
    }

    private static JsonElement? ReadParameters(JsonElement data)
    {
        if (!data.TryGetProperty("parameters", out var parameters) || parameters.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (parameters.ValueKind != JsonValueKind.Object)
        {
            throw InferenceProblemException.BadRequest($"input_data.parameters must be an object, not {InferenceRequest.Describe(parameters)}.");
        }

        return parameters.EnumerateObject().Any() ? parameters : null;
    }
}
