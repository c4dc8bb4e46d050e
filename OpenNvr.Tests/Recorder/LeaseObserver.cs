using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// Watches in-process Recorder replicas while a test runs: every few milliseconds it reads which cameras each one
/// records or is still stopping (<c>HeldCameraIds</c>, what ffmpeg runs) and remembers any instant at which two
/// replicas held one camera, and for each camera when it changed hands. Observation only: the test waits on states
/// (<see cref="Wait"/>), never on this sampler's timing.
/// </summary>
public sealed class LeaseObserver : IAsyncDisposable
{
    private readonly List<RecorderInstance> _replicas;
    private readonly List<string> _overlaps = [];
    private readonly Dictionary<int, string> _holder = [];
    private readonly List<(int Camera, string From, string To, DateTimeOffset At)> _moves = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;

    public LeaseObserver(params RecorderInstance[] replicas)
    {
        _replicas = [.. replicas];
        _sampling = Task.Run(SampleAsync);
    }

    /// <summary>Every instant two replicas held one camera (empty when the leases never overlapped).</summary>
    public IReadOnlyList<string> Overlaps
    {
        get
        {
            lock (_replicas)
            {
                return [.. _overlaps];
            }
        }
    }

    /// <summary>Cameras that went from one replica to another, and when the new one was first seen holding it.</summary>
    public IReadOnlyList<(int Camera, string From, string To, DateTimeOffset At)> Moves
    {
        get
        {
            lock (_replicas)
            {
                return [.. _moves];
            }
        }
    }

    public void Add(RecorderInstance replica)
    {
        lock (_replicas)
        {
            _replicas.Add(replica);
        }
    }

    /// <summary>Stops watching a replica (before it is disposed: a disposed host cannot be read).</summary>
    public void Remove(RecorderInstance replica)
    {
        lock (_replicas)
        {
            _replicas.Remove(replica);
        }
    }

    /// <summary>How many cameras each watched replica records now.</summary>
    public int[] Counts()
    {
        lock (_replicas)
        {
            return [.. _replicas.Select(r => r.Coordinator.RecordingCameraIds.Count)];
        }
    }

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            lock (_replicas)
            {
                var now = DateTimeOffset.UtcNow;
                var held = _replicas.SelectMany(r => Held(r).Select(c => (Camera: c, r.Id))).ToList();
                foreach (var twice in held.GroupBy(h => h.Camera).Where(g => g.Count() > 1))
                {
                    _overlaps.Add($"{now:HH:mm:ss.fff} camera {twice.Key} held by {string.Join(" and ", twice.Select(h => h.Id))}");
                }

                foreach (var (camera, id) in held)
                {
                    if (_holder.TryGetValue(camera, out var before) && before != id)
                    {
                        _moves.Add((camera, before, id, now));
                    }

                    _holder[camera] = id;
                }
            }

            try
            {
                await Task.Delay(20, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>What a replica holds; nothing once it has been stopped (a test disposes replicas in any order).</summary>
    private static IReadOnlyList<int> Held(RecorderInstance replica)
    {
        try
        {
            return replica.Coordinator.HeldCameraIds;
        }
        catch (ObjectDisposedException)
        {
            return [];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
