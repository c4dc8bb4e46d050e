using System.Text.Json;

namespace OpenNvr.Contracts.Inference;

/// <summary>
/// <c>POST /infer</c>: local tasks read <c>input</c> (<c>{"frame":{"uri":"opennvr://frames/&lt;camera&gt;/&lt;file&gt;"}}</c>),
/// the Hugging Face route's tasks read <c>input_data</c> (<c>{"inputs":{"image":"..."}}</c>).
/// </summary>
public sealed record InferRequest(string Task, JsonElement? Input = null, JsonElement? InputData = null)
{
    /// <summary>Tasks that run on the Hugging Face route and take <c>input_data</c> rather than <c>input</c>.</summary>
    public static readonly IReadOnlySet<string> CloudTasks =
        new HashSet<string>(StringComparer.Ordinal) { "object_detection_detr", "object-detection", "image-classification", "image-to-text" };

    /// <summary>The request that analyses one frame with <paramref name="task"/>, in the form that task reads.</summary>
    public static InferRequest ForFrame(string task, string frameUri) => CloudTasks.Contains(task)
        ? new InferRequest(task, InputData: JsonSerializer.SerializeToElement(new { inputs = new { image = frameUri } }))
        : new InferRequest(task, Input: JsonSerializer.SerializeToElement(new { frame = new FrameInput(frameUri) }, ContractJson.Options));

    /// <summary>
    /// The request that runs a face task (<c>face_recognition</c>, <c>watchlist_check</c>) on one part of a frame only:
    /// <c>input.region</c> <c>[x1, y1, x2, y2]</c> in frame pixels (the answer's boxes stay in frame pixels).
    /// </summary>
    public static InferRequest ForFaceRegion(string task, string frameUri, FrameRegion region) =>
        new(task, Input: JsonSerializer.SerializeToElement(new FaceRegionInput(new FrameInput(frameUri), region.ToArray()), ContractJson.Options));

    private sealed record FaceRegionInput(FrameInput Frame, double[] Region);
}

/// <summary>A part of a frame in pixels, corners <c>[x1, y1, x2, y2]</c> (<c>input.region</c> of the face tasks).</summary>
public readonly record struct FrameRegion(double X1, double Y1, double X2, double Y2)
{
    public double[] ToArray() => [Math.Round(X1, 1), Math.Round(Y1, 1), Math.Round(X2, 1), Math.Round(Y2, 1)];
}

/// <summary>A frame named by URI, as <c>/infer</c>'s <c>input.frame</c> and <c>/faces/register</c>'s <c>frame</c> take it.</summary>
public sealed record FrameInput(string Uri);

/// <summary><c>GET /capabilities</c> (open, like <c>/health</c>): the tasks this Inference offers.</summary>
public sealed record CapabilitiesResponse(IReadOnlyList<string> Tasks);
