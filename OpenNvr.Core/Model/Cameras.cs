namespace OpenNvr.Core.Model;

public sealed class Camera
{
    public int Id { get; set; }
    public required string Name { get; set; }

    /// <summary>Main stream URL without user information (credentials live encrypted beside it).</summary>
    public required string StreamUrl { get; set; }

    /// <summary>Data-Protection-protected JSON of the main stream's user name and password, or null.</summary>
    public string? StreamCredentialsProtected { get; set; }

    public string? SubStreamUrl { get; set; }
    public string? SubStreamCredentialsProtected { get; set; }
    public bool IsActive { get; set; } = true;
    public bool RecordingEnabled { get; set; } = true;
    public int RetentionDays { get; set; } = 30;
    public long? StorageQuotaBytes { get; set; }
    public string RecordingState { get; set; } = RecordingStates.Unknown;
    public string? RecordingStateReason { get; set; }
    public DateTimeOffset? RecordingStateAt { get; set; }
    public DateTimeOffset? LastRecordingAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// When an admin deleted the camera, or null. A deleted camera is hidden everywhere (a query filter), stops
    /// recording, and keeps its row so that its events and recordings index stay (the reference stores events
    /// permanently): admins still read them (<see cref="Infrastructure.NvrDbContext.CamerasWithDeleted"/>).
    /// </summary>
    public DateTimeOffset? DeletedAt { get; set; }

    public List<AiPolicy> AiPolicies { get; set; } = [];
}

/// <summary>What the Recorder's AI pipeline runs for a camera: a task every <see cref="IntervalMs"/>.</summary>
public sealed class AiPolicy
{
    public int Id { get; set; }
    public int CameraId { get; set; }
    public required string Task { get; set; }
    public int IntervalMs { get; set; } = 1000;
    public bool Enabled { get; set; } = true;
    public double MinConfidence { get; set; } = 0.5;

    /// <summary>Region of interest: polygon of normalised [x, y] points (0..1), or null for the whole frame.</summary>
    public double[][]? Roi { get; set; }

    public bool MotionGating { get; set; } = true;
}

/// <summary>A Recorder replica that sent a heartbeat.</summary>
public sealed class RecorderNode
{
    public required string Id { get; set; }
    public required string BaseUrl { get; set; }
    public int MaxCameras { get; set; }
    public DateTimeOffset LastHeartbeatAt { get; set; }
}

/// <summary>One row per camera: which live Recorder replica records it, until when.</summary>
public sealed class RecorderLease
{
    public int CameraId { get; set; }
    public required string RecorderId { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>
    /// A graceful hand-off in progress: the live Recorder that gets the camera once <see cref="RecorderId"/> has
    /// stopped recording it (null when the lease is not moving). Until then neither of the two is told to record it.
    /// </summary>
    public string? HandingTo { get; set; }

    /// <summary>When the hand-off to <see cref="HandingTo"/> began (its duration is logged and measured).</summary>
    public DateTimeOffset? HandingSince { get; set; }
}
