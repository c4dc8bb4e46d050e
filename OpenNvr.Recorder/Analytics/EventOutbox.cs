using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

public sealed record EventOutboxEntry(EventIngest Event, OutboxPosition After);

/// <summary>
/// The durable queue of AI events between the pipeline and Core's ingest, so that events are not lost while Core is
/// away. A <see cref="DurableQueue{T}"/> under <c>&lt;RecordingsRoot&gt;/.outbox/&lt;recorder id&gt;/events/</c>:
/// <c>events-NNNNNN.jsonl</c> (append-only JSON lines, fsync'd, a new file every <see cref="RollBytes"/>),
/// <c>delivered.json</c> (the position Core acknowledged, replaced atomically), <c>rejected.jsonl</c> (events Core
/// refused with a 4xx). Unlike chunk registrations (which the reconciler can rebuild from the files), events are
/// bounded on disk: when the files pass <c>Recorder:EventOutboxMaxBytes</c> the oldest file goes, and its undelivered
/// events are counted in <c>opennvr.recorder.events_dropped</c> (reason <c>outbox_full</c>). A torn last line is cut
/// off at start-up.
/// </summary>
public sealed class EventOutbox : IDisposable
{
    private readonly object _gate = new();
    private readonly DurableQueue<EventIngest> _queue;
    private readonly long _maxBytes;
    private readonly IDisposable _gauge;
    private long _dropped;

    public EventOutbox(string directory, long maxBytes, long rollBytes = 1024 * 1024)
    {
        _maxBytes = Math.Max(rollBytes * 2, maxBytes);
        _queue = new DurableQueue<EventIngest>(directory, "events", rollBytes, ContractJson.Options);
        _gauge = RecorderTelemetry.ObserveEventOutboxDepth(this, () => _queue.Depth);
    }

    public long RollBytes => _queue.RollBytes;

    /// <summary>Events not yet acknowledged by Core.</summary>
    public long Depth => _queue.Depth;

    /// <summary>Events dropped because the outbox was over its cap (since start).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Append(EventIngest e)
    {
        // The cap is enforced on every append, so the files never grow more than one append past it.
        lock (_gate)
        {
            _queue.Append(e);
            var lost = _queue.DropOldestOverCap(_maxBytes);
            if (lost > 0)
            {
                Interlocked.Add(ref _dropped, lost);
                RecorderTelemetry.EventsDropped.Add(lost, new KeyValuePair<string, object?>("reason", "outbox_full"));
            }
        }
    }

    public Task WaitForAppendAsync(TimeSpan timeout, CancellationToken ct) => _queue.WaitForAppendAsync(timeout, ct);

    public IReadOnlyList<EventOutboxEntry> Peek(int max) =>
        _queue.Peek(max).Select(e => new EventOutboxEntry(e.Item, e.After)).ToList();

    /// <summary>Core acknowledged everything up to <paramref name="entries"/>' last position (ignored if the cap
    /// already moved past it).</summary>
    public void Acknowledge(IReadOnlyList<EventOutboxEntry> entries)
    {
        if (entries.Count > 0)
        {
            _queue.Acknowledge(entries[^1].After, entries.Count);
        }
    }

    public void DeadLetter(EventIngest e, string reason, DateTimeOffset at) =>
        _queue.DeadLetter(new { @event = e, reason, at_unix = at.ToUnixTimeMilliseconds() / 1000.0 });

    public void Dispose()
    {
        _gauge.Dispose();
        _queue.Dispose();
    }
}
