using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Delivers the event outbox to Core's ingest in order, in batches of up to <c>Recorder:EventBatchSize</c> events:
/// what waits when the sender is free goes at once (plus what arrives within <c>Recorder:EventBatchMilliseconds</c>,
/// 0 by default), so batches form from what arrives while a call is in flight or Core is away. A batch leaves the outbox only after Core
/// answered 2xx; while Core is away it waits 0.5-5 s and retries (the outbox keeps everything, within its cap). A
/// batch Core refuses (4xx) is retried one event at a time so that only the refused events are dead-lettered.
/// </summary>
public sealed class EventSender(EventOutbox outbox, CoreClient core, IOptions<AnalyticsOptions> options, ILogger<EventSender> logger) : BackgroundService
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(5);

    /// <summary>Batches Core acknowledged (tests and the bench watch it).</summary>
    public long BatchesSent { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batchSize = Math.Clamp(options.Value.EventBatchSize, 1, 500);
        var linger = TimeSpan.FromMilliseconds(Math.Clamp(options.Value.EventBatchMilliseconds, 0, 60_000));
        var pause = TimeSpan.FromMilliseconds(500);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (outbox.Peek(1).Count == 0)
                {
                    await outbox.WaitForAppendAsync(TimeSpan.FromSeconds(2), stoppingToken);
                    continue;
                }

                // Something waits: give the batch a moment to fill unless it is full already.
                var started = DateTime.UtcNow;
                while (outbox.Peek(batchSize).Count < batchSize && DateTime.UtcNow - started < linger)
                {
                    await outbox.WaitForAppendAsync(linger - (DateTime.UtcNow - started), stoppingToken);
                }

                await DeliverAsync(outbox.Peek(batchSize), stoppingToken);
                pause = TimeSpan.FromMilliseconds(500);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or IOException)
            {
                RecorderLog.CoreUnreachableForEvents(logger, outbox.Depth, ex.Message);
                try
                {
                    await Task.Delay(pause, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                pause = TimeSpan.FromTicks(Math.Min(MaxPause.Ticks, pause.Ticks * 2));
            }
        }
    }

    private async Task DeliverAsync(IReadOnlyList<EventOutboxEntry> batch, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await core.IngestEventsAsync(batch.Select(e => e.Event).ToList(), ct);
            outbox.Acknowledge(batch);
            BatchesSent++;
        }
        catch (CoreRejectedException) when (batch.Count > 1)
        {
            foreach (var entry in batch)
            {
                await DeliverAsync([entry], ct);
            }
        }
        catch (CoreRejectedException ex)
        {
            var e = batch[0].Event;
            outbox.DeadLetter(e, ex.Message);
            outbox.Acknowledge(batch);
            RecorderTelemetry.EventsDropped.Add(1, new KeyValuePair<string, object?>("reason", "rejected"));
            RecorderLog.EventRejected(logger, e.CameraId, e.Task, (int)ex.Status, ex.Detail);
        }
    }
}
