namespace OpenNvr.Inference.Security;

public static class ApiKeyFilterExtensions
{
    public const string HeaderName = "X-API-Key";

    /// <summary>
    /// Requires <c>X-API-Key</c> on these endpoints (use it for every route you add, face routes too): the Recorder's
    /// key, Core's key or the external clients' <c>Inference:ApiKey</c>. Without any configured key the routes are
    /// open in Development only (as in the original OpenNVR adapter on a developer's machine), closed elsewhere.
    /// </summary>
    public static TBuilder RequireInferenceApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireSharedKey(HeaderName, openInDevelopmentWhenUnset: true,
            ServiceKeys.RecorderInference, ServiceKeys.CoreInference, ServiceKeys.InferenceClients);
}
