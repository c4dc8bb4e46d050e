using OpenNvr.Recorder.Infrastructure;

namespace OpenNvr.Recorder.Registration;

/// <summary>
/// How an outbox reaches Core, shared by chunk registrations and AI events: send while something waits, wait for an
/// append when nothing does, and while Core is unreachable pause 0.5 s, doubling up to 5 s, then try again (the outbox
/// keeps everything meanwhile). A batch Core refuses (4xx) is re-sent one entry at a time, so that only the refused
/// entries are dead-lettered.
/// </summary>
internal static class OutboxDelivery
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs until <paramref name="stoppingToken"/> is cancelled. <paramref name="sendNext"/> sends one batch and
    /// answers false when there was nothing to send; <paramref name="waitForAppend"/> waits for the outbox to grow.
    /// </summary>
    public static async Task RunAsync(
        Func<CancellationToken, Task<bool>> sendNext,
        Func<TimeSpan, CancellationToken, Task> waitForAppend,
        Action<Exception> coreUnreachable,
        TimeProvider clock,
        CancellationToken stoppingToken)
    {
        var pause = FirstPause;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await sendNext(stoppingToken))
                {
                    await waitForAppend(TimeSpan.FromSeconds(2), stoppingToken);
                    continue;
                }

                pause = FirstPause;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or IOException)
            {
                coreUnreachable(ex);
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

    /// <summary>Sends <paramref name="batch"/>; on a refusal, its entries one by one, dead-lettering those refused.</summary>
    public static async Task DeliverAsync<TEntry>(
        IReadOnlyList<TEntry> batch,
        Func<IReadOnlyList<TEntry>, Task> send,
        Action<TEntry, CoreRejectedException> deadLetter)
    {
        try
        {
            await send(batch);
        }
        catch (CoreRejectedException) when (batch.Count > 1)
        {
            foreach (var entry in batch)
            {
                await DeliverAsync([entry], send, deadLetter);
            }
        }
        catch (CoreRejectedException ex)
        {
            deadLetter(batch[0], ex);
        }
    }
}
