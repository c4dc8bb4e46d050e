using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// <c>GET /metrics</c>: every meter of the service (the OpenNvr.* meters, ASP.NET Core, HttpClient, runtime) in
/// Prometheus text format, from OpenTelemetry's Prometheus exporter. Protected by a scrape key: the request must carry
/// <c>Authorization: Bearer &lt;Metrics:ScrapeKey&gt;</c> (Prometheus: <c>authorization: credentials: ...</c>); without
/// a configured key the endpoint is closed. The key is compared in constant time on SHA-256 digests, so neither its
/// content nor its length leaks through timing. docs/metrics.md has the scrape configuration and alerting rules.
/// </summary>
public static partial class MetricsEndpointExtensions
{
    public const string MetricsEndpointPath = "/metrics";
    public const string ScrapeKeySetting = "Metrics:ScrapeKey";

    public static WebApplication MapMetricsEndpoint(this WebApplication app)
    {
        var configured = app.Configuration[ScrapeKeySetting];
        var expected = string.IsNullOrEmpty(configured) ? null : Hash(configured);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpenNvr.Metrics");
        app.MapPrometheusScrapingEndpoint(MetricsEndpointPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            var header = context.Request.Headers.Authorization.ToString();
            var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
            string detail;
            if (expected is null)
            {
                detail = $"{ScrapeKeySetting} is not configured on this service, so {MetricsEndpointPath} is closed.";
            }
            else if (string.IsNullOrEmpty(presented))
            {
                detail = $"Send 'Authorization: Bearer <{ScrapeKeySetting}>' to scrape {MetricsEndpointPath}.";
            }
            else if (CryptographicOperations.FixedTimeEquals(Hash(presented), expected))
            {
                await next(context);
                return;
            }
            else
            {
                detail = "The scrape key is not valid.";
            }

            ScrapeRefused(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?");
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = StatusCodes.Status401Unauthorized, Title = "Unauthorized", Detail = detail },
            });
        }), optionsName: null)
            // Not a user's route: the scrape key above is its authentication (Core's fallback policy would refuse it).
            .AllowAnonymous();
        return app;
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    [LoggerMessage(1, LogLevel.Warning, "Refused a scrape of /metrics from {Client}: missing or wrong scrape key")]
    private static partial void ScrapeRefused(ILogger logger, string client);
}
