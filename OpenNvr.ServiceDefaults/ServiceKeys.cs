namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The service-to-service credentials: one generated key per pair of services that talk to each other, so that each
/// service holds, and accepts, only the keys of the services it deals with (app host parameters in brackets).
/// <list type="bullet">
/// <item><see cref="RecorderCore"/> (<c>recorder-core-key</c>): the Recorder calls Core's internal API; Core reads
/// live frames from the Recorder.</item>
/// <item><see cref="RecorderInference"/> (<c>recorder-inference-key</c>): the Recorder calls Inference; Inference reads
/// frames from the Recorder.</item>
/// <item><see cref="CoreInference"/> (<c>core-inference-key</c>): Core calls Inference (faces, task catalogue).</item>
/// </list>
/// A key is sent in <see cref="SharedKeyEndpointExtensions.InternalKeyHeader"/> to Core and the Recorder, in
/// <see cref="SharedKeyClientExtensions.InferenceKeyHeader"/> to Inference (which also accepts its external clients'
/// <c>Inference:ApiKey</c>).
/// </summary>
public static class ServiceKeys
{
    public const string RecorderCore = "ServiceKeys:RecorderCore";
    public const string RecorderInference = "ServiceKeys:RecorderInference";
    public const string CoreInference = "ServiceKeys:CoreInference";

    /// <summary>Inference's key for clients outside OpenNVR (API.md: <c>X-API-Key</c>, app host <c>inference-api-key</c>).</summary>
    public const string InferenceClients = "Inference:ApiKey";
}
