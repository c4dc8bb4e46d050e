using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

public sealed record OccupancyOutboxEntry(OccupancyBucketIngest Bucket, OutboxPosition After);

/// <summary>
/// The durable queue of occupancy buckets between the people pipeline and Core's <c>/internal/occupancy</c>, like the
/// <see cref="EventOutbox"/>: <c>&lt;state&gt;/occupancy/</c>, bounded (the oldest file goes past the cap, counted in
/// <c>opennvr.recorder.events_dropped</c> with reason <c>occupancy_outbox_full</c>). One bucket a camera every 10 s is
/// small: the default cap holds weeks of a camera's series while Core is away.
/// </summary>
public sealed class OccupancyOutbox : IDisposable
{
    private readonly object _gate = new();
    private readonly DurableQueue<OccupancyBucketIngest> _queue;
    private readonly long _maxBytes;

    public OccupancyOutbox(string directory, long maxBytes, long rollBytes = 256 * 1024)
    {
        _maxBytes = Math.Max(rollBytes * 2, maxBytes);
        _queue = new DurableQueue<OccupancyBucketIngest>(directory, "occupancy", rollBytes, ContractJson.Options);
    }

    /// <summary>Buckets not yet acknowledged by Core.</summary>
    public long Depth => _queue.Depth;

    public void Append(OccupancyBucketIngest bucket)
    {
        lock (_gate)
        {
            _queue.Append(bucket);
            var lost = _queue.DropOldestOverCap(_maxBytes);
            if (lost > 0)
            {
                RecorderTelemetry.EventsDropped.Add(lost, new KeyValuePair<string, object?>("reason", "occupancy_outbox_full"));
            }
        }
    }

    public Task WaitForAppendAsync(TimeSpan timeout, CancellationToken ct) => _queue.WaitForAppendAsync(timeout, ct);

    public IReadOnlyList<OccupancyOutboxEntry> Peek(int max) =>
        _queue.Peek(max).Select(e => new OccupancyOutboxEntry(e.Item, e.After)).ToList();

    public void Acknowledge(IReadOnlyList<OccupancyOutboxEntry> entries)
    {
        if (entries.Count > 0)
        {
            _queue.Acknowledge(entries[^1].After, entries.Count);
        }
    }

    public void DeadLetter(OccupancyBucketIngest bucket, string reason, DateTimeOffset at) =>
        _queue.DeadLetter(new { bucket, reason, at_unix = at.ToUnixTimeMilliseconds() / 1000.0 });

    public void Dispose() => _queue.Dispose();
}
