using System.Diagnostics;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Live;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Telemetry;
using OpenNvr.Recorder.Upload;
using Polly;
using Polly.Retry;

namespace OpenNvr.Recorder.Recording;

/// <summary>ffmpeg ended without producing a chunk: the camera is unreachable or refuses us.</summary>
public sealed class RecordingFailedException(SegmenterOutcome outcome) : Exception(outcome.Reason ?? $"ffmpeg exited with code {outcome.ExitCode}")
{
    public SegmenterOutcome Outcome { get; } = outcome;
}

/// <summary>
/// The supervisor of one camera: runs <see cref="FfmpegSegmenter"/> again and again for as long as the camera is
/// leased to this replica. A run that produced chunks and ended (camera dropped, stall, crash) is restarted at once;
/// a run that produced nothing is retried by Polly with exponential backoff and jitter, up to
/// <c>Recorder:ReconnectMaxDelaySeconds</c> between attempts. Every chunk goes to the upload queue before anything else.
/// </summary>
public sealed class CameraRecorder : IAsyncDisposable
{
    private readonly RecorderOptions _options;
    private readonly ISealedChunkSink _sealed;
    private readonly CameraStateReporter _states;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly FfmpegSegmenter _segmenter;
    private readonly ResiliencePipeline _reconnect;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _runs;
    private DateTimeOffset _lastExit = DateTimeOffset.MinValue;

    public CameraRecorder(CameraConfig camera, RecorderOptions options, string recordingsRoot, ISealedChunkSink sealedChunks,
        CameraStateReporter states, ChildProcesses children, TimeProvider clock, ILogger logger, LiveHub? live = null)
    {
        Camera = camera;
        _options = options;
        _sealed = sealedChunks;
        _states = states;
        _logger = logger;
        _clock = clock;
        _segmenter = new FfmpegSegmenter(options, recordingsRoot, children, clock, logger, live);
        _segmenter.Started += p => CurrentProcess = p;
        _segmenter.Recording += () => _states.Report(Camera.Id, RecordingStates.Recording);
        _segmenter.StallDetected += () => _states.Report(Camera.Id, RecordingStates.Stalled, "no new video data for " + options.StallSeconds + " s");
        _reconnect = new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RecordingFailedException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(options.ReconnectDelaySeconds),
                MaxDelay = TimeSpan.FromSeconds(options.ReconnectMaxDelaySeconds),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Exception?.Message;
                    RecorderTelemetry.Reconnects.Add(1, new KeyValuePair<string, object?>("camera", Camera.Id));
                    _states.Report(Camera.Id, LooksLikeConfigurationError(reason) ? RecordingStates.Error : RecordingStates.Reconnecting, reason);
                    RecorderLog.Reconnecting(_logger, Camera.Id, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds, reason ?? "");
                    return default;
                },
            })
            .Build();
    }

    public CameraConfig Camera { get; }

    /// <summary>The ffmpeg process recording now (null between runs).</summary>
    public Process? CurrentProcess { get; private set; }

    public void Start() => _loop = Task.Run(() => LoopAsync(_stop.Token));

    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        if (_loop is not null)
        {
            await _loop;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            SegmenterOutcome outcome;
            try
            {
                outcome = await _reconnect.ExecuteAsync(async ct =>
                {
                    var result = await RunOnceAsync(ct);
                    if (!ct.IsCancellationRequested && !result.Stopped && result.Chunks == 0)
                    {
                        throw new RecordingFailedException(result);
                    }

                    return result;
                }, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Anything unexpected (disk full, permissions): say so, wait, try again; never give up on a camera.
                RecorderLog.SupervisorError(_logger, ex, Camera.Id);
                _states.Report(Camera.Id, RecordingStates.Error, ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(_options.ReconnectMaxDelaySeconds), _clock, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            if (stop.IsCancellationRequested || outcome.Stopped)
            {
                break;
            }

            // A productive run ended: the camera dropped, the watchdog fired or ffmpeg died. Start again at once.
            _states.Report(Camera.Id, outcome.Stalled ? RecordingStates.Stalled : RecordingStates.Reconnecting, outcome.Reason ?? "ffmpeg exited");
        }
    }

    private async Task<SegmenterOutcome> RunOnceAsync(CancellationToken ct)
    {
        // Chunk names have one-second resolution: never let a new run open a chunk in the second the last one died.
        var sinceExit = _clock.GetUtcNow() - _lastExit;
        if (sinceExit < TimeSpan.FromSeconds(1.1))
        {
            await Task.Delay(TimeSpan.FromSeconds(1.1) - sinceExit, _clock, ct);
        }

        if (_runs++ > 0)
        {
            RecorderTelemetry.FfmpegRestarts.Add(1, new KeyValuePair<string, object?>("camera", Camera.Id));
        }

        try
        {
            return await _segmenter.RunAsync(Camera, OnChunk, ct);
        }
        finally
        {
            CurrentProcess = null;
            _lastExit = _clock.GetUtcNow();
        }
    }

    private void OnChunk(ChunkRegistration chunk)
    {
        _sealed.Append(chunk);
        _states.ChunkFinished(Camera.Id, chunk.EndUnix);
    }

    private static bool LooksLikeConfigurationError(string? reason) =>
        reason is not null && (reason.Contains("401", StringComparison.Ordinal) || reason.Contains("Unauthorized", StringComparison.OrdinalIgnoreCase) ||
                               reason.Contains("404", StringComparison.Ordinal) || reason.Contains("No such file", StringComparison.Ordinal) ||
                               reason.Contains("Invalid data", StringComparison.Ordinal) || reason.Contains("cannot start", StringComparison.Ordinal));
}
