using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Registration;

/// <summary>
/// Delivers the chunk outbox to Core in order (<see cref="OutboxDelivery"/>): a batch is acknowledged (and removed
/// from the outbox) only after Core answered 2xx; recording goes on while Core is away; refused chunks go to the
/// dead-letter file, each logged as an error. At shutdown, what the stopping supervisors closed gets a short drain.
/// </summary>
public sealed class RegistrationSender(
    ChunkOutbox outbox,
    CoreClient core,
    IOptions<RecorderOptions> options,
    TimeProvider clock,
    ILogger<RegistrationSender> logger) : BackgroundService
{
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
                await DeliverAsync(outbox.Peek(options.Value.RegistrationBatchSize), drain.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or TimeoutException or IOException)
        {
            // Core away at shutdown: the outbox keeps them for the next start.
        }
    }

    private Task SendLoopAsync(CancellationToken stoppingToken)
    {
        var batchSize = options.Value.RegistrationBatchSize;
        return OutboxDelivery.RunAsync(
            async ct =>
            {
                var batch = outbox.Peek(batchSize);
                if (batch.Count == 0)
                {
                    return false;
                }

                await DeliverAsync(batch, ct);
                return true;
            },
            outbox.WaitForAppendAsync,
            ex => RecorderLog.CoreUnreachableForRegistration(logger, outbox.Depth, ex.Message),
            clock,
            stoppingToken);
    }

    private Task DeliverAsync(IReadOnlyList<OutboxEntry> batch, CancellationToken ct) => OutboxDelivery.DeliverAsync(
        batch,
        async entries =>
        {
            var answer = await core.RegisterAsync(entries.Select(e => e.Chunk).ToList(), ct);
            Acknowledge(entries);
            RecorderLog.ChunksRegistered(logger, answer.Inserted, answer.Duplicates, outbox.Depth);
        },
        (entry, rejection) =>
        {
            outbox.DeadLetter(entry.Chunk, rejection.Message, clock.GetUtcNow());
            outbox.Acknowledge([entry]);
            RecorderTelemetry.RegistrationsRejected.Add(1, new KeyValuePair<string, object?>("status", (int)rejection.Status));
            RecorderLog.ChunkRejected(logger, entry.Chunk.CameraId, entry.Chunk.Path, (int)rejection.Status, rejection.Detail);
        });

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
