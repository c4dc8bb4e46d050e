using System.Collections.Concurrent;
using OpenNvr.Recorder.Infrastructure;

namespace OpenNvr.Recorder.Recording;

public sealed record CameraState(string State, string? Reason, double? LastRecordingAtUnix, DateTimeOffset At);

/// <summary>
/// Reports each camera's recording state to Core. Only the latest state per camera matters, so a state that could
/// not be sent (Core away) is replaced by newer ones and sent when Core answers again.
/// </summary>
public sealed class CameraStateReporter(CoreClient core, TimeProvider clock, ILogger<CameraStateReporter> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<int, CameraState> _current = new();
    private readonly ConcurrentDictionary<int, CameraState> _unsent = new();
    private readonly SemaphoreSlim _signal = new(0);

    /// <summary>The latest state of every camera this replica has recorded (for tests and /health).</summary>
    public IReadOnlyDictionary<int, CameraState> Current => _current;

    public void Report(int cameraId, string state, string? reason = null, double? lastRecordingAtUnix = null)
    {
        var previous = _current.TryGetValue(cameraId, out var p) ? p : null;
        var last = lastRecordingAtUnix ?? previous?.LastRecordingAtUnix;
        var next = new CameraState(state, reason is { Length: > 500 } ? reason[..500] : reason, last, clock.GetUtcNow());
        _current[cameraId] = next;
        if (previous is not null && previous.State == state && previous.Reason == next.Reason && previous.LastRecordingAtUnix == last)
        {
            return;
        }

        _unsent[cameraId] = next;
        _signal.Release();
    }

    /// <summary>Moves last_recording_at forward without a state change (sent with the next report).</summary>
    public void ChunkFinished(int cameraId, double endUnix)
    {
        if (_current.TryGetValue(cameraId, out var p) && (p.LastRecordingAtUnix ?? 0) < endUnix)
        {
            _current[cameraId] = p with { LastRecordingAtUnix = endUnix };
        }
    }

    public void Forget(int cameraId)
    {
        _current.TryRemove(cameraId, out _);
        _unsent.TryRemove(cameraId, out _);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(TimeSpan.FromSeconds(2), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            foreach (var (cameraId, state) in _unsent.ToArray())
            {
                try
                {
                    await core.ReportStateAsync(cameraId, new CameraStateRequest(state.State, state.Reason, state.LastRecordingAtUnix), stoppingToken);
                    _unsent.TryRemove(new KeyValuePair<int, CameraState>(cameraId, state));
                }
                catch (CoreRejectedException ex)
                {
                    // Unknown camera (deleted meanwhile) or an invalid report: nothing to retry.
                    _unsent.TryRemove(new KeyValuePair<int, CameraState>(cameraId, state));
                    RecorderLog.StateRejected(logger, cameraId, ex.Detail);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException)
                {
                    if (stoppingToken.IsCancellationRequested)
                    {
                        return;
                    }

                    RecorderLog.StateNotSent(logger, cameraId, ex.Message);
                    break; // Core is away: try again at the next tick
                }
            }
        }
    }
}
