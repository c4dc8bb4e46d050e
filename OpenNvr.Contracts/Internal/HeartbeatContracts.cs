using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Contracts.Internal;

/// <summary>
/// <c>POST /api/v1/internal/recorders/heartbeat</c>: a Recorder replica says it is alive, where Core and Inference reach
/// its <c>/frames</c>, how many cameras it takes and which cameras it records at this moment (<c>recording</c>, including
/// any it is still stopping: Core passes a camera being handed off to its new holder only once the old one no longer
/// lists it; null from an older Recorder, whose hand-offs complete when their leases lapse).
/// </summary>
public sealed record HeartbeatRequest(
    [property: Required(ErrorMessage = HeartbeatRequest.RecorderIdRule)]
    [property: PrintableText(64, ErrorMessage = HeartbeatRequest.RecorderIdRule)]
    string RecorderId,
    string BaseUrl,
    [property: Range(0, HeartbeatRequest.MaxMaxCameras, ErrorMessage = "max_cameras must be between 0 and 10000.")]
    int MaxCameras = HeartbeatRequest.DefaultMaxCameras,
    IReadOnlyList<int>? Recording = null) : IValidatableObject
{
    public const int DefaultMaxCameras = 32;
    public const int MaxMaxCameras = 10_000;
    private const string RecorderIdRule = "recorder_id is required (at most 64 characters, no control characters).";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(RecorderId))
        {
            yield return new ValidationResult(RecorderIdRule, [nameof(RecorderId)]);
        }

        if (BaseUrl is not { Length: <= 2048 } || !Uri.TryCreate(BaseUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            yield return new ValidationResult("base_url must be an absolute http(s) URL.", [nameof(BaseUrl)]);
        }

        if (Recording is { Count: > MaxMaxCameras })
        {
            yield return new ValidationResult("recording lists at most 10000 camera ids.", [nameof(Recording)]);
        }
    }
}

/// <summary>The heartbeat's answer: the lease length and the full configuration of the cameras this replica records now.</summary>
public sealed record HeartbeatResponse(int LeaseSeconds, IReadOnlyList<CameraConfig> Cameras);

/// <summary>
/// A camera as the heartbeat answer describes it, with the zones and counting lines its person policies watch.
/// Stream URLs carry decrypted credentials: never log them.
/// </summary>
public sealed record CameraConfig(
    int Id,
    string Name,
    bool Enabled,
    bool RecordingEnabled,
    string StreamUrl,
    string? SubStreamUrl,
    int RetentionDays,
    long? StorageQuotaBytes,
    IReadOnlyList<CameraAiPolicy> AiPolicies,
    IReadOnlyList<CameraZone>? Zones = null,
    IReadOnlyList<CameraLine>? Lines = null);

/// <summary>A zone of a camera (<see cref="People.ZoneRules"/>): which of zone.entered, zone.left, zone.loitering it raises.</summary>
public sealed record CameraZone(int Id, string Name, double[][] Points, IReadOnlyList<string> EventTypes, double? LoiteringS = null);

/// <summary>A counting line of a camera, from its first point to its second; <c>event_types</c> holds line.crossed or nothing.</summary>
public sealed record CameraLine(int Id, string Name, double[][] Points, IReadOnlyList<string> EventTypes);

/// <summary>
/// An AI policy of a camera, as the heartbeat carries it: which task to run how often, the confidence below which a
/// result is no event, an optional region of interest (a polygon of [x, y] points normalised to 0..1 of the frame) and
/// whether a motion gate runs first. <c>id</c> is Core's row id (null before the policy is stored).
/// </summary>
public sealed record CameraAiPolicy(
    string Task,
    int IntervalMs = 1000,
    bool Enabled = true,
    double MinConfidence = 0.5,
    double[][]? Roi = null,
    bool MotionGating = true,
    int? Id = null);
