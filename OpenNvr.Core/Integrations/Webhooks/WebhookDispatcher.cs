using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Integrations.Webhooks;

/// <summary>
/// Sends the durable queue (<c>webhook_deliveries</c> rows with status pending). It claims due rows with
/// <c>FOR UPDATE SKIP LOCKED</c> and a lease (<c>locked_until</c>), so several Core replicas share the queue and a
/// replica that dies mid-round leaves its rows to the others once the lease lapses; sends up to
/// <see cref="WebhookOptions.Concurrency"/> at once (<see cref="WebhookSender"/>: one round of attempts), then records
/// the round: delivered, scheduled again (exponential with jitter, or the receiver's <c>Retry-After</c> if longer),
/// or failed. Failed rounds count against the hook; at the limit (or when a delivery fails for good, or on 410 Gone)
/// the hook is disabled and its pending deliveries abandoned, all visible in its delivery log. It is woken at once
/// when deliveries are queued, and otherwise looks every <see cref="WebhookOptions.PollIntervalMs"/>.
/// </summary>
public sealed partial class WebhookDispatcher(
    IServiceScopeFactory scopes,
    WebhookSender sender,
    IOptions<WebhookOptions> options,
    IntegrationsTelemetry telemetry,
    TimeProvider clock,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan CleanupInterval = TimeSpan.FromHours(1);

    private readonly WebhookOptions _options = options.Value;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _lastCleanup;

    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Raised when this dispatcher disabled a hook (the queue stops matching events against it at once).</summary>
    public event Action? HookDisabled;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _lastCleanup = clock.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await DispatchDueAsync(stoppingToken);
                if (clock.GetElapsedTime(_lastCleanup) > CleanupInterval)
                {
                    await CleanupAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                DispatchFailed(logger, ex.GetBaseException().Message);
            }

            if (claimed < _options.BatchSize)
            {
                try
                {
                    using var poll = new CancellationTokenSource(TimeSpan.FromMilliseconds(_options.PollIntervalMs), clock);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(poll.Token, stoppingToken);
                    await _wake.Reader.ReadAsync(linked.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                    // The poll interval passed: look for deliveries that became due (retries, other replicas' rows).
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Claims and sends one batch of due deliveries; returns how many were claimed.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken ct)
    {
        List<long> ids;
        using (var scope = scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
            var now = clock.GetUtcNow();
            var until = now + RoundLease;
            ids = await db.Database.SqlQuery<long>($"""
                UPDATE webhook_deliveries SET locked_until = {until}
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= {now} AND (locked_until IS NULL OR locked_until < {now})
                    ORDER BY next_attempt_at, id
                    LIMIT {_options.BatchSize}
                    FOR UPDATE SKIP LOCKED)
                RETURNING id AS "Value"
                """).ToListAsync(ct);
        }

        if (ids.Count > 0)
        {
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = ct },
                async (id, token) => await DeliverAsync(id, token));
        }

        return ids.Count;
    }

    /// <summary>Long enough for a whole round: every attempt timing out after the longest wait the round allows.</summary>
    private TimeSpan RoundLease => TimeSpan.FromSeconds(_options.AttemptsPerRound * (_options.TimeoutSeconds + _options.MaxRetryAfterSeconds) +
        _options.RetryDelayMs / 1000.0 * Math.Pow(2, _options.AttemptsPerRound) + 30);

    private async Task DeliverAsync(long id, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
        var delivery = await db.WebhookDeliveries.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (delivery is null || delivery.Status != WebhookDeliveryStates.Pending)
        {
            return;
        }

        var hook = await db.Webhooks.AsNoTracking().SingleOrDefaultAsync(h => h.Id == delivery.WebhookId, ct);
        if (hook is null)
        {
            return; // deleted: its deliveries went with it (cascade)
        }

        var now = clock.GetUtcNow();
        if (!hook.Enabled)
        {
            Complete(delivery, WebhookDeliveryStates.Abandoned, now, "the webhook is disabled");
            await db.SaveChangesAsync(ct);
            telemetry.WebhookDelivery(WebhookDeliveryStates.Abandoned);
            return;
        }

        using var activity = IntegrationsTelemetry.ActivitySource.StartActivity("webhook.deliver", ActivityKind.Client);
        activity?.SetTag("opennvr.webhook.id", hook.Id);
        activity?.SetTag("opennvr.webhook.delivery_id", delivery.Id);
        activity?.SetTag("opennvr.webhook.round", delivery.Rounds + 1);
        var secret = scope.ServiceProvider.GetRequiredService<WebhookSecretProtector>().Unprotect(hook.SecretProtected);
        var round = await sender.SendRoundAsync(hook.Url, secret, delivery, ct);
        now = clock.GetUtcNow();
        db.WebhookAttempts.AddRange(round.Attempts);
        delivery.Attempts += round.Attempts.Count;
        delivery.Rounds++;
        delivery.LastStatusCode = round.Last.StatusCode;
        delivery.LastError = round.Last.Error;
        delivery.LockedUntil = null;
        activity?.SetTag("opennvr.webhook.outcome", round.Outcome.ToString());

        string? disableReason = null;
        if (round.Outcome == RoundOutcome.Delivered)
        {
            Complete(delivery, WebhookDeliveryStates.Delivered, now, error: null);
            await db.SaveChangesAsync(ct);
            await db.Webhooks.Where(h => h.Id == hook.Id).ExecuteUpdateAsync(s => s
                .SetProperty(h => h.ConsecutiveFailures, 0)
                .SetProperty(h => h.LastDeliveryAt, now), ct);
            telemetry.WebhookDelivery(WebhookDeliveryStates.Delivered);
            return;
        }

        activity?.SetStatus(ActivityStatusCode.Error, round.Last.Error);
        if (round.Outcome == RoundOutcome.Gone)
        {
            Complete(delivery, WebhookDeliveryStates.Failed, now, round.Last.Error);
            disableReason = "the receiver answered 410 Gone";
        }
        else if (round.Outcome == RoundOutcome.Refused || delivery.Rounds >= _options.Rounds)
        {
            Complete(delivery, WebhookDeliveryStates.Failed, now, round.Last.Error);
            if (round.Outcome == RoundOutcome.Failed)
            {
                disableReason = $"a delivery failed in all {_options.Rounds} rounds ({delivery.Attempts} attempts); last: {round.Last.Error}";
            }
        }
        else
        {
            delivery.NextAttemptAt = now + NextRoundDelay(delivery.Rounds, round.RetryAfter);
        }

        await db.SaveChangesAsync(ct);
        telemetry.WebhookDelivery(delivery.Status == WebhookDeliveryStates.Pending ? "rescheduled" : delivery.Status);
        DeliveryRoundFailed(logger, delivery.Id, hook.Id, delivery.Rounds, round.Last.Error ?? "?", delivery.Status);

        var failures = await db.Database.SqlQuery<int>($"""
            UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = {hook.Id} RETURNING consecutive_failures AS "Value"
            """).ToListAsync(ct);
        if (disableReason is null && failures is [var streak] && streak >= _options.DisableAfterFailures)
        {
            disableReason = $"{streak} failed delivery rounds in a row; last: {round.Last.Error}";
        }

        if (disableReason is not null)
        {
            await DisableAsync(db, hook.Id, disableReason, now, ct);
        }
    }

    private async Task DisableAsync(NvrDbContext db, int hookId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        reason = reason.Length <= 500 ? reason : reason[..500];
        var disabled = await db.Webhooks.Where(h => h.Id == hookId && h.Enabled).ExecuteUpdateAsync(s => s
            .SetProperty(h => h.Enabled, false)
            .SetProperty(h => h.DisabledReason, reason)
            .SetProperty(h => h.DisabledAt, now)
            .SetProperty(h => h.UpdatedAt, now), ct);
        if (disabled == 0)
        {
            return; // another replica (or round) disabled it first
        }

        var abandoned = await db.WebhookDeliveries.Where(d => d.WebhookId == hookId && d.Status == WebhookDeliveryStates.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, WebhookDeliveryStates.Abandoned)
                .SetProperty(d => d.CompletedAt, now)
                .SetProperty(d => d.LockedUntil, (DateTimeOffset?)null)
                .SetProperty(d => d.LastError, "the webhook was disabled"), ct);
        telemetry.WebhookDisabled();
        HookDisabled?.Invoke();
        WebhookDisabled(logger, hookId, reason, abandoned);
    }

    /// <summary>The wait before round <paramref name="roundsDone"/> + 1: exponential with full jitter, at least the receiver's Retry-After.</summary>
    private TimeSpan NextRoundDelay(int roundsDone, TimeSpan? retryAfter)
    {
        var ceiling = _options.RoundDelaySeconds * Math.Pow(2, Math.Min(roundsDone - 1, 20));
        var jittered = TimeSpan.FromSeconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
        return retryAfter is { } wait && wait > jittered ? wait : jittered;
    }

    private static void Complete(WebhookDelivery delivery, string status, DateTimeOffset now, string? error)
    {
        delivery.Status = status;
        delivery.CompletedAt = now;
        delivery.LockedUntil = null;
        if (error is not null)
        {
            delivery.LastError = error.Length <= 500 ? error : error[..500];
        }
    }

    private async Task CleanupAsync(CancellationToken ct)
    {
        _lastCleanup = clock.GetTimestamp();
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
        var before = clock.GetUtcNow().AddDays(-_options.LogRetentionDays);
        var removed = await db.WebhookDeliveries
            .Where(d => d.Status != WebhookDeliveryStates.Pending && d.CompletedAt < before)
            .ExecuteDeleteAsync(ct);
        if (removed > 0)
        {
            LogCleaned(logger, removed, _options.LogRetentionDays);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Webhook delivery {DeliveryId} to hook {WebhookId}: round {Round} failed ({Error}); now {Status}")]
    private static partial void DeliveryRoundFailed(ILogger logger, long deliveryId, int webhookId, int round, string error, string status);

    [LoggerMessage(2, LogLevel.Warning, "Webhook {WebhookId} disabled: {Reason}; {Abandoned} pending deliveries abandoned")]
    private static partial void WebhookDisabled(ILogger logger, int webhookId, string reason, int abandoned);

    [LoggerMessage(3, LogLevel.Error, "Webhook dispatch failed: {Reason}")]
    private static partial void DispatchFailed(ILogger logger, string reason);

    [LoggerMessage(4, LogLevel.Information, "Removed {Count} finished webhook deliveries older than {Days} days from the delivery log")]
    private static partial void LogCleaned(ILogger logger, int count, int days);
}
