namespace OpenNvr.Core.Model;

/// <summary>An admin's webhook: matching events are POSTed to <see cref="Url"/>, signed with its secret.</summary>
public sealed class Webhook
{
    public int Id { get; set; }
    public required string Url { get; set; }

    /// <summary>The HMAC secret, encrypted with ASP.NET Data Protection (key ring in nvrdb); never returned by the API.</summary>
    public required string SecretProtected { get; set; }

    /// <summary>Event types (or <c>prefix.*</c>) that trigger the hook; empty: every event.</summary>
    public List<string> EventTypes { get; set; } = [];

    /// <summary>Cameras whose events trigger the hook; empty: every camera.</summary>
    public List<int> CameraIds { get; set; } = [];

    public bool Enabled { get; set; } = true;
    public string? DisabledReason { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>Failed delivery rounds since the last success; the hook is disabled when it reaches the limit.</summary>
    public int ConsecutiveFailures { get; set; }

    public DateTimeOffset? LastDeliveryAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public static class WebhookDeliveryStates
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";

    /// <summary>Every round failed, or the receiver refused it for good (4xx).</summary>
    public const string Failed = "failed";

    /// <summary>Not sent: its hook was disabled first.</summary>
    public const string Abandoned = "abandoned";
}

/// <summary>
/// One event (or test) to deliver to one hook: a row of the durable queue while <see cref="Status"/> is pending, then
/// the hook's delivery log. The body is built at each attempt from <see cref="Payload"/> (the event as the REST API
/// shows it) with a fresh timestamp, and signed.
/// </summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public int WebhookId { get; set; }

    /// <summary><c>event</c> or <c>test</c>.</summary>
    public required string Kind { get; set; }

    public long? EventId { get; set; }
    public string? EventType { get; set; }
    public int? CameraId { get; set; }
    public required string Payload { get; set; }
    public string Status { get; set; } = WebhookDeliveryStates.Pending;

    /// <summary>Rounds of attempts made (each round retries a few times in quick succession).</summary>
    public int Rounds { get; set; }

    public int Attempts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>A dispatcher holds the row until then (several Core replicas share the queue).</summary>
    public DateTimeOffset? LockedUntil { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public List<WebhookAttempt> AttemptLog { get; set; } = [];
}

/// <summary>One HTTP attempt of a delivery.</summary>
public sealed class WebhookAttempt
{
    public long Id { get; set; }
    public long DeliveryId { get; set; }
    public int Number { get; set; }
    public DateTimeOffset At { get; set; }
    public int? StatusCode { get; set; }
    public string? Error { get; set; }
    public double DurationMs { get; set; }
}
