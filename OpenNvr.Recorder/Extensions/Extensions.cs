using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Leases;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Retention;

namespace OpenNvr.Recorder.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RecorderOptions>(builder.Configuration.GetSection(RecorderOptions.Section));
        builder.Services.Configure<FramesOptions>(builder.Configuration.GetSection(FramesOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Services.AddSingleton(sp => new ChunkOutbox(sp.GetRequiredService<RecorderIdentity>().StateDirectory));
        builder.Services.AddSingleton(sp => new ChildProcesses(sp.GetRequiredService<IOptions<RecorderOptions>>().Value.ResolveRecordingsRoot()));
        builder.Services.AddSingleton(sp => new FramePublisher(sp.GetRequiredService<IOptions<FramesOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<IFramePublisher>(sp => sp.GetRequiredService<FramePublisher>());
        builder.Services.AddSingleton<RecorderIdentity>();
        builder.Services.AddSingleton<RecordingCoordinator>();
        AddHosted<CameraStateReporter>(builder.Services);
        AddHosted<ChunkReconciler>(builder.Services);
        AddHosted<RegistrationSender>(builder.Services);
        AddHosted<HeartbeatService>(builder.Services);
        AddHosted<RetentionService>(builder.Services);

        var internalKey = builder.Configuration["Internal:ApiKey"];
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental in Microsoft.Extensions.Http.Resilience 10
        builder.Services.AddHttpClient(CoreClient.HttpClientName, http =>
            {
                http.BaseAddress = new Uri("http://core");
                http.Timeout = TimeSpan.FromSeconds(15);
                if (!string.IsNullOrEmpty(internalKey))
                {
                    http.DefaultRequestHeaders.Add(CoreClient.KeyHeader, internalKey);
                }
            })
            // The outbox, the heartbeat loop and the state reporter retry on their own terms (in order, forever);
            // the default handler's retries and circuit breaker would only delay them after Core comes back.
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddSingleton(sp => new CoreClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient(CoreClient.HttpClientName)));
    }

    /// <summary>A hosted service that is also injectable (tests and other services reach the same instance).</summary>
    private static void AddHosted<T>(IServiceCollection services) where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => sp.GetRequiredService<T>());
    }
}
