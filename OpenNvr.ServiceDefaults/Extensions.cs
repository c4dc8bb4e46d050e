using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every OpenNVR service shares: OpenTelemetry, health checks, service discovery, HTTP resilience and
/// RFC 7807 problem responses. Each service calls <see cref="AddServiceDefaults{TBuilder}"/> once.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>Every OpenNVR activity source and meter starts with this prefix, so one wildcard collects them all.</summary>
    public const string TelemetryPrefix = "OpenNvr.";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // The one clock of the service: code asks for TimeProvider (never DateTime.UtcNow), so tests can replace it.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix + "*")
                // GET /metrics (MetricsEndpointExtensions): the same meters for Prometheus, beside OTLP.
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(TelemetryPrefix + "*")
                .AddAspNetCoreInstrumentation(aspnet =>
                    // Probes every few seconds would drown the traces of real work.
                    aspnet.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    /// <summary>
    /// <c>/health</c>: every check (readiness), JSON <c>{"status":"ok",...}</c> as OpenNVR clients expect, 503 when
    /// unhealthy. <c>/alive</c>: liveness only. Both are always mapped: orchestrators probe them in production too.
    /// <c>/metrics</c>: Prometheus, behind the scrape key (<see cref="MetricsEndpointExtensions"/>).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Uptime counts from here: the endpoints are mapped once, just before the service starts serving.
        var clock = app.Services.GetRequiredService<TimeProvider>();
        var started = clock.GetTimestamp();
        Task Write(HttpContext context, HealthReport report) => WriteHealthJson(context, report, clock.GetElapsedTime(started));
        // Probes are anonymous by design (orchestrators send no credentials); the details are gated in the writer.
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = Write }).AllowAnonymous();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("live"),
            ResponseWriter = Write,
        }).AllowAnonymous();
        app.MapMetricsEndpoint();
        return app;
    }

    /// <summary>Exceptions and bare error status codes become RFC 7807 problem responses.</summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath) ||
        path.StartsWithSegments(MetricsEndpointExtensions.MetricsEndpointPath);

    private static Task WriteHealthJson(HttpContext context, HealthReport report, TimeSpan uptime)
    {
        context.Response.ContentType = "application/json";
        var status = report.Status switch
        {
            HealthStatus.Healthy => "ok",
            HealthStatus.Degraded => "degraded",
            _ => "unhealthy",
        };
        var body = new
        {
            status,
            service = context.RequestServices.GetService(typeof(IHostEnvironment)) is IHostEnvironment env ? env.ApplicationName : null,
            uptime_s = Math.Round(uptime.TotalSeconds, 1),
            // Per-check details (paths, models, dependencies) only for the internal network or whom the service trusts.
            checks = HealthDetails.MayRead(context)
                ? report.Entries.ToDictionary(
                    e => e.Key,
                    e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description, data = e.Value.Data })
                : null,
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
}
