using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Text.Json;

namespace OpenNvr.Contracts.Internal;

/// <summary>
/// One AI event for Core's ingest (<c>POST /api/v1/internal/events</c>), as the Recorder's event outbox keeps it.
/// <c>bbox</c> is one box <c>[l,t,w,h]</c> or a list of them; <c>payload</c> is the task's result object;
/// <c>trace_id</c> and <c>traceparent</c> name the frame's trace so that Core's insert span joins it.
/// <c>event_type</c> (<see cref="People.PersonEventTypes"/>) and <c>track_id</c> are set on events about people.
/// </summary>
public sealed record EventIngest(
    int CameraId,
    [property: TaskName] string Task,
    [property: UnixMilliseconds(ErrorMessage = "executed_at_unix_ms must be Unix milliseconds (between the years 2000 and 2200).")]
    long ExecutedAtUnixMs,
    [property: PrintableText(128, ErrorMessage = "label must be at most 128 printable characters.")] string? Label = null,
    [property: Range(0, int.MaxValue, ErrorMessage = "count must not be negative.")] int? Count = null,
    [property: Range(0.0, 1.0, ErrorMessage = "confidence must be between 0 and 1.")] double? Confidence = null,
    JsonElement? Bbox = null,
    [property: RecordingPath("snapshot_path")] string? SnapshotPath = null,
    [property: UnixMilliseconds(ErrorMessage = "captured_at_unix_ms must be Unix milliseconds (between the years 2000 and 2200).")]
    long? CapturedAtUnixMs = null,
    [property: Finite(0, ErrorMessage = "latency_ms must be a non-negative number.")] double? LatencyMs = null,
    [property: RegularExpression("^[0-9A-Fa-f]{0,64}$", ErrorMessage = "trace_id must be at most 64 hexadecimal characters.")]
    string? TraceId = null,
    JsonElement? Payload = null,
    string? Traceparent = null,
    string? EventType = null,
    [property: Range(1, long.MaxValue, ErrorMessage = "track_id must be a positive number.")] long? TrackId = null) : IValidatableObject
{
    /// <summary>The most JSON <c>bbox</c> and <c>payload</c> may hold together.</summary>
    public const int MaxJsonBytes = 64 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Traceparent is { } tp && (tp.Length > 55 || !ActivityContext.TryParse(tp, null, out _)))
        {
            yield return new ValidationResult("traceparent must be a W3C traceparent (00-<32 hex trace id>-<16 hex span id>-<2 hex flags>).", [nameof(Traceparent)]);
        }

        if (EventType is not null && !People.PersonEventTypes.IsKnown(EventType))
        {
            yield return new ValidationResult("event_type " + People.PersonEventTypes.Rule, [nameof(EventType)]);
        }

        if (Bbox is { ValueKind: not (JsonValueKind.Array or JsonValueKind.Null) })
        {
            yield return new ValidationResult("bbox must be an array ([l,t,w,h] or a list of them) or null.", [nameof(Bbox)]);
        }

        if (Payload is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
        {
            yield return new ValidationResult("payload must be a JSON object or null.", [nameof(Payload)]);
        }

        var json = RawJson(Bbox) + RawJson(Payload);
        if (json.Length > MaxJsonBytes)
        {
            yield return new ValidationResult($"payload and bbox together must be under {MaxJsonBytes / 1024} KB of JSON.", [nameof(Payload)]);
        }
        else if (json.Contains("\\u0000", StringComparison.OrdinalIgnoreCase))
        {
            // PostgreSQL's jsonb cannot hold the NUL character.
            yield return new ValidationResult("payload and bbox must not contain \\u0000.", [nameof(Payload)]);
        }
    }

    /// <summary>The element's JSON text, or null for an absent or JSON-null element.</summary>
    public static string? RawJson(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } value ? value.GetRawText() : null;
}

/// <summary>A batch of 1 to 500 events, stored all or none.</summary>
public sealed record IngestEventsRequest(
    [property: Length(1, IngestEventsRequest.MaxEvents, ErrorMessage = "events must hold 1 to 500 events.")]
    IReadOnlyList<EventIngest> Events) : IValidatableObject
{
    public const int MaxEvents = 500;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        BatchValidation.NoNullItems(Events, "events", nameof(Events));
}

public sealed record IngestEventsResponse(int Inserted);
