using System.Globalization;
using System.Text.Json.Nodes;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Registration;

public sealed record OutboxEntry(ChunkRegistration Chunk, OutboxPosition After);

/// <summary>
/// The durable queue of chunk registrations between the segmenter and Core, so that recording never depends on Core
/// being up. A <see cref="DurableQueue{T}"/> under the replica's folder <c>&lt;RecordingsRoot&gt;/.outbox/&lt;recorder id&gt;/</c>:
/// <list type="bullet">
/// <item><c>chunks-NNNNNN.jsonl</c>: append-only JSON lines, one registration each, fsync'd before
/// <see cref="Append"/> returns; a new file is started when the current one passes <see cref="RollBytes"/> (4 MB).</item>
/// <item><c>delivered.json</c>: <c>{"file":N,"offset":B,"cameras":{"id":end_unix}}</c>, the position up to which
/// Core acknowledged and the end of each camera's last acknowledged chunk (the reconciliation horizon), replaced
/// atomically (write, fsync, rename). Files wholly before it are deleted.</item>
/// <item><c>rejected.jsonl</c>: registrations Core refused with a 4xx (dead letters, kept for the operator).</item>
/// </list>
/// Delivery is in order and at-least-once (a crash between Core's answer and the state write re-sends a batch);
/// Core's registration is idempotent on (camera_id, path), so every chunk gets exactly one index row.
/// A torn last line (power cut mid-append) is cut off at start-up.
/// </summary>
public sealed class ChunkOutbox : IDisposable
{
    public const long DefaultRollBytes = 4 * 1024 * 1024;
    private const string CamerasProperty = "cameras";

    private readonly object _gate = new();
    private readonly DurableQueue<ChunkRegistration> _queue;
    private readonly HashSet<(int, string)> _pendingPaths = [];
    private readonly IDisposable _gauge;
    private readonly Dictionary<int, double> _acknowledgedEnd = [];

    public ChunkOutbox(string directory, long rollBytes = DefaultRollBytes)
    {
        _queue = new DurableQueue<ChunkRegistration>(directory, "chunks", rollBytes, ContractJson.Options,
            replay: chunk => _pendingPaths.Add((chunk.CameraId, chunk.Path)));
        if (_queue.StoredExtra[CamerasProperty] is JsonObject cameras)
        {
            foreach (var (name, end) in cameras)
            {
                if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && end is JsonValue value)
                {
                    _acknowledgedEnd[id] = value.GetValue<double>();
                }
            }
        }

        _gauge = RecorderTelemetry.ObserveOutboxDepth(this, () => _queue.Depth);
    }

    /// <summary>Size after which appends go to a new file (delivered files are deleted).</summary>
    public long RollBytes => _queue.RollBytes;

    /// <summary>Registrations not yet acknowledged by Core.</summary>
    public long Depth => _queue.Depth;

    /// <summary>End (Unix s) of the camera's last chunk Core acknowledged, if any.</summary>
    public double? AcknowledgedEnd(int cameraId)
    {
        lock (_gate)
        {
            return _acknowledgedEnd.TryGetValue(cameraId, out var end) ? end : null;
        }
    }

    public bool IsPending(int cameraId, string path)
    {
        lock (_gate)
        {
            return _pendingPaths.Contains((cameraId, path));
        }
    }

    /// <summary>Appends and fsyncs one registration; when this returns the chunk will reach Core eventually.</summary>
    public void Append(ChunkRegistration chunk)
    {
        // Under the gate, so that IsPending never sees a chunk on disk but not pending (or pending but not on disk).
        lock (_gate)
        {
            _queue.Append(chunk);
            _pendingPaths.Add((chunk.CameraId, chunk.Path));
        }
    }

    /// <summary>Waits until something is appended (or the timeout passes).</summary>
    public Task WaitForAppendAsync(TimeSpan timeout, CancellationToken ct) => _queue.WaitForAppendAsync(timeout, ct);

    /// <summary>The oldest unacknowledged registrations, in order.</summary>
    public IReadOnlyList<OutboxEntry> Peek(int max) =>
        _queue.Peek(max).Select(e => new OutboxEntry(e.Item, e.After)).ToList();

    /// <summary>Core acknowledged everything up to <paramref name="entries"/>' last position.</summary>
    public void Acknowledge(IReadOnlyList<OutboxEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var ends = new Dictionary<int, double>(_acknowledgedEnd);
            foreach (var entry in entries)
            {
                if (!ends.TryGetValue(entry.Chunk.CameraId, out var end) || end < entry.Chunk.EndUnix)
                {
                    ends[entry.Chunk.CameraId] = entry.Chunk.EndUnix;
                }
            }

            // The horizon is persisted with the position in one atomic write, so that they never disagree.
            var cameras = new JsonObject();
            foreach (var (id, end) in ends)
            {
                cameras[id.ToString(CultureInfo.InvariantCulture)] = end;
            }

            if (!_queue.Acknowledge(entries[^1].After, entries.Count, new JsonObject { [CamerasProperty] = cameras }))
            {
                return; // already acknowledged
            }

            foreach (var (id, end) in ends)
            {
                _acknowledgedEnd[id] = end;
            }

            foreach (var entry in entries)
            {
                _pendingPaths.Remove((entry.Chunk.CameraId, entry.Chunk.Path));
            }
        }
    }

    /// <summary>Keeps a registration Core refused for good (4xx) so that it is not lost silently.</summary>
    public void DeadLetter(ChunkRegistration chunk, string reason, DateTimeOffset at) =>
        _queue.DeadLetter(new { chunk, reason, at_unix = at.ToUnixTimeMilliseconds() / 1000.0 });

    public void Dispose()
    {
        _gauge.Dispose();
        _queue.Dispose();
    }
}
