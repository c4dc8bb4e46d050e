using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// A shared secret in a request header (<see cref="ServiceKeys"/>): an endpoint names the header and the settings
/// whose keys it accepts. The check runs in <see cref="UseSharedKeys"/>, after routing and before the endpoint binds
/// its parameters, so a request without the right key is a 401 problem even when its body is malformed (never a 400
/// that tells an unauthenticated caller about the route). An endpoint filter repeats the check for a pipeline that
/// forgot the middleware. Keys are hashed before a constant-time comparison, so neither a key's content nor its
/// length leaks through timing. Without any configured key the routes are closed, except in Development for routes
/// that allow it (a developer's own machine without the app host).
/// </summary>
public static partial class SharedKeyEndpointExtensions
{
    public const string InternalKeyHeader = "X-Internal-Key";

    private static readonly object Checked = new();

    /// <summary>Core's internal routes: only the Recorder's key, and closed without one, in every environment.</summary>
    public static TBuilder RequireInternalKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireSharedKey(InternalKeyHeader, openInDevelopmentWhenUnset: false, ServiceKeys.RecorderCore);

    /// <summary>
    /// Requires <paramref name="header"/> to carry the key of one of <paramref name="settings"/> (read per request, so a
    /// rotated key applies at once). Refusals are 401 problems that name the header, never a key.
    /// </summary>
    public static TBuilder RequireSharedKey<TBuilder>(this TBuilder builder, string header, bool openInDevelopmentWhenUnset, params string[] settings)
        where TBuilder : IEndpointConventionBuilder
    {
        var requirement = new SharedKeyRequirement(header, settings, openInDevelopmentWhenUnset);
        return builder.WithMetadata(requirement).AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!http.Items.ContainsKey(Checked) && Refusal(http, requirement) is { } refusal)
            {
                return refusal;
            }

            return await next(context);
        });
    }

    /// <summary>Checks the key of every endpoint that requires one before its parameters are bound (call after routing).</summary>
    public static WebApplication UseSharedKeys(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<SharedKeyRequirement>() is { } requirement)
            {
                if (Refusal(context, requirement) is { } refusal)
                {
                    await refusal.ExecuteAsync(context);
                    return;
                }

                context.Items[Checked] = true;
            }

            await next(context);
        });
        return app;
    }

    private static IResult? Refusal(HttpContext context, SharedKeyRequirement requirement)
    {
        var services = context.RequestServices;
        var configuration = services.GetRequiredService<IConfiguration>();
        var expected = requirement.Settings.Select(s => configuration[s]).Where(k => !string.IsNullOrEmpty(k)).Select(k => Hash(k!)).ToList();
        if (expected.Count == 0 && requirement.OpenInDevelopmentWhenUnset && services.GetRequiredService<IHostEnvironment>().IsDevelopment())
        {
            return null;
        }

        var presented = context.Request.Headers[requirement.Header].ToString();
        string detail;
        if (expected.Count == 0)
        {
            detail = $"No key for {requirement.Header} is configured on this service ({string.Join(" or ", requirement.Settings)}), so these routes are closed.";
        }
        else if (presented.Length == 0)
        {
            detail = $"The {requirement.Header} header is required.";
        }
        else
        {
            var hash = Hash(presented);
            // Compare with every accepted key (no early exit), so the time taken does not say which one matched.
            var matched = false;
            foreach (var key in expected)
            {
                matched |= CryptographicOperations.FixedTimeEquals(hash, key);
            }

            if (matched)
            {
                return null;
            }

            detail = $"The {requirement.Header} header is not valid.";
        }

        KeyRejected(services.GetRequiredService<ILoggerFactory>().CreateLogger("OpenNvr.SharedKey"), requirement.Header, context.Request.Path);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    [LoggerMessage(1, LogLevel.Warning, "Refused a call to {Path}: missing or wrong {Header}")]
    private static partial void KeyRejected(ILogger logger, string header, string path);
}

/// <summary>
/// Endpoint metadata: the endpoint wants <paramref name="Header"/> to carry the key of one of <paramref name="Settings"/>;
/// the OpenAPI document declares it.
/// </summary>
public sealed record SharedKeyRequirement(string Header, IReadOnlyList<string> Settings, bool OpenInDevelopmentWhenUnset);
