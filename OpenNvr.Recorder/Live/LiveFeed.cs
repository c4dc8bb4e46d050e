using System.Net.Sockets;

namespace OpenNvr.Recorder.Live;

/// <summary>
/// Reads one ffmpeg run's live output (fragmented MP4, one fragment per frame) to its end and publishes it to the
/// camera stream's <see cref="LiveSource"/>. It reads as fast as ffmpeg writes, whatever happens: publishing never
/// blocks, and unreadable output is drained and discarded (counted and logged once), because an ffmpeg whose output
/// pipe fills up would stop recording too.
/// </summary>
public sealed class LiveFeed(LiveSource source, TimeProvider clock, ILogger logger)
{
    private readonly Fmp4StreamSplitter _splitter = new();
    private Fmp4Init? _init;
    private bool _broken;

    public LiveSource Source => source;

    /// <summary>
    /// Reads until ffmpeg closes its output. Deliberately not cancellable: an ffmpeg asked to stop must be able to
    /// write its last fragments, or it would block on a full pipe and never finish its chunk.
    /// </summary>
    public async Task PumpAsync(Stream output)
    {
        _splitter.InitSegment += OnInit;
        _splitter.Fragment += OnFragment;
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await output.ReadAsync(buffer);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
                {
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                if (_broken)
                {
                    continue;
                }

                try
                {
                    _splitter.Feed(buffer.AsSpan(0, read));
                }
                catch (Exception ex)
                {
                    // Never rethrown: whatever went wrong, the rest of the run's output is drained unread.
                    _broken = true;
                    LiveTelemetry.FeedErrors.Add(1, LiveTelemetry.Tags(source.CameraId, source.Stream));
                    LiveLog.FeedError(logger, source.CameraId, source.Stream, ex.Message);
                }
            }
        }
        finally
        {
            _splitter.InitSegment -= OnInit;
            _splitter.Fragment -= OnFragment;
            if (_init is not null)
            {
                source.EndRun();
            }
        }
    }

    private void OnInit(byte[] bytes)
    {
        _init = Fmp4.ParseInit(bytes);
        source.BeginRun(_init);
    }

    private void OnFragment(byte[] bytes)
    {
        if (_init is null)
        {
            return;
        }

        var fragment = Fmp4.ParseFragment(bytes, _init.Defaults);
        source.Publish(fragment, (clock.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds);
    }
}

/// <summary>
/// A live feed arriving on a Unix socket: ffmpeg connects to <see cref="FfmpegUrl"/> (its <c>unix:</c> protocol) as
/// the second output of a run whose standard output is taken. Listens before ffmpeg starts; one connection per run.
/// </summary>
public sealed class LiveSocketFeed : IAsyncDisposable
{
    private readonly LiveFeed _feed;
    private readonly string _path;
    private readonly Socket _listener;

    public LiveSocketFeed(LiveFeed feed, string path)
    {
        _feed = feed;
        _path = path;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(1);
    }

    public string FfmpegUrl => "unix:" + _path;

    /// <summary>Accepts ffmpeg's connection (cancellable while none came) and pumps it to its end.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        Socket connection;
        try
        {
            connection = await _listener.AcceptAsync(ct);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            return;
        }

        using (connection)
        {
            await using var stream = new NetworkStream(connection, ownsSocket: false);
            await _feed.PumpAsync(stream);
        }
    }

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
