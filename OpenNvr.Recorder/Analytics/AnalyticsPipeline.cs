using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// The AI pipeline: runs each camera's enabled AI policies on the frames the decoders publish.
/// <list type="number">
/// <item>On each published frame (on the decoder's thread, so <c>latest.jpg</c> cannot change underneath): for each
/// policy whose interval has elapsed, a root span <c>frame.capture</c> starts at the capture time (its own trace);
/// a motion-gated policy compares a 64x36 grey thumbnail with that of the last frame it analysed
/// (<c>motion.gate</c>) and ends the trace there when nothing moved.</item>
/// <item>Otherwise the frame is copied to <c>&lt;Frames:Root&gt;/&lt;camera&gt;/f-&lt;capture ms&gt;-&lt;n&gt;.jpg</c>,
/// so that the image analysed, the snapshot and the trace are the same frame while latest.jpg moves on, and queued
/// on the camera's bounded channel (drop-oldest, counted).</item>
/// <item>One worker per camera calls Inference (<c>inference.call</c>; HttpClient carries <c>traceparent</c>), turns
/// results that say something new into events (<see cref="EventRules"/>), moves the frame to the snapshot folder
/// (<c>snapshot.save</c>) and appends the event to the durable outbox (<c>event.enqueue</c>) with the frame span's
/// trace id and <c>traceparent</c>; Core's <c>events.insert</c> joins that trace later.</item>
/// </list>
/// Nothing here touches recording: a slow or dead Inference fills (and drops from) the per-camera queue only.
/// </summary>
public sealed class AnalyticsPipeline : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan HousekeepingPeriod = TimeSpan.FromSeconds(10);

    private readonly IFramePublisher _publisher;
    private readonly RecordingCoordinator _coordinator;
    private readonly InferenceClient _inference;
    private readonly EventOutbox _outbox;
    private readonly AnalyticsOptions _options;
    private readonly string _framesRoot;
    private readonly string _recordingsRoot;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, CameraAnalytics> _cameras = new();
    private readonly ConcurrentDictionary<int, PipelineStatistics> _statistics = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _housekeeping;
    private int _stopped;
    private DateTimeOffset _lastSnapshotPrune;

    public AnalyticsPipeline(IFramePublisher publisher, RecordingCoordinator coordinator, InferenceClient inference, EventOutbox outbox,
        IOptions<AnalyticsOptions> options, IOptions<RecorderOptions> recorder, IOptions<FramesOptions> frames, TimeProvider clock,
        ILogger<AnalyticsPipeline> logger)
    {
        _publisher = publisher;
        _coordinator = coordinator;
        _inference = inference;
        _outbox = outbox;
        _options = options.Value;
        _framesRoot = frames.Value.ResolveRoot();
        _recordingsRoot = recorder.Value.ResolveRecordingsRoot();
        _clock = clock;
        _logger = logger;
    }

    /// <summary>What the pipeline did for a camera since this replica started.</summary>
    public PipelineStatistics Statistics(int cameraId) => _statistics.GetOrAdd(cameraId, _ => new PipelineStatistics());

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _publisher.FramePublished += OnFramePublished;
        _housekeeping = Task.Run(() => HousekeepingAsync(_stop.Token), CancellationToken.None);
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
        if (_housekeeping is not null)
        {
            await _housekeeping;
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

            var camera = _cameras.GetOrAdd(frame.CameraId, id => new CameraAnalytics(id, this));
            camera.Sync(policies);
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
        var stats = Statistics(camera.CameraId);
        var index = 0;
        foreach (var state in camera.Policies)
        {
            index++;
            var policy = state.Policy;
            var interval = TimeSpan.FromMilliseconds(Math.Max(1, policy.IntervalMs));
            // Frames arrive at the decoder's rate with some jitter: a run is due a little early rather than a frame late.
            var slack = TimeSpan.FromMilliseconds(Math.Min(100, policy.IntervalMs / 5.0));
            if (state.LastRun is { } last && frame.CapturedAt - last < interval - slack)
            {
                continue;
            }

            state.LastRun = frame.CapturedAt;
            stats.AddDue();
            Activity.Current = null;
            var root = RecorderTelemetry.ActivitySource.StartActivity("frame.capture", ActivityKind.Internal, parentContext: default,
                tags: [new("opennvr.camera", camera.CameraId), new("opennvr.task", policy.Task), new("opennvr.policy", policy.Id)],
                startTime: frame.CapturedAt);
            jpeg ??= File.ReadAllBytes(frame.Path);
            size ??= JpegSize.Read(jpeg) ?? (0, 0);
            if (policy.MotionGating && !PassesMotionGate(state, jpeg, ref thumbnail))
            {
                stats.AddSkippedMotion();
                RecorderTelemetry.FramesSkippedMotion.Add(1, Tags(camera.CameraId, policy.Task));
                root?.SetTag("opennvr.frame.outcome", "skipped_motion");
                root?.Stop();
                continue;
            }

            var capturedMs = frame.CapturedAt.ToUnixTimeMilliseconds();
            var file = $"f-{capturedMs.ToString(CultureInfo.InvariantCulture)}-{index.ToString(CultureInfo.InvariantCulture)}.jpg";
            var path = Path.Combine(Path.GetDirectoryName(frame.Path)!, file);
            File.WriteAllBytes(path, jpeg);
            var work = new FrameWork(state, path, $"opennvr://frames/{camera.CameraId.ToString(CultureInfo.InvariantCulture)}/{file}",
                frame.CapturedAt, size.Value.Width, size.Value.Height, root);
            if (!camera.Queue.Writer.TryWrite(work))
            {
                Drop(work, camera.CameraId, "queue_full"); // the channel is closed: the camera is going away
            }
        }
    }

    /// <summary>
    /// Whether enough changed since the last frame this policy analysed (span <c>motion.gate</c>). The frame taken
    /// for analysis becomes the reference, so slow changes add up until they count.
    /// </summary>
    private bool PassesMotionGate(PolicyState state, byte[] jpeg, ref byte[]? thumbnail)
    {
        using var gate = RecorderTelemetry.ActivitySource.StartActivity("motion.gate");
        thumbnail ??= MotionGate.Thumbnail(jpeg);
        var reference = state.MotionReference;
        if (thumbnail is not null && reference is not null)
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
        return true;
    }

    /// <summary>A frame that will get no answer: counted, its copy deleted, its trace ended as an error.</summary>
    private void Drop(FrameWork work, int cameraId, string reason)
    {
        Statistics(cameraId).AddDropped();
        RecorderTelemetry.FramesDropped.Add(1, Tags(cameraId, work.State.Policy.Task, ("reason", reason)));
        TryDelete(work.FramePath);
        if (work.Root is { } root)
        {
            root.SetTag("opennvr.frame.outcome", "dropped");
            root.SetStatus(ActivityStatusCode.Error, reason);
            root.Stop();
        }
    }

    private async Task AnalyseAsync(CameraAnalytics camera, FrameWork work, CancellationToken ct)
    {
        var policy = work.State.Policy;
        var stats = Statistics(camera.CameraId);
        Activity.Current = work.Root;
        string? failure = null;
        Exception? error = null;
        JsonElement result = default;
        var started = Stopwatch.GetTimestamp();
        try
        {
            stats.AddInferenceCall();
            using (var call = RecorderTelemetry.ActivitySource.StartActivity("inference.call", ActivityKind.Client))
            {
                call?.SetTag("opennvr.task", policy.Task);
                try
                {
                    result = await _inference.InferAsync(policy.Task, work.FrameUri, ct);
                }
                catch (BrokenCircuitException ex)
                {
                    (failure, error) = ("circuit_open", ex);
                }
                catch (InferenceFailedException ex) when ((int)ex.Status is >= 400 and < 500)
                {
                    (failure, error) = ((int)ex.Status == 404 ? "frame_unreadable" : "inference_rejected", ex);
                }
                catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or InferenceFailedException or JsonException ||
                                           (ex is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    (failure, error) = ("inference_failed", ex);
                }

                if (failure is not null)
                {
                    call?.SetStatus(ActivityStatusCode.Error, failure);
                }
            }

            RecorderTelemetry.InferenceCallDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                Tags(camera.CameraId, policy.Task, ("outcome", failure ?? "ok")));
            if (failure is not null)
            {
                // No answer for this frame: a gated policy must look at the next frame again, moving or not.
                work.State.MotionReference = null;
                var failures = ++work.State.ConsecutiveFailures;
                if (failures == 1 || failures % 100 == 0)
                {
                    RecorderLog.AnalysisFailed(_logger, camera.CameraId, policy.Task, failure, error!.Message);
                }

                Drop(work with { Root = null }, camera.CameraId, failure);
                work.Root?.SetTag("opennvr.frame.outcome", failure);
                work.Root?.SetStatus(ActivityStatusCode.Error, failure);
                return;
            }

            if (work.State.ConsecutiveFailures > 0)
            {
                RecorderLog.AnalysisRecovered(_logger, camera.CameraId, policy.Task, work.State.ConsecutiveFailures);
                work.State.ConsecutiveFailures = 0;
            }

            stats.AddAnalysed();
            RecorderTelemetry.FramesAnalysed.Add(1, Tags(camera.CameraId, policy.Task));
            var finding = work.State.Rules.Evaluate(result, work.Width, work.Height);
            work.Root?.SetTag("opennvr.frame.outcome", finding is null ? "no_event" : "event");
            if (finding is not null)
            {
                Emit(camera.CameraId, work, result, finding);
                stats.AddEvent();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            RecorderLog.PipelineError(_logger, camera.CameraId, ex.Message);
            work.Root?.SetStatus(ActivityStatusCode.Error, ex.Message);
        }
        finally
        {
            TryDelete(work.FramePath);
            work.Root?.Stop();
            Activity.Current = null;
        }
    }

    private void Emit(int cameraId, FrameWork work, JsonElement result, Finding finding)
    {
        var policy = work.State.Policy;
        string? snapshot = null;
        using (var save = RecorderTelemetry.ActivitySource.StartActivity("snapshot.save"))
        {
            var at = work.CapturedAt.UtcDateTime;
            var relative = string.Join('/', cameraId.ToString(CultureInfo.InvariantCulture), "snapshots",
                at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), at.ToString("HHmmssfff", CultureInfo.InvariantCulture) + ".jpg");
            var target = Path.Combine(_recordingsRoot, relative.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!File.Exists(target))
            {
                // Another policy's event of the same frame may have saved it already (the same image).
                File.Move(work.FramePath, target);
            }

            snapshot = relative;
            save?.SetTag("opennvr.snapshot_path", relative);
        }

        using var enqueue = RecorderTelemetry.ActivitySource.StartActivity("event.enqueue");
        var root = work.Root;
        var executedAt = Number(result, "executed_at") is { } executed && executed > 946_684_800_000 ? (long)executed : _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var payload = result;
        if (result.GetRawText().Length > 48 * 1024)
        {
            // Core takes at most 64 KB of bbox and payload: a huge answer (hundreds of boxes) keeps its summary only.
            payload = JsonSerializer.SerializeToElement(new { task = policy.Task, truncated = true, count = finding.Count });
        }

        var e = new EventIngest(
            cameraId,
            policy.Task,
            finding.Label is { Length: > 128 } label ? label[..128] : finding.Label,
            finding.Count,
            finding.Confidence is { } c ? Math.Round(Math.Clamp(c, 0, 1), 4) : null,
            finding.Boxes.Take(100).Select(b => b.Select(v => Math.Round(v, 1)).ToArray()).ToList(),
            snapshot,
            executedAt,
            work.CapturedAt.ToUnixTimeMilliseconds(),
            Number(result, "latency_ms") is { } latency && latency >= 0 ? latency : null,
            root?.TraceId.ToHexString(),
            root?.Id,
            payload);
        _outbox.Append(e);
        RecorderTelemetry.EventsEmitted.Add(1, Tags(cameraId, policy.Task));
        RecorderLog.EventQueued(_logger, cameraId, policy.Task, e.Count, e.Label);
    }

    private async Task HousekeepingAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var live = _coordinator.Cameras.Where(c => c.IsAnalysed && c.Enabled && c.RecordingEnabled).Select(c => c.Id).ToHashSet();
                foreach (var (id, camera) in _cameras)
                {
                    if (!live.Contains(id) && _cameras.TryRemove(id, out _))
                    {
                        await camera.DisposeAsync();
                    }
                }

                PruneFrameCopies();
                if (_clock.GetUtcNow() - _lastSnapshotPrune > TimeSpan.FromHours(1))
                {
                    _lastSnapshotPrune = _clock.GetUtcNow();
                    PruneSnapshots();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                RecorderLog.PipelineError(_logger, 0, ex.Message);
            }

            try
            {
                await Task.Delay(HousekeepingPeriod, _clock, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Per-frame copies left behind by a crash or a shutdown mid-analysis.</summary>
    private void PruneFrameCopies()
    {
        if (!Directory.Exists(_framesRoot))
        {
            return;
        }

        var cutoff = _clock.GetUtcNow().UtcDateTime.AddSeconds(-_options.AnalysisFrameSeconds);
        foreach (var dir in Directory.EnumerateDirectories(_framesRoot))
        {
            foreach (var file in Directory.EnumerateFiles(dir, "f-*.jpg"))
            {
                if (File.GetLastWriteTimeUtc(file) < cutoff)
                {
                    TryDelete(file);
                }
            }
        }
    }

    /// <summary>Snapshot days older than the camera's retention (and <c>Recorder:MaxAgeDays</c>) go, like its chunks.</summary>
    private void PruneSnapshots()
    {
        foreach (var camera in _coordinator.Cameras.Where(c => c.RetentionDays > 0))
        {
            var dir = Path.Combine(_recordingsRoot, camera.Id.ToString(CultureInfo.InvariantCulture), "snapshots");
            if (!Directory.Exists(dir))
            {
                continue;
            }

            var oldest = _clock.GetUtcNow().UtcDateTime.Date.AddDays(-camera.RetentionDays);
            foreach (var day in Directory.EnumerateDirectories(dir))
            {
                if (DateTime.TryParseExact(Path.GetFileName(day), "yyyy-MM-dd", CultureInfo.InvariantCulture,
                        DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date) && date < oldest)
                {
                    Directory.Delete(day, recursive: true);
                }
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : null;

    private static TagList Tags(int cameraId, string task, (string Key, object? Value)? extra = null)
    {
        var tags = new TagList { { "camera", cameraId }, { "task", task } };
        if (extra is { } e)
        {
            tags.Add(e.Key, e.Value);
        }

        return tags;
    }

    /// <summary>A frame taken for one policy's analysis.</summary>
    private sealed record FrameWork(PolicyState State, string FramePath, string FrameUri, DateTimeOffset CapturedAt, int Width, int Height, Activity? Root);

    /// <summary>A policy's running state on this replica.</summary>
    private sealed class PolicyState(AiPolicy policy, string signature)
    {
        public AiPolicy Policy { get; } = policy;

        public string Signature { get; } = signature;

        public EventRules Rules { get; } = new(policy);

        public DateTimeOffset? LastRun { get; set; }

        public volatile byte[]? MotionReference;

        public long ConsecutiveFailures { get; set; }
    }

    /// <summary>One camera: its policies' state, the bounded queue of frames for Inference, and the worker emptying it.</summary>
    private sealed class CameraAnalytics : IAsyncDisposable
    {
        private readonly AnalyticsPipeline _owner;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _worker;
        private string _signature = "";

        public CameraAnalytics(int cameraId, AnalyticsPipeline owner)
        {
            CameraId = cameraId;
            _owner = owner;
            Queue = Channel.CreateBounded<FrameWork>(
                new BoundedChannelOptions(owner._options.AnalysisQueueCapacity)
                {
                    FullMode = BoundedChannelFullMode.DropOldest,
                    SingleReader = true,
                    SingleWriter = true,
                },
                dropped => owner.Drop(dropped, cameraId, "queue_full"));
            _worker = Task.Run(() => WorkAsync(_stop.Token));
        }

        public int CameraId { get; }

        public Channel<FrameWork> Queue { get; }

        public IReadOnlyList<PolicyState> Policies { get; private set; } = [];

        /// <summary>Follows the latest heartbeat's policies; unchanged policies keep their state (last run, motion, last event).</summary>
        public void Sync(IReadOnlyList<AiPolicy> policies)
        {
            var enabled = policies.Where(p => p.Enabled).ToList();
            var signatures = enabled.Select(p => JsonSerializer.Serialize(p, CoreClient.Json)).ToList();
            var signature = string.Join('\n', signatures);
            if (signature == _signature)
            {
                return;
            }

            var kept = Policies.ToDictionary(p => p.Signature);
            Policies = enabled.Select((p, i) => kept.TryGetValue(signatures[i], out var existing) ? existing : new PolicyState(p, signatures[i])).ToList();
            _signature = signature;
        }

        public async ValueTask DisposeAsync()
        {
            Queue.Writer.TryComplete();
            await _stop.CancelAsync();
            await _worker;
            while (Queue.Reader.TryRead(out var left))
            {
                _owner.Drop(left, CameraId, "shutdown");
            }

            _stop.Dispose();
        }

        private async Task WorkAsync(CancellationToken stop)
        {
            try
            {
                await foreach (var work in Queue.Reader.ReadAllAsync(stop))
                {
                    try
                    {
                        await _owner.AnalyseAsync(this, work, stop);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                    {
                        // One bad frame or answer must not end the camera's analysis.
                        RecorderLog.PipelineError(_owner._logger, CameraId, ex.Message);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
