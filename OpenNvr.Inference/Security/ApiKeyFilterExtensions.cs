namespace OpenNvr.Inference.Security;

public static class ApiKeyFilterExtensions
{
    public const string HeaderName = "X-API-Key";

    /// <summary>
    /// Requires <c>X-API-Key</c> on these endpoints when <c>Inference:ApiKey</c> is set (use it for every route you add,
    /// face routes too); without a configured key the routes are open, as in the original OpenNVR adapter.
    /// </summary>
    public static TBuilder RequireInferenceApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireSharedKey(HeaderName, "Inference:ApiKey", openWhenUnset: true);
}
