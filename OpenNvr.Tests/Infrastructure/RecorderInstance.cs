using Microsoft.AspNetCore.Builder;
using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Leases;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Retention;
using OpenNvr.Tests.Core;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>The Recorder hosted in-process (TestServer), pointed at a <see cref="CoreServer"/> by service discovery.</summary>
public sealed class RecorderInstance : IAsyncDisposable
{
    private readonly WebApplicationFactory<RecordingCoordinator> _factory;
    private int _disposed;

    private RecorderInstance(WebApplicationFactory<RecordingCoordinator> factory, string root, string framesRoot)
    {
        _factory = factory;
        RecordingsRoot = root;
        FramesRoot = framesRoot;
    }

    public string RecordingsRoot { get; }

    public string FramesRoot { get; }

    public IServiceProvider Services => _factory.Services;

    public RecordingCoordinator Coordinator => Services.GetRequiredService<RecordingCoordinator>();

    public ChunkOutbox Outbox => Services.GetRequiredService<ChunkOutbox>();

    public CameraStateReporter States => Services.GetRequiredService<CameraStateReporter>();

    public RetentionService Retention => Services.GetRequiredService<RetentionService>();

    public FramePublisher Frames => Services.GetRequiredService<FramePublisher>();

    public ChildProcesses Children => Services.GetRequiredService<ChildProcesses>();

    public string Id => Services.GetRequiredService<RecorderIdentity>().Id;

    public HttpClient CreateClient() => _factory.CreateClient();

    /// <summary>
    /// A test Recorder's settings: Core's address and key, its folders, short heartbeats and chunks, no retention runs
    /// and no free-space floor; <paramref name="settings"/> override them.
    /// </summary>
    public static Dictionary<string, string> TestSettings(CoreServer core, string recordingsRoot, string framesRoot, IDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>
        {
            ["services:core:http:0"] = core.BaseUrl,
            [ServiceKeys.RecorderCore] = CoreFixture.InternalKey,
            ["Recorder:RecordingsRoot"] = recordingsRoot,
            ["Frames:Root"] = framesRoot,
            ["Recorder:HeartbeatSeconds"] = "1",
            ["Recorder:ChunkSeconds"] = "4",
            ["Recorder:StallSeconds"] = "12",
            ["Recorder:RetentionIntervalSeconds"] = "3600",
            ["Recorder:MinFreePercent"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        return all;
    }

    /// <summary>Starts a Recorder. <paramref name="settings"/> override the test defaults (Recorder:* keys etc.).</summary>
    public static RecorderInstance Start(CoreServer core, string? recordingsRoot = null, IDictionary<string, string>? settings = null)
    {
        var root = recordingsRoot ?? TestTemp.NewFolder("rec");
        var frames = TestTemp.NewFolder("frames");
        var all = TestSettings(core, root, frames, settings);
        var factory = new WebApplicationFactory<RecordingCoordinator>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in all)
            {
                host.UseSetting(key, value);
            }
        });
        _ = factory.Server; // starts the host and its background services
        return new RecorderInstance(factory, root, frames);
    }

    /// <summary>Stops the host (every ffmpeg stopped cleanly, like SIGTERM in production).</summary>
    public async ValueTask DisposeAsync()
    {
        // A test may stop a replica early (it "dies") and leave the final dispose to its await using.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _factory.DisposeAsync();
        }
    }

    /// <summary>Chunk files of a camera on disk, relative to the recordings root.</summary>
    public List<string> ChunkFiles(int cameraId)
    {
        var dir = Path.Combine(RecordingsRoot, cameraId.ToString(CultureInfo.InvariantCulture));
        return Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*.mp4", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(RecordingsRoot, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal).ToList()
            : [];
    }
}
