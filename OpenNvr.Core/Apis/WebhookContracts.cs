using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using OpenNvr.Core.Integrations.Webhooks;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Apis;

/// <summary><c>POST /api/v1/webhooks</c>: where to POST, the HMAC secret, and optional filters (none: every event of every camera).</summary>
public sealed partial record WebhookCreateRequest(
    [property: Required, MaxLength(WebhookUrlPolicy.MaxUrlLength)] string Url,
    [property: Required, StringLength(WebhookCreateRequest.MaxSecretLength, MinimumLength = WebhookCreateRequest.MinSecretLength)] string Secret,
    [property: MaxLength(WebhookCreateRequest.MaxEventTypes)] IReadOnlyList<string>? EventTypes = null,
    [property: MaxLength(WebhookCreateRequest.MaxCameraIds)] IReadOnlyList<int>? CameraIds = null) : IValidatableObject
{
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 256;
    public const int MaxEventTypes = 32;
    public const int MaxCameraIds = 256;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (WebhookUrlPolicy.CheckSyntax(Url) is { } urlProblem)
        {
            yield return new ValidationResult(urlProblem, ["url"]);
        }

        if (Secret is not null && Secret.Any(char.IsControl))
        {
            yield return new ValidationResult("secret must not contain control characters.", ["secret"]);
        }

        foreach (var type in EventTypes ?? [])
        {
            if (type is null || !EventTypePattern().IsMatch(type))
            {
                yield return new ValidationResult(
                    "event_types must be event types such as 'person.entered', a prefix such as 'person.*', or '*' (letters, digits, '.', '_', '-'; at most 64 characters).",
                    ["event_types"]);
                yield break;
            }
        }

        if ((CameraIds ?? []).Any(id => id <= 0))
        {
            yield return new ValidationResult("camera_ids must be positive camera ids.", ["camera_ids"]);
        }
    }

    [GeneratedRegex(@"^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex EventTypePattern();
}

/// <summary>A webhook as the API shows it: never its secret.</summary>
public sealed record WebhookDto(
    int Id,
    string Url,
    IReadOnlyList<string> EventTypes,
    IReadOnlyList<int> CameraIds,
    bool Enabled,
    string? DisabledReason,
    DateTimeOffset? DisabledAt,
    int ConsecutiveFailures,
    DateTimeOffset? LastDeliveryAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static WebhookDto From(Webhook h) => new(
        h.Id, h.Url, h.EventTypes, h.CameraIds, h.Enabled, h.DisabledReason, h.DisabledAt, h.ConsecutiveFailures, h.LastDeliveryAt,
        h.CreatedAt, h.UpdatedAt);
}

public sealed record WebhookListResponse(IReadOnlyList<WebhookDto> Webhooks, int Total);

public sealed record WebhookAttemptDto(int Number, DateTimeOffset At, int? StatusCode, string? Error, double DurationMs);

/// <summary>One delivery of a hook's log: <c>status</c> is pending, delivered, failed or abandoned.</summary>
public sealed record WebhookDeliveryDto(
    long Id,
    string Kind,
    long? EventId,
    string? EventType,
    int? CameraId,
    string Status,
    int Rounds,
    int Attempts,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<WebhookAttemptDto> AttemptLog)
{
    public static WebhookDeliveryDto From(WebhookDelivery d) => new(
        d.Id, d.Kind, d.EventId, d.EventType, d.CameraId, d.Status, d.Rounds, d.Attempts, d.LastStatusCode, d.LastError, d.CreatedAt,
        d.Status == WebhookDeliveryStates.Pending ? d.NextAttemptAt : null, d.CompletedAt,
        d.AttemptLog.OrderBy(a => a.Number).Select(a => new WebhookAttemptDto(a.Number, a.At, a.StatusCode, a.Error, a.DurationMs)).ToList());
}

public sealed record WebhookDeliveriesResponse(int WebhookId, IReadOnlyList<WebhookDeliveryDto> Deliveries, int Count, long? NextBeforeId);

public sealed record WebhookTestResponse(int WebhookId, long DeliveryId, string Status);
