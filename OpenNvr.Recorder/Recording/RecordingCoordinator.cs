using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Live;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Telemetry;
using OpenNvr.Recorder.Upload;

namespace OpenNvr.Recorder.Recording;

/// <summary>
/// Makes the running supervisors match the cameras Core's latest heartbeat answer lists: starts new ones, stops the
/// ones no longer listed (lease moved or camera disabled) at once, restarts a camera whose stream changed, and keeps
/// one frame decoder per analysed camera. Holds the latest configuration for retention.
/// </summary>
public sealed class RecordingCoordinator : IAsyncDisposable
{
    private readonly RecorderOptions _options;
    private readonly string _root;
    private readonly ISealedChunkSink _sealed;
    private readonly CameraStateReporter _states;
    private readonly ChildProcesses _children;
    private readonly FramePublisher _frames;
    private readonly ChunkReconciler _reconciler;
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly LiveHub? _live;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<int, CameraRecorder> _recorders = [];
    private readonly HashSet<int> _stopping = [];
    private readonly Dictionary<int, FrameDecoder> _decoders = [];
    private readonly IDisposable _gauge;
    private IReadOnlyList<CameraConfig> _cameras = [];

    public RecordingCoordinator(IOptions<RecorderOptions> options, ISealedChunkSink sealedChunks, CameraStateReporter states, ChildProcesses children,
        FramePublisher frames, ChunkReconciler reconciler, TimeProvider clock, ILoggerFactory loggers, LiveHub? live = null)
    {
        _options = options.Value;
        _root = _options.ResolveRecordingsRoot();
        _sealed = sealedChunks;
        _states = states;
        _children = children;
        _frames = frames;
        _reconciler = reconciler;
        _clock = clock;
        _loggers = loggers;
        _logger = loggers.CreateLogger<RecordingCoordinator>();
        _live = live;
        _gauge = RecorderTelemetry.ObserveActiveCameras(this, () => RecordingCameraIds.Count);
    }

    /// <summary>The cameras of the latest heartbeat answer.</summary>
    public IReadOnlyList<CameraConfig> Cameras => _cameras;

    public IReadOnlyList<int> RecordingCameraIds
    {
        get
        {
            lock (_recorders)
            {
                return [.. _recorders.Keys.Order()];
            }
        }
    }

    /// <summary>
    /// The cameras this replica records or is still stopping: what the heartbeat reports, so that Core hands a camera
    /// to another replica only once its ffmpeg here has exited.
    /// </summary>
    public IReadOnlyList<int> HeldCameraIds
    {
        get
        {
            lock (_recorders)
            {
                return [.. _recorders.Keys.Union(_stopping).Order()];
            }
        }
    }

    public CameraRecorder? Recorder(int cameraId)
    {
        lock (_recorders)
        {
            return _recorders.GetValueOrDefault(cameraId);
        }
    }

    /// <summary>Follows <paramref name="cameras"/>; returns how many cameras it stopped (their ffmpeg has exited).</summary>
    public async Task<int> ApplyAsync(IReadOnlyList<CameraConfig> cameras, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            _cameras = cameras;
            var wanted = cameras.Where(c => c.Enabled && c.RecordingEnabled).ToDictionary(c => c.Id);
            foreach (var camera in cameras.Where(c => !c.Enabled || !c.RecordingEnabled))
            {
                _states.Report(camera.Id, RecordingStates.Disabled, "recording is disabled for this camera");
            }

            List<CameraRecorder> toStop;
            lock (_recorders)
            {
                toStop = _recorders.Values.Where(r => !wanted.TryGetValue(r.Camera.Id, out var c) || !c.SameRecordingSource(r.Camera)).ToList();
                foreach (var r in toStop)
                {
                    _recorders.Remove(r.Camera.Id);
                    _stopping.Add(r.Camera.Id);
                }
            }

            var decodersToStop = _decoders.Where(d => !wanted.TryGetValue(d.Key, out var c) || !c.IsAnalysed ||
                                                      (c.SubStreamUrl ?? c.StreamUrl) != d.Value.SourceUrl).ToList();
            foreach (var (id, _) in decodersToStop)
            {
                _decoders.Remove(id);
            }

            await Task.WhenAll(toStop.Select(async r =>
            {
                RecorderLog.CameraReleased(_logger, r.Camera.Id);
                try
                {
                    await r.DisposeAsync();
                }
                finally
                {
                    lock (_recorders)
                    {
                        _stopping.Remove(r.Camera.Id);
                    }
                }

                if (!wanted.ContainsKey(r.Camera.Id))
                {
                    _states.Forget(r.Camera.Id);
                }
            }).Concat(decodersToStop.Select(d => d.Value.DisposeAsync().AsTask())));

            foreach (var camera in wanted.Values)
            {
                bool start;
                lock (_recorders)
                {
                    start = !_recorders.ContainsKey(camera.Id);
                }

                if (start)
                {
                    var recorder = new CameraRecorder(camera, _options, _root, _sealed, _states, _children, _clock,
                        _loggers.CreateLogger("OpenNvr.Recorder.Recording.Camera"), _live);
                    lock (_recorders)
                    {
                        _recorders[camera.Id] = recorder;
                    }

                    RecorderLog.CameraAcquired(_logger, camera.Id);
                    _reconciler.Schedule(camera.Id);
                    recorder.Start();
                }

                if (camera.IsAnalysed && !_decoders.ContainsKey(camera.Id))
                {
                    var decoder = new FrameDecoder(camera, _options, _root, _frames, _children, _loggers.CreateLogger("OpenNvr.Recorder.Frames.Decoder"), _live);
                    _decoders[camera.Id] = decoder;
                    decoder.Start();
                }
            }

            return toStop.Count;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task StopAllAsync(CancellationToken ct) => ApplyAsync([], ct);

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync(CancellationToken.None);
        _gauge.Dispose();
    }
}
