using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Http.Resilience;
using OpenNvr.Contracts.Inference;
using OpenNvr.Core.Apis;

namespace OpenNvr.Core.WebConsole;

/// <summary>
/// The web console: plain HTML, CSS and ES modules in <c>wwwroot</c> (no build step, no CDN), served at <c>/</c>,
/// plus the few routes it needs beyond the public API (live frames, faces proxy, URL test).
/// </summary>
public static class WebConsoleExtensions
{
    /// <summary>Console pages reached by URL (bookmarks, reloads); everything else that is unknown stays a 404 problem.</summary>
    private static readonly string[] ConsoleRoutes =
        ["/login", "/cameras", "/cameras/{id:int}", "/events", "/faces", "/settings", "/settings/{section}", "/account"];

    // Everything is served by Core: the console needs nothing from elsewhere, so the policy can say exactly that.
    private const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; script-src 'self'; style-src 'self'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static void AddWebConsole(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StreamProbe>();

        // A live frame is worthless a second later: fail fast, one quick retry, never half a minute of retries.
        // The client has no base address of its own: each call goes to the replica that holds the camera's lease.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental in this package version.
        builder.Services.AddSingleton<RecorderFrameClient>();
        builder.Services.AddHttpClient(RecorderFrameClient.HttpClientName)
            .AddSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, ServiceKeys.RecorderCore)
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(resilience =>
            {
                resilience.Retry.MaxRetryAttempts = 1;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(100);
                resilience.AttemptTimeout.Timeout = TimeSpan.FromSeconds(2);
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(5);
                resilience.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(5);
            });

        // The faces proxy's Inference client (FacesProxyApi): the console's face registry calls pass through it.
        builder.Services.AddServiceClient<IInferenceApi>(Extensions.Extensions.InferenceUrl(builder.Configuration),
                SharedKeyClientExtensions.InferenceKeyHeader, ServiceKeys.CoreInference)
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(resilience =>
            {
                // Registration runs face detection and embedding on Inference: give it time, and never repeat a write.
                resilience.Retry.MaxRetryAttempts = 1;
                resilience.Retry.DisableForUnsafeHttpMethods();
                resilience.AttemptTimeout.Timeout = TimeSpan.FromSeconds(20);
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(40);
                resilience.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(30);
            });
#pragma warning restore EXTEXP0001
    }

    /// <summary>Static files of the console; call before authentication (the files are public, the data is not).</summary>
    public static WebApplication UseWebConsoleFiles(this WebApplication app)
    {
        app.UseDefaultFiles();
        app.UseStaticFiles(StaticFileOptions());
        return app;
    }

    public static WebApplication MapWebConsole(this WebApplication app)
    {
        app.MapConsoleApi();
        app.MapFacesProxyApi();
        foreach (var route in ConsoleRoutes)
        {
            app.MapFallbackToFile(route, "index.html", StaticFileOptions()).AllowAnonymous();
        }

        return app;
    }

    private static StaticFileOptions StaticFileOptions() => new()
    {
        ContentTypeProvider = new FileExtensionContentTypeProvider { Mappings = { [".mjs"] = "text/javascript" } },
        OnPrepareResponse = context =>
        {
            var headers = context.Context.Response.Headers;
            // Revalidate every time (ETag): an upgraded Core never runs with yesterday's scripts.
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            if (context.File.Name.EndsWith(".html", StringComparison.OrdinalIgnoreCase))
            {
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers["Referrer-Policy"] = "no-referrer";
                headers.XFrameOptions = "DENY";
            }
        },
    };
}
