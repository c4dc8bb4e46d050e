using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Cloud;

/// <summary>
/// A task run by a Hugging Face model: reads <c>input_data</c> (never <c>input</c>), the frame through the same
/// <see cref="IFrameSource"/> as local tasks, sends its bytes to the model and normalises the reply to the contract's
/// shape. Offered only when <c>HuggingFace:Token</c> is set; without it the task stays known, listed as unavailable
/// with <see cref="HuggingFaceOptions.NoTokenReason"/>.
/// </summary>
public abstract class CloudTask(IFrameSource frames, HuggingFaceClient client, IOptionsMonitor<HuggingFaceOptions> options) : IInferenceTask
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract Type ResponseType { get; }

    public bool IsAvailable => options.CurrentValue.IsConfigured;

    public string? UnavailableReason => IsAvailable ? null : HuggingFaceOptions.NoTokenReason;

    public TaskModelInfo ModelInfo => new(DefaultModel(options.CurrentValue), "huggingface", "cloud");

    public async Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var input = CloudInput.Parse(request, DefaultModel(options.CurrentValue), options.CurrentValue);
        var frame = await frames.ReadBytesAsync(input.ImageUri, cancellationToken);
        var reply = await client.InferAsync(input.Model, frame, input.Parameters, cancellationToken);
        try
        {
            return Normalise(request, input.Model, reply);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw HuggingFaceClient.UnexpectedReply(input.Model, $"it does not have the shape of a {Name} result ({ex.Message})");
        }
    }

    /// <summary>The model used when <c>input_data.model_name</c> is absent.</summary>
    protected abstract string DefaultModel(HuggingFaceOptions options);

    /// <summary>Turns the model's JSON into the response; throws <see cref="InvalidOperationException"/> on a shape it cannot read.</summary>
    protected abstract object Normalise(InferenceRequest request, string model, JsonElement reply);

    protected static double Confidence(JsonElement item) => Math.Round(Number(item, "score"), 4);

    protected static double Number(JsonElement item, string name) =>
        item.GetProperty(name) is { ValueKind: JsonValueKind.Number } value && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : throw new InvalidOperationException($"\"{name}\" is not a number");

    protected static string Text(JsonElement item, string name) =>
        item.GetProperty(name) is { ValueKind: JsonValueKind.String } value
            ? value.GetString()!
            : throw new InvalidOperationException($"\"{name}\" is not a string");

    /// <summary>The list of results: a JSON array, or the first array of a batch (<c>[[...]]</c>) that some pipelines return.</summary>
    protected static IEnumerable<JsonElement> Items(JsonElement reply)
    {
        if (reply.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidOperationException($"expected a JSON array, got {InferenceRequest.Describe(reply)}");
        }

        var items = reply.EnumerateArray().ToList();
        return items is [{ ValueKind: JsonValueKind.Array } batch] ? batch.EnumerateArray() : items;
    }
}

/// <summary>Object detection with a Hugging Face model (DETR by default): <c>[{"label","score","box":{...}}]</c> to boxes.</summary>
public abstract class CloudObjectDetectionTask(IFrameSource frames, HuggingFaceClient client, IOptionsMonitor<HuggingFaceOptions> options)
    : CloudTask(frames, client, options)
{
    public override Type ResponseType => typeof(CloudDetectionResponse);

    protected override string DefaultModel(HuggingFaceOptions options) => options.ObjectDetectionModel;

    protected override object Normalise(InferenceRequest request, string model, JsonElement reply)
    {
        var detections = Items(reply)
            .Select(item =>
            {
                var box = item.GetProperty("box");
                var x = (int)Math.Round(Number(box, "xmin"));
                var y = (int)Math.Round(Number(box, "ymin"));
                var width = Math.Max(0, (int)Math.Round(Number(box, "xmax")) - x);
                var height = Math.Max(0, (int)Math.Round(Number(box, "ymax")) - y);
                return new CloudDetection { Label = Text(item, "label"), Confidence = Confidence(item), Bbox = [x, y, width, height] };
            })
            .OrderByDescending(d => d.Confidence)
            .ToList();
        return new CloudDetectionResponse
        {
            Task = Name,
            ModelId = model,
            Count = detections.Count,
            Detections = detections,
            ExecutedAt = request.ExecutedAtUnixMs,
            LatencyMs = request.ElapsedMilliseconds,
        };
    }
}

public sealed class DetrObjectDetectionTask(IFrameSource frames, HuggingFaceClient client, IOptionsMonitor<HuggingFaceOptions> options)
    : CloudObjectDetectionTask(frames, client, options)
{
    public override string Name => "object_detection_detr";

    public override string Description => "Objects found by a Hugging Face detection model (DETR by default; input_data.model_name picks another): label, confidence and [x, y, width, height] box.";
}

/// <summary>The Hugging Face pipeline name for the same thing as <see cref="DetrObjectDetectionTask"/>.</summary>
public sealed class HuggingFaceObjectDetectionTask(IFrameSource frames, HuggingFaceClient client, IOptionsMonitor<HuggingFaceOptions> options)
    : CloudObjectDetectionTask(frames, client, options)
{
    public override string Name => "object-detection";

    public override string Description => "Same as object_detection_detr, under the Hugging Face pipeline name: objects found by a Hugging Face detection model.";
}

public sealed class ImageClassificationTask(IFrameSource frames, HuggingFaceClient client, IOptionsMonitor<HuggingFaceOptions> options)
    : CloudTask(frames, client, options)
{
    public override string Name => "image-classification";

    public override string Description => "Labels of the whole frame from a Hugging Face image-classification model, highest confidence first.";

    public override Type ResponseType => typeof(CloudClassificationResponse);

    protected override string DefaultModel(HuggingFaceOptions options) => options.ImageClassificationModel;

    protected override object Normalise(InferenceRequest request, string model, JsonElement reply) =>
        new CloudClassificationResponse
        {
            Task = Name,
            ModelId = model,
            Labels = [.. Items(reply)
                .Select(item => new CloudLabel { Label = Text(item, "label"), Confidence = Confidence(item) })
                .OrderByDescending(l => l.Confidence)],
            ExecutedAt = request.ExecutedAtUnixMs,
            LatencyMs = request.ElapsedMilliseconds,
        };
}

public sealed class ImageToTextTask(IFrameSource frames, HuggingFaceClient client, IOptionsMonitor<HuggingFaceOptions> options)
    : CloudTask(frames, client, options)
{
    public override string Name => "image-to-text";

    public override string Description => "A caption of the frame generated by a Hugging Face image-to-text model.";

    public override Type ResponseType => typeof(CloudImageToTextResponse);

    protected override string DefaultModel(HuggingFaceOptions options) => options.ImageToTextModel;

    protected override object Normalise(InferenceRequest request, string model, JsonElement reply)
    {
        // [{"generated_text": "..."}] from the pipeline; a bare object from some deployments.
        var first = reply.ValueKind == JsonValueKind.Object
            ? reply
            : Items(reply).FirstOrDefault() is { ValueKind: JsonValueKind.Object } item
                ? item
                : throw new InvalidOperationException("expected [{\"generated_text\": ...}]");
        return new CloudImageToTextResponse
        {
            Task = Name,
            ModelId = model,
            Text = Text(first, "generated_text"),
            ExecutedAt = request.ExecutedAtUnixMs,
            LatencyMs = request.ElapsedMilliseconds,
        };
    }
}
