using System.ComponentModel.DataAnnotations;
using OpenNvr.Core.Cameras;
using OpenNvr.Core.Model;
using OpenNvr.Core.Recordings;

namespace OpenNvr.Core.Apis;

/// <summary>
/// An AI policy as it travels (camera CRUD, policies route, recorder heartbeat). Its fields are checked by the
/// validation filter (data annotations) wherever a request carries it; the list rules by <see cref="AiPolicyListAttribute"/>.
/// </summary>
public sealed record AiPolicyDto(
    [property: Required(ErrorMessage = "task is required.")]
    [property: RegularExpression(TaskNames.PatternText, ErrorMessage = "task " + TaskNames.Rule)]
    string Task,
    [property: Range(AiPolicyDto.MinIntervalMs, AiPolicyDto.MaxIntervalMs, ErrorMessage = "interval_ms must be between {1} and {2}.")]
    int IntervalMs = 1000,
    bool Enabled = true,
    [property: Range(0.0, 1.0, ErrorMessage = "min_confidence must be between 0 and 1.")]
    double MinConfidence = 0.5,
    [property: NormalisedPolygon]
    double[][]? Roi = null,
    bool MotionGating = true,
    int? Id = null)
{
    public const int MinIntervalMs = 100;
    public const int MaxIntervalMs = 3_600_000;
    public const int MaxPolicies = 16;

    public static AiPolicyDto From(AiPolicy p) => new(p.Task, p.IntervalMs, p.Enabled, p.MinConfidence, p.Roi, p.MotionGating, p.Id);

    public AiPolicy ToEntity() => new()
    {
        Task = Task, IntervalMs = IntervalMs, Enabled = Enabled, MinConfidence = MinConfidence, Roi = Roi, MotionGating = MotionGating,
    };

}

/// <summary>A camera's policy list: at most <see cref="AiPolicyDto.MaxPolicies"/>, no null entry, one policy per task.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class AiPolicyListAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not IReadOnlyList<AiPolicyDto?> policies)
        {
            return ValidationResult.Success;
        }

        var firstNull = policies.ToList().IndexOf(null);
        var duplicate = firstNull < 0 ? policies.GroupBy(p => p!.Task).FirstOrDefault(g => g.Count() > 1)?.Key : null;
        var problem = policies.Count > AiPolicyDto.MaxPolicies ? $"At most {AiPolicyDto.MaxPolicies} AI policies per camera."
            : firstNull >= 0 ? $"ai_policies[{firstNull}] is null."
            : duplicate is not null ? $"ai_policies has task '{duplicate}' twice; one policy per task."
            : null;
        return problem is null ? ValidationResult.Success : new ValidationResult(problem, validationContext.MemberName is { } member ? [member] : null);
    }
}

/// <summary>A camera user name or password: at most 256 printable characters (null: unchanged).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class StreamCredentialAttribute : ValidationAttribute
{
    public const int MaxLength = 256;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is not string text || (text.Length <= MaxLength && !text.Any(char.IsControl))
            ? ValidationResult.Success
            : new ValidationResult($"username and password must be at most {MaxLength} printable characters.",
                validationContext.MemberName is { } member ? [member] : null);
}

/// <summary>A region of interest: 3 to 64 [x, y] points normalised to 0..1 of the frame's width and height.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class NormalisedPolygonAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not double[][] roi)
        {
            return ValidationResult.Success;
        }

        var problem = roi.Length is < 3 or > 64 ? "roi must be a polygon of 3 to 64 [x, y] points (a rectangle is 4 points)."
            : roi.Any(point => point is null || point.Length != 2 || point.Any(v => !double.IsFinite(v) || v < 0 || v > 1))
                ? "roi points must be [x, y] pairs normalised to 0..1 of the frame's width and height."
                : null;
        return problem is null ? ValidationResult.Success : new ValidationResult(problem, validationContext.MemberName is { } member ? [member] : null);
    }
}

/// <summary>A camera as users see it: credentials never leave Core, URLs come back masked.</summary>
public sealed record CameraDto(
    int Id,
    string Name,
    string RtspUrl,
    string? SubStreamUrl,
    bool HasCredentials,
    bool IsActive,
    bool RecordingEnabled,
    string RecordingState,
    string? RecordingStateReason,
    DateTimeOffset? LastRecordingAt,
    double? LastRecordingAtUnix,
    int RetentionDays,
    long? StorageQuotaBytes,
    string? RecorderId,
    IReadOnlyList<AiPolicyDto> AiPolicies,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static CameraDto From(Camera c, string? recorderId) => new(
        c.Id,
        c.Name,
        StreamUrl.Mask(c.StreamUrl, c.StreamCredentialsProtected is not null),
        c.SubStreamUrl is null ? null : StreamUrl.Mask(c.SubStreamUrl, c.SubStreamCredentialsProtected is not null),
        c.StreamCredentialsProtected is not null,
        c.IsActive,
        c.RecordingEnabled,
        c.RecordingState,
        c.RecordingStateReason,
        c.LastRecordingAt,
        c.LastRecordingAt is { } at ? Timeline.ToUnix(at) : null,
        c.RetentionDays,
        c.StorageQuotaBytes,
        recorderId,
        c.AiPolicies.OrderBy(p => p.Id).Select(AiPolicyDto.From).ToList(),
        c.CreatedAt,
        c.UpdatedAt);
}

public sealed record CameraListResponse(IReadOnlyList<CameraDto> Cameras, int Total);

/// <summary>
/// Create (name and rtsp_url required) or update (absent fields keep their values). Credentials go in the URL's user
/// information or in username/password (an empty password with an empty username removes them); sending back the
/// masked URL keeps the stored credentials. <c>ai_policies</c>, when present, replaces the camera's policies.
/// </summary>
public sealed record CameraWriteRequest(
    string? Name = null,
    string? RtspUrl = null,
    string? SubStreamUrl = null,
    [property: StreamCredential] string? Username = null,
    [property: StreamCredential] string? Password = null,
    bool? IsActive = null,
    bool? RecordingEnabled = null,
    [property: Range(1, 3650, ErrorMessage = "retention_days must be between {1} and {2}.")] int? RetentionDays = null,
    [property: Range(0, long.MaxValue, ErrorMessage = "storage_quota_bytes must not be negative (omit it or send null for no quota).")]
    long? StorageQuotaBytes = null,
    [property: AiPolicyList] IReadOnlyList<AiPolicyDto>? AiPolicies = null);

public sealed record AiPoliciesRequest([property: AiPolicyList] IReadOnlyList<AiPolicyDto> AiPolicies);

public sealed record AiPoliciesResponse(int CameraId, IReadOnlyList<AiPolicyDto> AiPolicies);
