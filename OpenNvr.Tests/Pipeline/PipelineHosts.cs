using Microsoft.AspNetCore.Builder;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Recorder.Analytics;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Pipeline;

/// <summary>
/// Core, Inference and the Recorder hosted in this process, talking real HTTP as in production: Core on Kestrel over
/// its own PostgreSQL database, Inference on Kestrel (real models, the Recorder's frames folder, an API key) at a
/// fixed port so that it can go away and come back, the Recorder (TestServer) finding both by service discovery.
/// Every Activity of the process is recorded (the three hosts share it), and Inference's requests are counted by a
/// MetricCollector bound to the current Inference host's meter factory.
/// </summary>
public class PipelineHosts : IAsyncLifetime
{
    public const string InferenceKey = "pipeline-test-inference-key";

    private readonly ActivityListener _listener;
    private WebApplicationFactory<InferenceDbContext>? _inference;
    private string _inferenceDb = "";
    private volatile MetricCollector<double>? _inferenceDurations;
    private long _requestsOfEarlierHosts;

    public PipelineHosts()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => Activities.Add(a),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public CoreServer Core { get; private set; } = null!;

    public RecorderInstance Recorder { get; private set; } = null!;

    public int InferencePort { get; } = FreePort.Tcp();

    public string InferenceUrl => $"http://127.0.0.1:{InferencePort}";

    public ConcurrentBag<Activity> Activities { get; } = [];

    /// <summary>Tasks answered by this fixture's Inference hosts (their <c>stage=total</c> samples).</summary>
    public long InferenceRequests => Interlocked.Read(ref _requestsOfEarlierHosts) + RequestsOf(_inferenceDurations);

    public AnalyticsPipeline Pipeline => Recorder.Services.GetRequiredService<AnalyticsPipeline>();

    public EventOutbox EventOutbox => Recorder.Services.GetRequiredService<EventOutbox>();

    /// <summary>Core settings of a derived fixture (a broker to publish to, a scrape key), asked for before Core starts.</summary>
    protected virtual Task<IReadOnlyDictionary<string, string>> MoreCoreSettingsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    public virtual async Task InitializeAsync()
    {
        _inferenceDb = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("pipe_inference");
        var recordings = TestTemp.NewFolder("pipe-rec");
        var coreSettings = new Dictionary<string, string>
        {
            ["Recorder:RecordingsRoot"] = recordings,
            ["services:inference:http:0"] = InferenceUrl,
            [ServiceKeys.CoreInference] = InferenceKey,
        };
        foreach (var (key, value) in await MoreCoreSettingsAsync())
        {
            coreSettings[key] = value;
        }

        Core = await CoreServer.StartAsync(extraSettings: coreSettings);
        Recorder = RecorderInstance.Start(Core, recordings, new Dictionary<string, string>
        {
            ["services:inference:http:0"] = InferenceUrl,
            [ServiceKeys.RecorderInference] = InferenceKey,
            ["Recorder:FrameRate"] = "2",
            ["Recorder:ChunkSeconds"] = "4",
            ["Recorder:InferenceBreakSeconds"] = "2",
        });
        await StartInferenceAsync();
    }

    /// <summary>Starts Inference (again) on its fixed port.</summary>
    public async Task StartInferenceAsync()
    {
        var factory = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:inferencedb", _inferenceDb);
            host.UseSetting("Frames:Root", Recorder.FramesRoot);
            host.UseSetting("Models:Root", RepositoryPaths.Models());
            host.UseSetting(ServiceKeys.RecorderInference, InferenceKey);
            host.UseSetting(ServiceKeys.CoreInference, InferenceKey);
            host.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, InferencePort));
        factory.StartServer();
        _inference = factory;
        // Only this host's meter: other Inference hosts of this test process record into their own.
        _inferenceDurations = new MetricCollector<double>(factory.Services.GetRequiredService<IMeterFactory>(), "OpenNvr.Inference", "opennvr.inference.duration");
        using var http = new HttpClient { BaseAddress = new Uri(InferenceUrl) };
        (await http.GetAsync("/health")).EnsureSuccessStatusCode();
    }

    /// <summary>Inference goes away (Kestrel stops listening).</summary>
    public async Task StopInferenceAsync()
    {
        if (_inference is { } factory)
        {
            _inference = null;
            await factory.DisposeAsync();
        }

        if (_inferenceDurations is { } durations)
        {
            _inferenceDurations = null;
            Interlocked.Add(ref _requestsOfEarlierHosts, RequestsOf(durations));
            durations.Dispose();
        }
    }

    private static long RequestsOf(MetricCollector<double>? durations) =>
        durations?.GetMeasurementSnapshot().LongCount(m => m.ContainsTags(new KeyValuePair<string, object?>("stage", "total"))) ?? 0;

    public virtual async Task DisposeAsync()
    {
        await Recorder.DisposeAsync();
        await StopInferenceAsync();
        await Core.DisposeAsync();
        _listener.Dispose();
    }
}

/// <summary>Helpers of the pipeline tests.</summary>
public static class PipelineTestData
{
    public static string VtestUrl => new Uri(RepositoryPaths.TestData("video", "vtest.mp4")).AbsoluteUri;

    /// <summary>A static scene: one real frame looped as a short H.264 MP4 (made once per test run).</summary>
    public static async Task<string> StillSceneUrlAsync() => new Uri(await StillScene.Value).AbsoluteUri;

    private static readonly Lazy<Task<string>> StillScene = new(async () =>
    {
        var file = Path.Combine(TestTemp.NewFolder("still"), "still.mp4");
        var (exitCode, _, errors) = await TestProcesses.RunAsync("ffmpeg", "-hide_banner", "-loglevel", "error", "-loop", "1", "-t", "4",
            "-i", RepositoryPaths.TestData("persons", "vtest_0200.jpg"), "-c:v", "libx264", "-bf", "0", "-g", "20", "-pix_fmt", "yuv420p", "-r", "10", file);
        Assert.True(exitCode == 0, "ffmpeg could not make the still scene: " + errors);
        return file;
    });
}
