using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Apis;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Integrations.Webhooks;

/// <summary>
/// Turns stored events into rows of the durable delivery queue, one per matching enabled hook. Event ingest only hands
/// events over (a bounded in-memory channel, never waiting); this loop matches them against the hooks (cached a few
/// seconds, so that hooks registered on another Core replica are seen quickly) and inserts the deliveries in one
/// batch, then wakes the <see cref="WebhookDispatcher"/>.
/// </summary>
public sealed partial class WebhookQueue : BackgroundService
{
    private static readonly TimeSpan HookCacheLifetime = TimeSpan.FromSeconds(5);

    private readonly IServiceScopeFactory _scopes;
    private readonly WebhookDispatcher _dispatcher;
    private readonly IntegrationsTelemetry _telemetry;
    private readonly TimeProvider _clock;
    private readonly ILogger<WebhookQueue> _logger;
    private readonly JsonSerializerOptions _json;
    private readonly Channel<StoredEvent> _events;
    private IReadOnlyList<HookFilter>? _hooks;
    private long _hooksLoadedAt;
    private long _dropped;
    private volatile bool _anyHooks = true;

    public WebhookQueue(IServiceScopeFactory scopes, WebhookDispatcher dispatcher, IntegrationsTelemetry telemetry, TimeProvider clock,
        IOptions<WebhookOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, ILogger<WebhookQueue> logger)
    {
        _scopes = scopes;
        _dispatcher = dispatcher;
        _telemetry = telemetry;
        _clock = clock;
        _logger = logger;
        _json = json.Value.SerializerOptions;
        _events = Channel.CreateBounded<StoredEvent>(new BoundedChannelOptions(options.Value.EnqueueCapacity) { SingleReader = true });
        dispatcher.HookDisabled += HooksChanged;
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Whether any enabled hook may exist (checked every few seconds; true at once when hooks change here), so that
    /// ingest can skip handing events over when nobody listens.
    /// </summary>
    public bool AnyHooks => _anyHooks;

    /// <summary>Hands stored events over for delivery; never waits (a full hand-over queue drops, counts and logs).</summary>
    public void EventsStored(IEnumerable<StoredEvent> events)
    {
        foreach (var e in events)
        {
            if (!_events.Writer.TryWrite(e))
            {
                Interlocked.Increment(ref _dropped);
                _telemetry.WebhookEnqueued("dropped", 1);
                EventDropped(_logger, e.Event.Id);
            }
        }
    }

    /// <summary>Hooks were added, changed or removed on this replica: match against the new set at once.</summary>
    public void HooksChanged()
    {
        _hooks = null;
        _anyHooks = true;
    }

    /// <summary>Queues a test delivery for one hook (the console's "test delivery") and returns its id.</summary>
    public async Task<long> EnqueueTestAsync(NvrDbContext db, int webhookId, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        var delivery = new WebhookDelivery
        {
            WebhookId = webhookId,
            Kind = "test",
            EventType = "test",
            Payload = JsonSerializer.Serialize(new { message = "Test delivery from OpenNVR", sent_by = "console" }),
            CreatedAt = now,
            NextAttemptAt = now,
        };
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(ct);
        _telemetry.WebhookEnqueued("queued", 1);
        _dispatcher.Wake();
        return delivery.Id;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = WatchHookPresenceAsync(stoppingToken);
        var batch = new List<StoredEvent>(256);
        try
        {
            while (await _events.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < 256 && _events.Reader.TryRead(out var e))
                {
                    batch.Add(e);
                }

                try
                {
                    await EnqueueAsync(batch, stoppingToken);
                }
                catch (Exception ex) when (ex is DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
                {
                    // nvrdb is away: these deliveries are lost (the events themselves are stored); say how many.
                    _telemetry.WebhookEnqueued("dropped", batch.Count);
                    Interlocked.Add(ref _dropped, batch.Count);
                    EnqueueFailed(_logger, batch.Count, ex.GetBaseException().Message);
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task EnqueueAsync(List<StoredEvent> batch, CancellationToken ct)
    {
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
        var deliveries = Deliveries(batch, await HooksAsync(db, ct));
        if (deliveries.Count == 0)
        {
            return;
        }

        using var activity = IntegrationsTelemetry.ActivitySource.StartActivity("webhooks.enqueue");
        db.WebhookDeliveries.AddRange(deliveries);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // A hook was deleted since the cache was filled (foreign key): match against the hooks of now, once more.
            _hooks = null;
            db.ChangeTracker.Clear();
            deliveries = Deliveries(batch, await HooksAsync(db, ct));
            db.WebhookDeliveries.AddRange(deliveries);
            await db.SaveChangesAsync(ct);
        }

        activity?.SetTag("webhooks.deliveries", deliveries.Count);
        _telemetry.WebhookEnqueued("queued", deliveries.Count);
        _dispatcher.Wake();
    }

    private List<WebhookDelivery> Deliveries(List<StoredEvent> batch, IReadOnlyList<HookFilter> hooks)
    {
        var now = _clock.GetUtcNow();
        var deliveries = new List<WebhookDelivery>();
        foreach (var stored in batch)
        {
            string? payload = null;
            foreach (var hook in hooks.Where(h => h.Matches(stored.EventType, stored.Event.CameraId)))
            {
                payload ??= JsonSerializer.Serialize(stored.Event, _json);
                deliveries.Add(new WebhookDelivery
                {
                    WebhookId = hook.Id,
                    Kind = "event",
                    EventId = stored.Event.Id,
                    EventType = stored.EventType,
                    CameraId = stored.Event.CameraId,
                    Payload = payload,
                    CreatedAt = now,
                    NextAttemptAt = now,
                });
            }
        }

        return deliveries;
    }

    private async Task WatchHookPresenceAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(HookCacheLifetime, _clock);
        do
        {
            try
            {
                using var scope = _scopes.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
                _anyHooks = (await HooksAsync(db, stoppingToken)).Count > 0;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
            {
                _anyHooks = true; // unknown: keep handing events over
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (await WaitTickAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitTickAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<IReadOnlyList<HookFilter>> HooksAsync(NvrDbContext db, CancellationToken ct)
    {
        if (_hooks is { } cached && _clock.GetElapsedTime(_hooksLoadedAt) < HookCacheLifetime)
        {
            return cached;
        }

        var rows = await db.Webhooks.AsNoTracking().Where(h => h.Enabled)
            .Select(h => new { h.Id, h.EventTypes, h.CameraIds }).ToListAsync(ct);
        _hooksLoadedAt = _clock.GetTimestamp();
        return _hooks = rows.Select(h => new HookFilter(h.Id, h.EventTypes, h.CameraIds.ToHashSet())).ToList();
    }

    [LoggerMessage(1, LogLevel.Warning, "Webhook hand-over queue full: event {EventId} will not be delivered to webhooks")]
    private static partial void EventDropped(ILogger logger, long eventId);

    [LoggerMessage(2, LogLevel.Error, "Could not queue webhook deliveries for {Count} events: {Reason}")]
    private static partial void EnqueueFailed(ILogger logger, int count, string reason);
}

/// <summary>A stored event on its way to the hooks, with the type hooks filter on.</summary>
public sealed record StoredEvent(EventDto Event, string EventType);

/// <summary>Which events a hook wants: <c>event_types</c> (exact, <c>prefix.*</c> or <c>*</c>; none = all) and <c>camera_ids</c> (none = all).</summary>
public sealed record HookFilter(int Id, IReadOnlyList<string> EventTypes, IReadOnlySet<int> CameraIds)
{
    public bool Matches(string eventType, int cameraId) =>
        (CameraIds.Count == 0 || CameraIds.Contains(cameraId)) &&
        (EventTypes.Count == 0 || EventTypes.Any(pattern => TypeMatches(pattern, eventType)));

    public static bool TypeMatches(string pattern, string eventType) =>
        pattern == "*" || pattern == eventType ||
        pattern.EndsWith(".*", StringComparison.Ordinal) && eventType.StartsWith(pattern[..^1], StringComparison.Ordinal);
}
