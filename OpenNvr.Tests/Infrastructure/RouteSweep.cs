using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>One route of a running app: its method, its pattern as written, and a URL that matches it.</summary>
public sealed record SweptRoute(string Method, string Pattern, string Url)
{
    public string Key => $"{Method} {Pattern}";

    public bool ChangesState => Method is "POST" or "PUT" or "PATCH" or "DELETE";

    public HttpRequestMessage Request()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Url);
        if (Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }

        return request;
    }
}

/// <summary>
/// Every route of a running app, read from its <see cref="EndpointDataSource"/> (never a hand-kept list), so that
/// a route added by anyone later is swept too.
/// </summary>
public static partial class RouteSweep
{
    public static IReadOnlyList<SweptRoute> Routes(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint =>
            {
                var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
                var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } declared ? declared : ["GET"];
                return methods.Select(method => new SweptRoute(method, pattern, SampleUrl(pattern)));
            })
            .DistinctBy(r => r.Key)
            .OrderBy(r => r.Pattern, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal)
            .ToList();

    /// <summary>Fills each route parameter with a value its constraint accepts (numbers for int/long, else a word).</summary>
    public static string SampleUrl(string pattern) =>
        Parameter().Replace(pattern, match =>
            match.Groups["constraint"].Value is var constraint && (constraint.Contains("int") || constraint.Contains("long")) ? "1" : "x");

    [GeneratedRegex(@"\{\**(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<constraint>(:[^}]+)?)\??\}")]
    private static partial Regex Parameter();
}
