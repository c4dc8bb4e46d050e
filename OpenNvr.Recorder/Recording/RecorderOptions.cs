using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Recorder.Recording;

/// <summary>The <c>Recorder</c> section (documented in README.md).</summary>
public sealed class RecorderOptions : IValidatableObject
{
    public const string Section = "Recorder";

    /// <summary>Where chunks live: <c>&lt;root&gt;/&lt;camera id&gt;/&lt;YYYY-MM-DD&gt;/&lt;HH&gt;/&lt;MM-SS&gt;.mp4</c> (UTC).</summary>
    public string? RecordingsRoot { get; set; }

    /// <summary>Target chunk length; ffmpeg cuts at the first keyframe after it.</summary>
    [Range(1, 3600)]
    public int ChunkSeconds { get; set; } = 10;

    /// <summary>Decoded frames per second published for analytics (cameras with an enabled AI policy).</summary>
    [Range(0.1, 30)]
    public double FrameRate { get; set; } = 2;

    /// <summary>No growth of the chunk being written for this long: ffmpeg is killed and restarted.</summary>
    [Range(2, 3600)]
    public int StallSeconds { get; set; } = 20;

    /// <summary>Heartbeat period (leases and camera configuration come back in the answer).</summary>
    [Range(1, 60)]
    public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>Cameras this replica accepts at most (sent with the heartbeat).</summary>
    [Range(0, 10_000)]
    public int MaxCameras { get; set; } = 32;

    /// <summary>Stable id of this replica; default: the machine name (then -2, -3... for more replicas on one volume).</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,64}$", ErrorMessage = "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'.")]
    public string? RecorderId { get; set; }

    /// <summary>Where Core and Inference reach this replica's /frames; default: the first address Kestrel listens on.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>First and longest pause between reconnect attempts (exponential backoff with jitter in between).</summary>
    [Range(0.1, 3600)]
    public double ReconnectDelaySeconds { get; set; } = 1;

    [Range(0.1, 3600)]
    public double ReconnectMaxDelaySeconds { get; set; } = 5;

    /// <summary>Retention pass period.</summary>
    [Range(1, 86_400)]
    public int RetentionIntervalSeconds { get; set; } = 60;

    /// <summary>Global ceiling on a camera's age limit (its own retention_days applies when smaller); 0: none.</summary>
    [Range(0, 36_500)]
    public double MaxAgeDays { get; set; }

    /// <summary>Per-camera byte quota for cameras without their own storage_quota_bytes; 0: none.</summary>
    [Range(0, long.MaxValue)]
    public long MaxBytesPerCamera { get; set; }

    /// <summary>Free-space floor on the recordings volume in bytes: under it the oldest chunks go first, whatever their age.</summary>
    [Range(0, long.MaxValue)]
    public long MinFreeBytes { get; set; }

    /// <summary>Free-space floor as a percentage of the volume (the larger of the two floors applies).</summary>
    [Range(0, 100)]
    public double MinFreePercent { get; set; } = 5;

    /// <summary>How far back start-up reconciliation looks for a camera this outbox never delivered a chunk of.</summary>
    [Range(0, 24 * 365)]
    public double ReconcileHours { get; set; } = 1;

    /// <summary>ffmpeg and ffprobe executables.</summary>
    [Required]
    public string FfmpegPath { get; set; } = "ffmpeg";

    [Required]
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>Registrations per call to Core (Core accepts at most 1000).</summary>
    [Range(1, 1000)]
    public int RegistrationBatchSize { get; set; } = 200;

    public TimeSpan Chunk => TimeSpan.FromSeconds(ChunkSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ReconnectMaxDelaySeconds < ReconnectDelaySeconds)
        {
            yield return new ValidationResult("must not be shorter than ReconnectDelaySeconds.", [nameof(ReconnectMaxDelaySeconds)]);
        }

        if (BaseUrl is not null && !(Uri.TryCreate(BaseUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            yield return new ValidationResult("must be an absolute http(s) URL.", [nameof(BaseUrl)]);
        }
    }

    public string ResolveRecordingsRoot() => Path.GetFullPath(string.IsNullOrWhiteSpace(RecordingsRoot)
        ? Path.Combine(Path.GetTempPath(), "opennvr", "recordings")
        : RecordingsRoot);
}
