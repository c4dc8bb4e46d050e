using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Recorder.Analytics;

/// <summary>The AI pipeline's settings: keys of the <c>Recorder</c> section (documented in README.md, "Analytics").</summary>
public sealed class AnalyticsOptions : IValidatableObject
{
    /// <summary>Share (0..1) of the downscaled grey pixels that must have changed for a gated policy to run.</summary>
    [Range(0.0, 1.0)]
    public double MotionThreshold { get; set; } = 0.004;

    /// <summary>Grey-level difference (0..255) above which a downscaled pixel counts as changed.</summary>
    [Range(0, 255)]
    public int MotionPixelDelta { get; set; } = 18;

    /// <summary>Frames waiting per camera for Inference; when full the oldest is dropped (and counted).</summary>
    [Range(1, 1000)]
    public int AnalysisQueueCapacity { get; set; } = 2;

    /// <summary>Inference's address (service discovery name by default).</summary>
    [Required]
    public string InferenceUrl { get; set; } = "http://inference";

    /// <summary>One /infer call gives up after this long.</summary>
    [Range(0.1, 120)]
    public double InferenceTimeoutSeconds { get; set; } = 5;

    /// <summary>An open circuit (Inference failing) rejects calls at once for this long, then lets one through.</summary>
    [Range(0.5, 600)]
    public double InferenceBreakSeconds { get; set; } = 5;

    /// <summary>Events per call to Core's ingest (Core accepts at most 500).</summary>
    [Range(1, 500)]
    public int EventBatchSize { get; set; } = 100;

    /// <summary>
    /// How long a partial batch may wait to fill. 0 (default): an event goes at once when the sender is idle, and
    /// batches form from what arrives while a call is in flight, so batching never adds latency.
    /// </summary>
    [Range(0, 60_000)]
    public int EventBatchMilliseconds { get; set; }

    /// <summary>Disk cap of the event outbox while Core is away; above it the oldest events are dropped (counted).</summary>
    [Range(1024 * 1024, long.MaxValue)]
    public long EventOutboxMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Per-frame copies (<c>f-*.jpg</c>) left behind (crash, shutdown) are deleted after this long.</summary>
    [Range(5, 86_400)]
    public int AnalysisFrameSeconds { get; set; } = 60;

    public TimeSpan InferenceTimeout => TimeSpan.FromSeconds(InferenceTimeoutSeconds);

    public TimeSpan InferenceBreak => TimeSpan.FromSeconds(InferenceBreakSeconds);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!(Uri.TryCreate(InferenceUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            yield return new ValidationResult("must be an absolute http(s) URL.", [nameof(InferenceUrl)]);
        }
    }
}
