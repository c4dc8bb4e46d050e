using System.Text.Json;
using System.Threading.Channels;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// One analysed camera: its policies' state, the bounded queue of frames waiting for Inference (drop-oldest,
/// counted) and the worker that empties it, one frame at a time, through the <see cref="FrameAnalyser"/>.
/// </summary>
internal sealed class CameraAnalytics : IAsyncDisposable
{
    private readonly FrameAnalyser _analyser;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private string _signature = "";

    private readonly TrackerOptions _tracker;
    private readonly TimeProvider _clock;

    public CameraAnalytics(int cameraId, int queueCapacity, PipelineStatistics statistics, FrameAnalyser analyser, TrackerOptions tracker,
        TimeProvider clock, ILogger logger)
    {
        _tracker = tracker;
        _clock = clock;
        CameraId = cameraId;
        Statistics = statistics;
        _analyser = analyser;
        _logger = logger;
        Queue = Channel.CreateBounded<QueuedFrame>(
            new BoundedChannelOptions(queueCapacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
                SingleWriter = true,
            },
            dropped =>
            {
                dropped.Drop(statistics, "queue_full");
                statistics.AddFinished();
            });
        _worker = Task.Run(() => WorkAsync(_stop.Token));
    }

    public int CameraId { get; }

    public PipelineStatistics Statistics { get; }

    public Channel<QueuedFrame> Queue { get; }

    public IReadOnlyList<PolicyState> Policies { get; private set; } = [];

    /// <summary>
    /// Follows the latest heartbeat's policies; unchanged policies keep their state (last run, motion, last event,
    /// tracks). A people policy also follows the camera's zones and lines: a change there restarts its tracking.
    /// </summary>
    public void Sync(CameraConfig camera)
    {
        // Faces per track: with a people policy, the face policies are asked per tracked person by it (a few times per
        // person), not on every analysed frame.
        var (enabled, faces) = TrackFaces.Split([.. camera.AiPolicies.Where(p => p.Enabled)]);

        var facesGoTo = enabled.FindIndex(p => PeopleStage.Tracks(p.Task));
        var signatures = enabled.Select((p, i) => JsonSerializer.Serialize(p, ContractJson.Options) +
            (PeopleStage.Tracks(p.Task) ? "\n" + PeopleStage.Signature(camera) : "") +
            (i == facesGoTo && faces is not null ? "\n" + JsonSerializer.Serialize(faces, ContractJson.Options) : "")).ToList();
        var signature = string.Join('\n', signatures);
        if (signature == _signature)
        {
            return;
        }

        var kept = Policies.ToDictionary(p => p.Signature);
        Policies = enabled.Select((p, i) => kept.TryGetValue(signatures[i], out var existing)
            ? existing
            : NewState(p, signatures[i], camera, i == facesGoTo ? faces : null)).ToList();
        _signature = signature;
    }

    private PolicyState NewState(CameraAiPolicy policy, string signature, CameraConfig camera, TrackFaces? faces)
    {
        if (!PeopleStage.Tracks(policy.Task))
        {
            return new PolicyState(policy, signature);
        }

        // Track ids stay unique on the camera across restarts and policy changes: they start from the clock
        // (10 000 ids a second of start time), not from 1, so that a track_id search never mixes two people.
        var firstTrackId = _clock.GetUtcNow().ToUnixTimeSeconds() * 10_000 + 1;
        return new PolicyState(policy, signature, new PeopleStage(policy, camera.Zones, camera.Lines, _tracker, firstTrackId, faces));
    }

    public async ValueTask DisposeAsync()
    {
        Queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await _worker;
        while (Queue.Reader.TryRead(out var left))
        {
            left.Drop(Statistics, "shutdown");
            Statistics.AddFinished();
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
                    await _analyser.AnalyseAsync(work, Statistics, stop);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // One bad frame or answer must not end the camera's analysis.
                    RecorderLog.PipelineError(_logger, CameraId, ex.Message);
                }
                finally
                {
                    Statistics.AddFinished();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
