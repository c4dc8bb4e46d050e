using OpenNvr.Core.Cameras;
using OpenNvr.Core.Model;
using OpenNvr.Core.Recordings;

namespace OpenNvr.Core.Apis;

/// <summary>An AI policy as it travels (camera CRUD, policies route, recorder heartbeat).</summary>
public sealed record AiPolicyDto(
    string Task,
    int IntervalMs = 1000,
    bool Enabled = true,
    double MinConfidence = 0.5,
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

    /// <summary>Null when the list is acceptable, else what is wrong.</summary>
    public static string? Check(IReadOnlyList<AiPolicyDto>? policies)
    {
        if (policies is null)
        {
            return null;
        }

        if (policies.Count > MaxPolicies)
        {
            return $"At most {MaxPolicies} AI policies per camera.";
        }

        for (var i = 0; i < policies.Count; i++)
        {
            var p = policies[i];
            var where = $"ai_policies[{i}]";
            if (p is null)
            {
                return $"{where} is null.";
            }

            if (TaskNames.Check(p.Task) is { } taskProblem)
            {
                return $"{where}.task: {taskProblem}";
            }

            if (p.IntervalMs is < MinIntervalMs or > MaxIntervalMs)
            {
                return $"{where}.interval_ms must be between {MinIntervalMs} and {MaxIntervalMs}.";
            }

            if (!double.IsFinite(p.MinConfidence) || p.MinConfidence is < 0 or > 1)
            {
                return $"{where}.min_confidence must be between 0 and 1.";
            }

            if (p.Roi is { } roi)
            {
                if (roi.Length is < 3 or > 64)
                {
                    return $"{where}.roi must be a polygon of 3 to 64 [x, y] points (a rectangle is 4 points).";
                }

                if (roi.Any(point => point is null || point.Length != 2 || point.Any(v => !double.IsFinite(v) || v < 0 || v > 1)))
                {
                    return $"{where}.roi points must be [x, y] pairs normalised to 0..1 of the frame's width and height.";
                }
            }
        }

        return policies.GroupBy(p => p.Task).FirstOrDefault(g => g.Count() > 1) is { } duplicate
            ? $"ai_policies has task '{duplicate.Key}' twice; one policy per task."
            : null;
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
    string? Username = null,
    string? Password = null,
    bool? IsActive = null,
    bool? RecordingEnabled = null,
    int? RetentionDays = null,
    long? StorageQuotaBytes = null,
    IReadOnlyList<AiPolicyDto>? AiPolicies = null);

public sealed record AiPoliciesRequest(IReadOnlyList<AiPolicyDto> AiPolicies);

public sealed record AiPoliciesResponse(int CameraId, IReadOnlyList<AiPolicyDto> AiPolicies);
