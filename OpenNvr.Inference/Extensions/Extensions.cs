using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using OpenNvr.Contracts.Internal;
using OpenNvr.Inference.Apis;
using OpenNvr.Inference.Cloud;
using OpenNvr.Inference.Detection;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<InferenceDbContext>("inferencedb");
        builder.Services.AddMigration<InferenceDbContext>();

        var services = builder.Services;
        services.ConfigureHttpJsonOptions(options => InferenceJson.Configure(options.SerializerOptions));
        services.AddValidatedOptions<InferenceOptions>(InferenceOptions.Section);
        services.AddValidatedOptions<FrameSourceOptions>(FrameSourceOptions.Section);
        services.AddValidatedOptions<ModelsOptions>(ModelsOptions.Section);
        services.AddValidatedOptions<DetectorOptions>(DetectorOptions.Section);

        services.AddSingleton<InferenceTelemetry>();
        services.AddSingleton<OnnxModelRegistry>();
        services.AddSingleton<IFrameSource, FrameResolver>();
        // input.options.annotate: the boxes drawn on the frame, stored beside it (locally, or on the Recorder by PUT).
        services.AddSingleton<Annotation.FrameAnnotator>();
        services.AddTransient<RecorderAnnotatedFrameWriter>();
        services.AddRecorderFrameClient();

        services.AddSingleton(ObjectDetectorFactory.Create);
        services.AddInferenceTask<PersonDetectionTask>();
        services.AddInferenceTask<PersonCountingTask>();
        services.AddInferenceTask<ObjectDetectionTask>();
        builder.AddHuggingFaceRouting();
        builder.AddFaceAnalytics();

        services.AddSingleton<TaskRegistry>();
        // Builds the registry, hence every task and model, before the first request is accepted.
        services.AddHostedService<ModelWarmUp>();
        services.AddHealthChecks().AddCheck<ModelsHealthCheck>("models");
    }

    public static WebApplication MapApplicationEndpoints(this WebApplication app)
    {
        app.MapInferenceApi();
        app.MapFaceAnalytics();
        return app;
    }

    private static void AddRecorderFrameClient(this IServiceCollection services)
    {
        // Frames are small and a stale frame is worthless: fail fast rather than retry for half a minute.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental in this package version.
        services.AddTransient<RecorderFrameClient>();
        services.AddSingleton<CameraHolders>();
        services.AddServiceClient<IRecorderFramesApi>(IRecorderFramesApi.BaseUrl,
                SharedKeyEndpointExtensions.InternalKeyHeader, ServiceKeys.RecorderInference)
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(FailFast);
        // The Recorder that holds a camera, by the address Core knows from its heartbeat: one circuit per Recorder.
        services.AddHttpClient(RecorderFrameClient.ByLeaseClientName)
            .AddSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, ServiceKeys.RecorderInference)
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(FailFast)
            .SelectPipelineByAuthority();
        // Core's lease table says which Recorder holds a camera (CameraHolders); Inference shows Core the key of their pair.
        services.AddServiceClient<ICoreInternalApi>(ICoreInternalApi.BaseUrl,
                SharedKeyEndpointExtensions.InternalKeyHeader, ServiceKeys.CoreInference)
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler(FailFast);
#pragma warning restore EXTEXP0001

        static void FailFast(HttpStandardResilienceOptions resilience)
        {
            resilience.Retry.MaxRetryAttempts = 1;
            resilience.Retry.Delay = TimeSpan.FromMilliseconds(200);
            resilience.AttemptTimeout.Timeout = TimeSpan.FromSeconds(5);
            resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(10);
            resilience.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(10);
        }
    }

    private sealed class ModelWarmUp(TaskRegistry registry) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.FromResult(registry.Names);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Healthy with at least one task; degraded (still 200) with none, so an operator sees a missing model.</summary>
    private sealed class ModelsHealthCheck(TaskRegistry tasks, OnnxModelRegistry models) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var data = new Dictionary<string, object>
            {
                ["tasks"] = tasks.Names,
                ["models_loaded"] = models.Loaded.Select(m => $"{m.Name} ({m.Device})").ToArray(),
                ["models_root"] = models.Root,
            };
            return Task.FromResult(tasks.Names.Count > 0
                ? HealthCheckResult.Healthy($"{tasks.Names.Count} tasks available", data)
                : HealthCheckResult.Degraded("No inference task is available: no model loaded", data: data));
        }
    }
}
