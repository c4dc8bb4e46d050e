using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Delivers the event outbox to Core's ingest in order, in batches of up to <c>Recorder:EventBatchSize</c> events:
/// what waits when the sender is free goes at once (plus what arrives within <c>Recorder:EventBatchMilliseconds</c>,
/// 0 by default), so batches form from what arrives while a call is in flight or Core is away. A batch leaves the outbox only after Core
/// answered 2xx; while Core is away it waits 0.5-5 s and retries (the outbox keeps everything, within its cap). A
/// batch Core refuses (4xx) is retried one event at a time so that only the refused events are dead-lettered.
/// </summary>
public sealed class EventSender(EventOutbox outbox, CoreClient core, IOptions<AnalyticsOptions> options, TimeProvider clock, ILogger<EventSender> logger)
    : BackgroundService
{
    /// <summary>Batches Core acknowledged (tests and the bench watch it).</summary>
    public long BatchesSent { get; private set; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batchSize = options.Value.EventBatchSize;
        var linger = TimeSpan.FromMilliseconds(options.Value.EventBatchMilliseconds);
        return OutboxDelivery.RunAsync(
            async ct =>
            {
                if (outbox.Peek(1).Count == 0)
                {
                    return false;
                }

                // Something waits: give the batch a moment to fill unless it is full already.
                var started = clock.GetTimestamp();
                while (outbox.Peek(batchSize).Count < batchSize && clock.GetElapsedTime(started) < linger)
                {
                    await outbox.WaitForAppendAsync(linger - clock.GetElapsedTime(started), ct);
                }

                var batch = outbox.Peek(batchSize);
                if (batch.Count == 0)
                {
                    return false; // the cap dropped what was waiting
                }

                await DeliverAsync(batch, ct);
                return true;
            },
            outbox.WaitForAppendAsync,
            ex => RecorderLog.CoreUnreachableForEvents(logger, outbox.Depth, ex.Message),
            clock,
            stoppingToken);
    }

    private Task DeliverAsync(IReadOnlyList<EventOutboxEntry> batch, CancellationToken ct) => OutboxDelivery.DeliverAsync(
        batch,
        async entries =>
        {
            await core.IngestEventsAsync(entries.Select(e => e.Event).ToList(), ct);
            outbox.Acknowledge(entries);
            BatchesSent++;
        },
        (entry, rejection) =>
        {
            outbox.DeadLetter(entry.Event, rejection.Message, clock.GetUtcNow());
            outbox.Acknowledge([entry]);
            RecorderTelemetry.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", "rejected"));
            RecorderLog.EventRejected(logger, entry.Event.CameraId, entry.Event.Task, (int)rejection.Status, rejection.Detail);
        });
}
