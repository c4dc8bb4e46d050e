using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Telemetry;
using OpenNvr.Recorder.Upload;
using OpenNvr.Storage;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// The AI pipeline: runs each camera's enabled AI policies on the frames the decoders publish.
/// <list type="number">
/// <item>On each published frame (on the decoder's thread, so <c>latest.jpg</c> cannot change underneath): for each
/// policy whose interval has elapsed (<see cref="PolicyState.TakeIfDue"/>), a root span <c>frame.capture</c> starts
/// at the capture time (its own trace); a motion-gated policy compares a 64x36 grey thumbnail with that of the last
/// frame it analysed (<c>motion.gate</c>) and ends the trace there when nothing moved.</item>
/// <item>Otherwise the frame is copied to <c>&lt;Frames:Root&gt;/&lt;camera&gt;/f-&lt;capture ms&gt;-&lt;n&gt;.jpg</c>,
/// so that the image analysed, the snapshot and the trace are the same frame while latest.jpg moves on, and queued
/// on the camera's bounded channel (<see cref="CameraAnalytics"/>: drop-oldest, counted).</item>
/// <item>One worker per camera takes it from there (<see cref="FrameAnalyser"/>: Inference, event rules, snapshot,
/// event outbox); <see cref="AnalyticsHousekeeping"/> tidies up behind them.</item>
/// </list>
/// Nothing here touches recording: a slow or dead Inference fills (and drops from) the per-camera queue only.
/// </summary>
public sealed class AnalyticsPipeline : IHostedService, IAsyncDisposable
{
    private readonly IFramePublisher _publisher;
    private readonly RecordingCoordinator _coordinator;
    private readonly AnalyticsOptions _options;
    private readonly FrameAnalyser _analyser;
    private readonly AnalyticsHousekeeping _housekeeping;
    private readonly ILogger _logger;
    private readonly TrackerOptions _tracker;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<int, CameraAnalytics> _cameras = new();
    private readonly ConcurrentDictionary<int, PipelineStatistics> _statistics = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _housekeepingLoop;
    private int _stopped;

    public AnalyticsPipeline(IFramePublisher publisher, RecordingCoordinator coordinator, InferenceClient inference, EventOutbox outbox,
        OccupancyOutbox occupancy, IOptions<AnalyticsOptions> options, IOptions<TrackerOptions> tracker, IOptions<RecorderOptions> recorder,
        IOptions<FramePublishingOptions> frames, UploadQueue uploads, IRecordingStore store, TimeProvider clock, ILogger<AnalyticsPipeline> logger)
    {
        _tracker = tracker.Value;
        _clock = clock;
        _publisher = publisher;
        _coordinator = coordinator;
        _options = options.Value;
        _logger = logger;
        var snapshots = new SnapshotStore(recorder.Value.ResolveRecordingsRoot(), uploads, store, clock);
        _analyser = new FrameAnalyser(inference, outbox, occupancy, snapshots, clock, logger);
        _housekeeping = new AnalyticsHousekeeping(coordinator, _cameras, snapshots, frames.Value.ResolveRoot(), _options.AnalysisFrameSeconds, clock, logger);
    }

    /// <summary>What the pipeline did for a camera since this replica started.</summary>
    public PipelineStatistics Statistics(int cameraId) => _statistics.GetOrAdd(cameraId, _ => new PipelineStatistics());

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _publisher.FramePublished += OnFramePublished;
        _housekeepingLoop = Task.Run(() => _housekeeping.RunAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host stops it, then the container disposes it (once per registration): only the first call works.
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        _publisher.FramePublished -= OnFramePublished;
        await _stop.CancelAsync();
        if (_housekeepingLoop is not null)
        {
            await _housekeepingLoop;
        }

        await Task.WhenAll(_cameras.Values.Select(c => c.DisposeAsync().AsTask()));
        _cameras.Clear();
        _stop.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
    }

    private void OnFramePublished(PublishedFrame frame)
    {
        var previous = Activity.Current;
        try
        {
            var config = _coordinator.Cameras.FirstOrDefault(c => c.Id == frame.CameraId);
            if (config?.AiPolicies is not { } policies || !policies.Any(p => p.Enabled) || Volatile.Read(ref _stopped) == 1)
            {
                return;
            }

            var camera = _cameras.GetOrAdd(frame.CameraId,
                id => new CameraAnalytics(id, _options.AnalysisQueueCapacity, Statistics(id), _analyser, _tracker, _clock, _logger));
            camera.Sync(config);
            OfferFrame(camera, frame);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever goes wrong here stays here: an exception would reach the decoder and restart its ffmpeg.
            RecorderLog.PipelineError(_logger, frame.CameraId, ex.Message);
        }
        finally
        {
            // The decoder's thread must not carry a frame's span into the next frame (each frame is its own trace).
            Activity.Current = previous;
        }
    }

    private void OfferFrame(CameraAnalytics camera, PublishedFrame frame)
    {
        byte[]? jpeg = null;
        byte[]? thumbnail = null;
        (int Width, int Height)? size = null;
        var stats = camera.Statistics;
        var index = 0;
        foreach (var state in camera.Policies)
        {
            index++;
            var policy = state.Policy;
            if (!state.TakeIfDue(frame.CapturedAt))
            {
                continue;
            }

            stats.AddDue();
            Activity.Current = null;
            var root = RecorderTelemetry.ActivitySource.StartActivity("frame.capture", ActivityKind.Internal, parentContext: default,
                tags: [new("opennvr.camera", camera.CameraId), new("opennvr.task", policy.Task), new("opennvr.policy", policy.Id)],
                startTime: frame.CapturedAt);
            jpeg ??= File.ReadAllBytes(frame.Path);
            size ??= ImageHeader.TryRead(jpeg) is { Format: ImageFormat.Jpeg } header ? (header.Width, header.Height) : (0, 0);
            if (policy.MotionGating && !PassesMotionGate(state, frame.CapturedAt, jpeg, ref thumbnail))
            {
                stats.AddSkippedMotion();
                RecorderTelemetry.FramesSkippedMotion.Add(1, QueuedFrame.Tags(camera.CameraId, policy.Task));
                root?.SetTag("opennvr.frame.outcome", "skipped_motion");
                root?.Stop();
                continue;
            }

            var capturedMs = frame.CapturedAt.ToUnixTimeMilliseconds();
            var file = $"f-{capturedMs.ToString(CultureInfo.InvariantCulture)}-{index.ToString(CultureInfo.InvariantCulture)}.jpg";
            var path = Path.Combine(Path.GetDirectoryName(frame.Path)!, file);
            File.WriteAllBytes(path, jpeg);
            var work = new QueuedFrame(camera.CameraId, state, path, FrameNames.FrameUri(camera.CameraId, file),
                frame.CapturedAt, size.Value.Width, size.Value.Height, root);
            stats.AddQueued();
            if (!camera.Queue.Writer.TryWrite(work))
            {
                work.Drop(stats, "queue_full"); // the channel is closed: the camera is going away
                stats.AddFinished();
            }
        }
    }

    /// <summary>
    /// Whether enough changed since the last frame this policy analysed (span <c>motion.gate</c>). The frame taken
    /// for analysis becomes the reference, so slow changes add up until they count. A people policy is let through
    /// at least every <see cref="PeopleStage.MaxUnanalysed"/>: a person standing still is still there.
    /// </summary>
    private bool PassesMotionGate(PolicyState state, DateTimeOffset capturedAt, byte[] jpeg, ref byte[]? thumbnail)
    {
        using var gate = RecorderTelemetry.ActivitySource.StartActivity("motion.gate");
        thumbnail ??= MotionGate.Thumbnail(jpeg);
        var reference = state.MotionReference;
        var keepAlive = state.People is not null && state.LastPassed is { } passed && capturedAt - passed >= PeopleStage.MaxUnanalysed;
        if (thumbnail is not null && reference is not null && !keepAlive)
        {
            var share = MotionGate.ChangedShare(reference, thumbnail, _options.MotionPixelDelta);
            gate?.SetTag("opennvr.motion.changed_share", Math.Round(share, 5));
            if (share < _options.MotionThreshold)
            {
                gate?.SetTag("opennvr.motion.skipped", true);
                return false;
            }
        }

        state.MotionReference = thumbnail;
        state.LastPassed = capturedAt;
        return true;
    }
}
