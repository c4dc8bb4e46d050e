using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Registration;

/// <summary>
/// Delivers the outbox to Core in order: a batch is acknowledged (and removed from the outbox) only after Core
/// answered 2xx. While Core is unreachable it waits with a growing pause (0.5 s to 5 s) and tries again; recording
/// goes on meanwhile. A batch Core refuses (4xx) is retried one chunk at a time so that only the refused chunks go to
/// the dead-letter file, each logged as an error.
/// </summary>
public sealed class RegistrationSender(
    ChunkOutbox outbox,
    CoreClient core,
    IOptions<RecorderOptions> options,
    TimeProvider clock,
    ILogger<RegistrationSender> logger) : BackgroundService
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(5);

    /// <summary>On shutdown, chunks closed by the stopping supervisors get this long to reach Core (else they wait in the outbox).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await SendLoopAsync(stoppingToken);
        using var drain = new CancellationTokenSource(DrainTimeout);
        try
        {
            while (outbox.Peek(1).Count > 0)
            {
                await DeliverAsync(outbox.Peek(Math.Clamp(options.Value.RegistrationBatchSize, 1, 1000)), drain.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or TimeoutException or IOException)
        {
            // Core away at shutdown: the outbox keeps them for the next start.
        }
    }

    private async Task SendLoopAsync(CancellationToken stoppingToken)
    {
        var pause = TimeSpan.FromMilliseconds(500);
        var batchSize = Math.Clamp(options.Value.RegistrationBatchSize, 1, 1000);
        while (!stoppingToken.IsCancellationRequested)
        {
            var batch = outbox.Peek(batchSize);
            if (batch.Count == 0)
            {
                try
                {
                    await outbox.WaitForAppendAsync(TimeSpan.FromSeconds(2), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            try
            {
                await DeliverAsync(batch, stoppingToken);
                pause = TimeSpan.FromMilliseconds(500);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or IOException)
            {
                RecorderLog.CoreUnreachableForRegistration(logger, outbox.Depth, ex.Message);
                try
                {
                    await Task.Delay(pause, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                pause = TimeSpan.FromTicks(Math.Min(MaxPause.Ticks, pause.Ticks * 2));
            }
        }
    }

    private async Task DeliverAsync(IReadOnlyList<OutboxEntry> batch, CancellationToken ct)
    {
        try
        {
            var answer = await core.RegisterAsync(batch.Select(e => e.Chunk).ToList(), ct);
            Acknowledge(batch);
            RecorderLog.ChunksRegistered(logger, answer.Inserted, answer.Duplicates, outbox.Depth);
        }
        catch (CoreRejectedException) when (batch.Count > 1)
        {
            // Find the refused chunk(s): one at a time, in order.
            foreach (var entry in batch)
            {
                await DeliverAsync([entry], ct);
            }
        }
        catch (CoreRejectedException ex)
        {
            var chunk = batch[0].Chunk;
            outbox.DeadLetter(chunk, ex.Message);
            outbox.Acknowledge(batch);
            RecorderTelemetry.RegistrationsRejected.Add(1, new KeyValuePair<string, object?>("status", (int)ex.Status));
            RecorderLog.ChunkRejected(logger, chunk.CameraId, chunk.Path, (int)ex.Status, ex.Detail);
        }
    }

    private void Acknowledge(IReadOnlyList<OutboxEntry> batch)
    {
        outbox.Acknowledge(batch);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        foreach (var entry in batch)
        {
            RecorderTelemetry.RegistrationLag.Record(Math.Max(0, now - entry.Chunk.EndUnix),
                new KeyValuePair<string, object?>("camera", entry.Chunk.CameraId));
        }
    }
}
