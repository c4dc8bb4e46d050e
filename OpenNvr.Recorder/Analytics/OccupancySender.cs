using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Delivers the <see cref="OccupancyOutbox"/> to Core in order, up to <see cref="MaxBatch"/> buckets a call; a bucket
/// leaves the outbox only after Core answered 2xx; while Core is away it waits and retries; a bucket Core refuses (4xx)
/// is dead-lettered alone.
/// </summary>
public sealed class OccupancySender(OccupancyOutbox outbox, CoreClient core, TimeProvider clock, ILogger<OccupancySender> logger) : BackgroundService
{
    public const int MaxBatch = 100;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => OutboxDelivery.RunAsync(
        async ct =>
        {
            var batch = outbox.Peek(MaxBatch);
            if (batch.Count == 0)
            {
                return false;
            }

            await OutboxDelivery.DeliverAsync(
                batch,
                async entries =>
                {
                    await core.IngestOccupancyAsync(entries.Select(e => e.Bucket).ToList(), ct);
                    outbox.Acknowledge(entries);
                },
                (entry, rejection) =>
                {
                    outbox.DeadLetter(entry.Bucket, rejection.Message, clock.GetUtcNow());
                    outbox.Acknowledge([entry]);
                    RecorderTelemetry.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", "occupancy_rejected"));
                    RecorderLog.EventRejected(logger, entry.Bucket.CameraId, "occupancy", (int)rejection.Status, rejection.Detail);
                });
            return true;
        },
        outbox.WaitForAppendAsync,
        ex => RecorderLog.CoreUnreachableForEvents(logger, outbox.Depth, ex.Message),
        clock,
        stoppingToken);
}
