using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using OpenNvr.Contracts;
using Refit;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The client side of <see cref="SharedKeyEndpointExtensions"/>: every service-to-service client is a Refit client
/// whose requests carry the service's shared key, added by one <see cref="SharedKeyHandler"/>. The key is read from
/// configuration when the handler is built, never logged: the header's value is redacted from HttpClient's logs.
/// </summary>
public static class SharedKeyClientExtensions
{
    /// <summary>The header of calls to Inference (its callers' keys: <see cref="ServiceKeys"/>).</summary>
    public const string InferenceKeyHeader = "X-API-Key";

    /// <summary>
    /// A Refit client of <typeparamref name="TApi"/> over service discovery at <paramref name="baseUrl"/>, with the
    /// contracts' JSON, the key of <paramref name="setting"/> in <paramref name="header"/> and, from the service
    /// defaults, the standard resilience handler. Callers whose calls need other resilience say so where they call this.
    /// </summary>
    public static IHttpClientBuilder AddServiceClient<TApi>(this IServiceCollection services, string baseUrl, string header, string setting)
        where TApi : class =>
        services.AddRefitGeneratedClient<TApi>(ContractJson.RefitSettings())
            .ConfigureHttpClient(http => http.BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"))
            .AddSharedKey(header, setting);

    /// <summary>Adds <paramref name="header"/> with the value of the setting <paramref name="setting"/> (when set) to every request.</summary>
    public static IHttpClientBuilder AddSharedKey(this IHttpClientBuilder builder, string header, string setting) =>
        builder.AddHttpMessageHandler(services => new SharedKeyHandler(header, services.GetRequiredService<IConfiguration>()[setting]))
            .RedactLoggedHeaders([header]);

    /// <summary>
    /// A Refit client of <typeparamref name="TApi"/> on the named HttpClient <paramref name="clientName"/> (its handlers:
    /// key, resilience) but at <paramref name="baseAddress"/>, for calls whose target is known per request (Core reads a
    /// camera's frame from the Recorder replica that holds its lease), or for a second client of one API whose calls
    /// need other handlers (no base address: the named client's own).
    /// </summary>
    public static TApi ClientAt<TApi>(this IHttpClientFactory clients, string clientName, Uri? baseAddress = null)
    {
        var http = clients.CreateClient(clientName);
        http.BaseAddress = baseAddress ?? http.BaseAddress;
        return RestService.ForGenerated<TApi>(http, ContractJson.RefitSettings());
    }
}

/// <summary>Adds a shared key header to each request that does not carry one (no key configured: the request goes without).</summary>
public sealed class SharedKeyHandler(string header, string? key) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(key) && !request.Headers.Contains(header))
        {
            request.Headers.TryAddWithoutValidation(header, key);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
