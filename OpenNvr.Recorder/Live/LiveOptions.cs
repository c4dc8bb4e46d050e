using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Recorder.Live;

/// <summary>The <c>Live</c> section (documented in README.md, "Live view"); validated at start.</summary>
public sealed class LiveOptions : IValidatableObject
{
    public const string Section = "Live";

    /// <summary>Adds the live outputs to the recording and decoder ffmpeg runs. Off: no live view, recording unchanged.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Bytes queued for one viewer; a viewer that falls further behind is dropped (recording never waits).</summary>
    [Range(64 * 1024, 1024L * 1024 * 1024)]
    public long ViewerBufferBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>A viewer whose oldest queued fragment waited longer than this is dropped (it is no longer live).</summary>
    [Range(0.5, 120)]
    public double ViewerMaxLagSeconds { get; set; } = 5;

    /// <summary>Viewers of one camera stream at most; more are refused (503) rather than slowing everyone.</summary>
    [Range(1, 10_000)]
    public int MaxViewersPerStream { get; set; } = 64;

    /// <summary>HLS part target (LL-HLS EXT-X-PART-INF); parts never exceed it.</summary>
    [Range(0.1, 1.0)]
    public double HlsPartSeconds { get; set; } = 0.5;

    /// <summary>An HLS segment ends at the first keyframe after it is at least this long.</summary>
    [Range(0.5, 10)]
    public double HlsMinSegmentSeconds { get; set; } = 1;

    /// <summary>Seconds of complete segments the live playlist keeps.</summary>
    [Range(4, 120)]
    public double HlsWindowSeconds { get; set; } = 12;

    /// <summary>A viewer that got nothing for this long (camera down, or moved to another replica) is closed.</summary>
    [Range(2, 300)]
    public double IdleCloseSeconds { get; set; } = 10;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (HlsMinSegmentSeconds < HlsPartSeconds)
        {
            yield return new ValidationResult(
                $"{Section}:HlsMinSegmentSeconds ({HlsMinSegmentSeconds}) must be at least {Section}:HlsPartSeconds ({HlsPartSeconds}).",
                [nameof(HlsMinSegmentSeconds)]);
        }

        if (HlsWindowSeconds < 3 * HlsMinSegmentSeconds)
        {
            yield return new ValidationResult(
                $"{Section}:HlsWindowSeconds ({HlsWindowSeconds}) must hold at least three segments (3 x {Section}:HlsMinSegmentSeconds).",
                [nameof(HlsWindowSeconds)]);
        }
    }
}
