namespace OpenNvr.Recorder.Recording;

/// <summary>The <c>Recorder</c> section (documented in README.md).</summary>
public sealed class RecorderOptions
{
    public const string Section = "Recorder";

    /// <summary>Where chunks live: <c>&lt;root&gt;/&lt;camera id&gt;/&lt;YYYY-MM-DD&gt;/&lt;HH&gt;/&lt;MM-SS&gt;.mp4</c> (UTC).</summary>
    public string? RecordingsRoot { get; set; }

    /// <summary>Target chunk length; ffmpeg cuts at the first keyframe after it.</summary>
    public int ChunkSeconds { get; set; } = 10;

    /// <summary>Decoded frames per second published for analytics (cameras with an enabled AI policy).</summary>
    public double FrameRate { get; set; } = 2;

    /// <summary>No growth of the chunk being written for this long: ffmpeg is killed and restarted.</summary>
    public int StallSeconds { get; set; } = 20;

    /// <summary>Heartbeat period (leases and camera configuration come back in the answer).</summary>
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>Cameras this replica accepts at most (sent with the heartbeat).</summary>
    public int MaxCameras { get; set; } = 32;

    /// <summary>Stable id of this replica; default: the machine name (then -2, -3... for more replicas on one volume).</summary>
    public string? RecorderId { get; set; }

    /// <summary>Where Core and Inference reach this replica's /frames; default: the first address Kestrel listens on.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>First and longest pause between reconnect attempts (exponential backoff with jitter in between).</summary>
    public double ReconnectDelaySeconds { get; set; } = 1;

    public double ReconnectMaxDelaySeconds { get; set; } = 5;

    /// <summary>Retention pass period.</summary>
    public int RetentionIntervalSeconds { get; set; } = 60;

    /// <summary>Global ceiling on a camera's age limit (its own retention_days applies when smaller); 0: none.</summary>
    public double MaxAgeDays { get; set; }

    /// <summary>Per-camera byte quota for cameras without their own storage_quota_bytes; 0: none.</summary>
    public long MaxBytesPerCamera { get; set; }

    /// <summary>Free-space floor on the recordings volume in bytes: under it the oldest chunks go first, whatever their age.</summary>
    public long MinFreeBytes { get; set; }

    /// <summary>Free-space floor as a percentage of the volume (the larger of the two floors applies).</summary>
    public double MinFreePercent { get; set; } = 5;

    /// <summary>How far back start-up reconciliation looks for a camera this outbox never delivered a chunk of.</summary>
    public double ReconcileHours { get; set; } = 1;

    /// <summary>ffmpeg and ffprobe executables.</summary>
    public string FfmpegPath { get; set; } = "ffmpeg";

    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>Registrations per call to Core (Core accepts at most 1000).</summary>
    public int RegistrationBatchSize { get; set; } = 200;

    public TimeSpan Chunk => TimeSpan.FromSeconds(Math.Clamp(ChunkSeconds, 1, 3600));

    public string ResolveRecordingsRoot() => Path.GetFullPath(string.IsNullOrWhiteSpace(RecordingsRoot)
        ? Path.Combine(Path.GetTempPath(), "opennvr", "recordings")
        : RecordingsRoot);
}
