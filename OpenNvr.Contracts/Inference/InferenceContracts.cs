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
}

/// <summary>A frame named by URI, as <c>/infer</c>'s <c>input.frame</c> and <c>/faces/register</c>'s <c>frame</c> take it.</summary>
public sealed record FrameInput(string Uri);

/// <summary><c>GET /capabilities</c> (open, like <c>/health</c>): the tasks this Inference offers.</summary>
public sealed record CapabilitiesResponse(IReadOnlyList<string> Tasks);
