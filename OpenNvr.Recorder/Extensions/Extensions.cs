using Microsoft.Extensions.Http.Resilience;
using Polly;
using Microsoft.Extensions.Options;
using OpenNvr.Contracts.Inference;
using OpenNvr.Recorder.Analytics;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Leases;
using OpenNvr.Recorder.Live;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Retention;
using OpenNvr.Recorder.Upload;

namespace OpenNvr.Recorder.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<RecorderOptions>(RecorderOptions.Section);
        builder.Services.AddValidatedOptions<FramePublishingOptions>(FramePublishingOptions.Section);

        builder.Services.AddSingleton(sp => new ChunkOutbox(sp.GetRequiredService<RecorderIdentity>().StateDirectory));
        builder.Services.AddSingleton(sp => new ChildProcesses(sp.GetRequiredService<IOptions<RecorderOptions>>().Value.ResolveRecordingsRoot()));
        builder.Services.AddSingleton(sp => new FramePublisher(sp.GetRequiredService<IOptions<FramePublishingOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<IFramePublisher>(sp => sp.GetRequiredService<FramePublisher>());
        builder.Services.AddSingleton<RecorderIdentity>();
        builder.Services.AddSingleton<RecordingCoordinator>();
        AddHosted<CameraStateReporter>(builder.Services);
        AddHosted<ChunkReconciler>(builder.Services);
        AddHosted<RegistrationSender>(builder.Services);
        builder.AddRecordingUploads(); // between the sender and the heartbeat: see its summary
        AddHosted<HeartbeatService>(builder.Services);
        AddHosted<RetentionService>(builder.Services);

#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental in Microsoft.Extensions.Http.Resilience 10
        builder.Services.AddServiceClient<ICoreInternalApi>(ICoreInternalApi.BaseUrl,
                SharedKeyEndpointExtensions.InternalKeyHeader, ServiceKeys.RecorderCore)
            .ConfigureHttpClient(http => http.Timeout = TimeSpan.FromSeconds(15))
            // The outbox, the heartbeat loop and the state reporter retry on their own terms (in order, forever);
            // the default handler's retries and circuit breaker would only delay them after Core comes back.
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddSingleton<CoreClient>();
        builder.AddAnalytics();
        builder.AddLive();
    }

    /// <summary>The AI pipeline (Analytics/): Inference client, event outbox and sender, the pipeline itself.</summary>
    private static void AddAnalytics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AnalyticsOptions>(RecorderOptions.Section);
        var analytics = builder.Configuration.GetSection(RecorderOptions.Section).Get<AnalyticsOptions>() ?? new AnalyticsOptions();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental in Microsoft.Extensions.Http.Resilience 10
        builder.Services.AddServiceClient<IInferenceApi>(analytics.InferenceUrl,
                SharedKeyClientExtensions.InferenceKeyHeader, ServiceKeys.RecorderInference)
            .ConfigureHttpClient(http => http.Timeout = analytics.InferenceTimeout + TimeSpan.FromSeconds(1))
            // No retries: a frame is worth something now or never, the next one is due in a moment. A short timeout
            // and a circuit breaker make a dead or stuck Inference cost one fast failure per frame.
            .RemoveAllResilienceHandlers()
            .AddResilienceHandler("inference", pipeline => pipeline
                .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                {
                    FailureRatio = 0.5,
                    MinimumThroughput = 4,
                    SamplingDuration = TimeSpan.FromSeconds(10),
                    BreakDuration = analytics.InferenceBreak,
                })
                .AddTimeout(analytics.InferenceTimeout));
#pragma warning restore EXTEXP0001
        builder.Services.AddSingleton<InferenceClient>();
        builder.Services.AddSingleton(sp => new EventOutbox(Path.Combine(sp.GetRequiredService<RecorderIdentity>().StateDirectory, "events"),
            sp.GetRequiredService<IOptions<AnalyticsOptions>>().Value.EventOutboxMaxBytes));
        AddHosted<EventSender>(builder.Services);
        builder.Services.AddSingleton(sp => new OccupancyOutbox(Path.Combine(sp.GetRequiredService<RecorderIdentity>().StateDirectory, "occupancy"),
            sp.GetRequiredService<IOptions<AnalyticsOptions>>().Value.EventOutboxMaxBytes / 4));
        AddHosted<OccupancySender>(builder.Services);
        builder.Services.AddValidatedOptions<TrackerOptions>(TrackerOptions.Section);
        AddHosted<AnalyticsPipeline>(builder.Services);
    }

    /// <summary>A hosted service that is also injectable (tests and other services reach the same instance).</summary>
    private static void AddHosted<T>(IServiceCollection services) where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => sp.GetRequiredService<T>());
    }
}
