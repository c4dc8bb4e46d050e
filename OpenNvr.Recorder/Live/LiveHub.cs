using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace OpenNvr.Recorder.Live;

/// <summary>
/// Every live source of this replica, one per camera stream, made when a feed first delivers (the recording run of a
/// camera for its main stream, the frame decoder for its sub-stream). The Live API reads from here; the feeds write.
/// </summary>
public sealed class LiveHub : IDisposable
{
    private readonly ConcurrentDictionary<(int Camera, LiveStream Stream), LiveSource> _sources = new();
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly IDisposable _gauge;
    private readonly Lazy<string> _socketDirectory;

    public LiveHub(IOptions<LiveOptions> options, TimeProvider clock, ILoggerFactory loggers)
    {
        Options = options.Value;
        _clock = clock;
        _loggers = loggers;
        _gauge = LiveTelemetry.ObserveViewers(this);
        _socketDirectory = new Lazy<string>(CreateSocketDirectory);
    }

    public LiveOptions Options { get; }

    public bool Enabled => Options.Enabled;

    public IEnumerable<LiveSource> Sources => _sources.Values;

    /// <summary>The source of a camera stream, made on first use.</summary>
    public LiveSource Source(int cameraId, LiveStream stream) =>
        _sources.GetOrAdd((cameraId, stream), key => new LiveSource(key.Camera, key.Stream, Options, _clock, _loggers.CreateLogger("OpenNvr.Recorder.Live")));

    /// <summary>
    /// The source to serve for a request: the wanted stream when it is live, else the main stream when the sub-stream
    /// was asked for (a camera without a decoded sub-stream shows its main stream in the grid), else null.
    /// </summary>
    public LiveSource? Find(int cameraId, LiveStream wanted)
    {
        if (_sources.TryGetValue((cameraId, wanted), out var source) && source.IsLive)
        {
            return source;
        }

        return wanted == LiveStream.Sub && _sources.TryGetValue((cameraId, LiveStream.Main), out var main) && main.IsLive ? main : null;
    }

    /// <summary>A feed for one ffmpeg run's live output.</summary>
    public LiveFeed Feed(int cameraId, LiveStream stream) =>
        new(Source(cameraId, stream), _clock, _loggers.CreateLogger("OpenNvr.Recorder.Live"));

    /// <summary>
    /// A Unix socket for an ffmpeg run whose standard output is taken (the frame decoder writes JPEGs there), in a
    /// folder only this process can enter; removed when the hub is disposed. Null (logged) when it cannot be made.
    /// </summary>
    public LiveSocketFeed? SocketFeed(int cameraId, LiveStream stream)
    {
        try
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{cameraId}-{(stream == LiveStream.Main ? 'm' : 's')}-{Guid.NewGuid():N}.sock");
            return new LiveSocketFeed(Feed(cameraId, stream), Path.Combine(_socketDirectory.Value, name));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            // No live view for this run rather than no frames: the decoder runs without its live output.
            LiveTelemetry.FeedErrors.Add(1, LiveTelemetry.Tags(cameraId, stream));
            LiveLog.FeedError(_loggers.CreateLogger("OpenNvr.Recorder.Live"), cameraId, stream, "cannot listen for the live output: " + ex.Message);
            return null;
        }
    }

    public void Dispose()
    {
        _gauge.Dispose();
        if (_socketDirectory.IsValueCreated)
        {
            TryDeleteDirectory(_socketDirectory.Value);
        }
    }

    private static string CreateSocketDirectory()
    {
        // Short (Unix socket paths are limited to 107 bytes), private (0700), and swept of dead processes' folders.
        var parent = Path.GetTempPath();
        foreach (var stale in Directory.EnumerateDirectories(parent, "opennvr-live-*"))
        {
            if (int.TryParse(Path.GetFileName(stale)["opennvr-live-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) &&
                pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                TryDeleteDirectory(stale);
            }
        }

        var directory = Path.Combine(parent, "opennvr-live-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return directory;
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
