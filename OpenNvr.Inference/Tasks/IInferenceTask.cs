namespace OpenNvr.Inference.Tasks;

/// <summary>
/// A task plugin: one name a client can put in <c>POST /infer</c>'s <c>task</c> field.
/// </summary>
/// <remarks>
/// <para>How to add a task: implement this interface in a class (constructor-inject what it needs: <see cref="Frames.IFrameSource"/>
/// for frame URIs, <see cref="Models.OnnxModelRegistry"/> for ONNX sessions, options, loggers) and register it with
/// <c>services.AddInferenceTask&lt;TTask&gt;()</c>. Tasks are singletons, built at start-up (so their models load
/// then, not on the first request) and called concurrently: keep per-call state on the stack or in pooled buffers.</para>
/// <para>The response is any plain class with <c>required</c> init properties, serialised snake_case
/// (<see cref="InferenceJson.Options"/>); <c>GET /schema</c> is generated from <see cref="ResponseType"/>, so return
/// exactly that type. Stamp <c>latency_ms</c> with <see cref="InferenceRequest.ElapsedMilliseconds"/> and
/// <c>executed_at</c> with <see cref="InferenceRequest.ExecutedAtUnixMs"/> where the contract has them.</para>
/// <para>Bad input (missing field, unreadable frame, threshold out of range) is an <see cref="InferenceProblemException"/>
/// with a 4xx status: the endpoint turns it into RFC 7807 problem JSON. Anything else thrown is a 500 and a bug.</para>
/// </remarks>
public interface IInferenceTask
{
    /// <summary>The wire name, e.g. <c>person_counting</c>; unique among registered tasks (ordinal).</summary>
    string Name { get; }

    /// <summary>One sentence for <c>GET /tasks</c>.</summary>
    string Description { get; }

    /// <summary>The CLR type of the object <see cref="RunAsync"/> returns; its JSON Schema is the task's schema.</summary>
    Type ResponseType { get; }

    /// <summary>
    /// False when the task cannot run here (its model file is missing or failed to load, a cloud token is not
    /// configured): the task is then not listed by <c>/capabilities</c>. Without an <see cref="UnavailableReason"/> it
    /// is not listed anywhere and <c>/infer</c> treats it as unknown.
    /// </summary>
    bool IsAvailable { get; }

    /// <summary>
    /// For a task that is not available for a reason the operator can fix (a cloud token not configured): what is
    /// missing and how to set it. Such a task stays known: <c>/tasks</c> lists it as unavailable with this reason, and
    /// <c>/infer</c> answers 503 with it instead of "Unknown task". Null otherwise.
    /// </summary>
    string? UnavailableReason => null;

    /// <summary>Model metadata for <c>GET /tasks</c>; several models may be named in <see cref="TaskModelInfo.Model"/>.</summary>
    TaskModelInfo ModelInfo { get; }

    /// <summary>Runs the task. The returned object must be an instance of <see cref="ResponseType"/>.</summary>
    Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken);
}

/// <summary><c>model_info</c> of <c>GET /tasks</c>: which model, on which framework, on which device.</summary>
/// <param name="Model">Model file name(s), e.g. <c>centernet.onnx</c> or <c>fr_detect.onnx+fr_feature.onnx</c>, or a cloud model id.</param>
/// <param name="Framework">e.g. <c>onnxruntime</c> or <c>huggingface</c>.</param>
/// <param name="Device">e.g. <c>cpu</c>, <c>cuda:0</c>, or <c>cloud</c>.</param>
public sealed record TaskModelInfo(string Model, string Framework, string Device);
