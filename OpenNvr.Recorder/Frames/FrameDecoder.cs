using System.Diagnostics;
using System.Globalization;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Live;
using OpenNvr.Recorder.Recording;

namespace OpenNvr.Recorder.Frames;

/// <summary>
/// One long-running ffmpeg per analysed camera decoding the sub-stream (main stream when there is none) at
/// <c>Recorder:FrameRate</c> frames per second into JPEGs on a pipe; each JPEG is published as latest.jpg. Restarted
/// with a growing pause (1 s to 10 s) when it ends. Decoding is independent of recording: a failure here never
/// touches the chunks.
/// </summary>
public sealed class FrameDecoder : IAsyncDisposable
{
    private readonly CameraConfig _camera;
    private readonly RecorderOptions _options;
    private readonly string _recordingsRoot;
    private readonly FramePublisher _publisher;
    private readonly ChildProcesses _children;
    private readonly ILogger _logger;
    private readonly LiveHub? _live;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public FrameDecoder(CameraConfig camera, RecorderOptions options, string recordingsRoot, FramePublisher publisher, ChildProcesses children, ILogger logger,
        LiveHub? live = null)
    {
        _camera = camera;
        _options = options;
        _recordingsRoot = recordingsRoot;
        _publisher = publisher;
        _children = children;
        _logger = logger;
        _live = live;
    }

    public string SourceUrl => _camera.SubStreamUrl ?? _camera.StreamUrl;

    public long Frames { get; private set; }

    public static IReadOnlyList<string> BuildArguments(string sourceUrl, double frameRate, string marker, string? liveUrl = null)
    {
        var args = new List<string> { "-hide_banner", "-nostats", "-loglevel", "error" };
        if (sourceUrl.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            args.AddRange(["-re", "-stream_loop", "-1", "-i", new Uri(sourceUrl).LocalPath]);
        }
        else
        {
            args.AddRange(["-rtsp_transport", "tcp", "-timeout", "10000000", "-i", sourceUrl]);
        }

        args.AddRange([
            "-map", "0:v:0", "-an",
            "-vf", "fps=" + frameRate.ToString("0.###", CultureInfo.InvariantCulture),
            "-c:v", "mjpeg", "-q:v", "4", "-f", "image2pipe",
            // Lets the orphan sweep recognise this ffmpeg as ours (image2pipe ignores the metadata).
            "-metadata", "comment=opennvr " + marker,
            "pipe:1",
        ]);
        if (liveUrl is not null)
        {
            // The sub-stream's live view (camera grid), copied from this connection: its standard output is taken.
            args.AddRange(FfmpegSegmenter.LiveOutputArguments(liveUrl));
        }

        return args;
    }

    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        var pause = TimeSpan.FromSeconds(1);
        while (!stop.IsCancellationRequested)
        {
            var before = Frames;
            try
            {
                await RunOnceAsync(stop);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                RecorderLog.DecoderFailed(_logger, _camera.Id, ex.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            pause = Frames > before ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, pause.Ticks * 2));
            try
            {
                await Task.Delay(pause, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunOnceAsync(CancellationToken stop)
    {
        var start = new ProcessStartInfo(_options.FfmpegPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // Only a sub-stream gets a live output here: the main stream's comes from the recording run.
        await using var liveSocket = _live is { Enabled: true } && _camera.SubStreamUrl is not null ? _live.SocketFeed(_camera.Id, LiveStream.Sub) : null;
        foreach (var arg in BuildArguments(SourceUrl, _options.FrameRate, _recordingsRoot, liveSocket?.FfmpegUrl))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        await ChildProcesses.StartDyingWithUsAsync(process);
        using var acceptStop = new CancellationTokenSource();
        var liveFeed = liveSocket?.RunAsync(acceptStop.Token);
        _children.Track(process);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var splitter = new JpegSplitter();
        var buffer = new byte[64 * 1024];
        try
        {
            var output = process.StandardOutput.BaseStream;
            while (true)
            {
                var read = await output.ReadAsync(buffer, stop);
                if (read == 0)
                {
                    break;
                }

                splitter.Feed(buffer.AsSpan(0, read), jpeg =>
                {
                    _publisher.Publish(_camera.Id, jpeg.Span);
                    Frames++;
                });
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            _children.Untrack(process);
            if (liveFeed is not null)
            {
                await acceptStop.CancelAsync();
                await liveFeed;
            }
        }
    }
}
