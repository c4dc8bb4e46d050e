using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;

namespace OpenNvr.Core.Recordings;

public readonly record struct TimeSpanUnix(double StartUnix, double EndUnix);

/// <summary>
/// <c>?start_unix=&amp;end_unix=</c> of the window and playlist routes (<c>[AsParameters]</c>), checked by the
/// validation filter before the handler runs: both present, in <see cref="UnixTime"/>'s range, end after start, at most 7 days.
/// </summary>
public sealed class RecordingsWindow : IValidatableObject
{
    private const string Required = "start_unix and end_unix (Unix seconds) are both required.";
    private const string StartRange = "start_unix " + UnixTime.Rule + ".";
    private const string EndRange = "end_unix " + UnixTime.Rule + ".";

    [FromQuery(Name = "start_unix")]
    [Required(ErrorMessage = Required), UnixSeconds(ErrorMessage = StartRange)]
    public double? StartUnix { get; init; }

    [FromQuery(Name = "end_unix")]
    [Required(ErrorMessage = Required), UnixSeconds(ErrorMessage = EndRange)]
    public double? EndUnix { get; init; }

    public double Start => StartUnix!.Value;

    public double End => EndUnix!.Value;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (StartUnix is not { } start || EndUnix is not { } end || !UnixTime.IsValidSeconds(start) || !UnixTime.IsValidSeconds(end))
        {
            yield break;
        }

        if (end <= start)
        {
            yield return new ValidationResult("end_unix must be greater than start_unix.", [nameof(EndUnix)]);
        }
        else if (end - start > Timeline.MaxWindowSeconds)
        {
            yield return new ValidationResult("The window is longer than 7 days; ask for a shorter one.", [nameof(EndUnix)]);
        }
    }
}

/// <summary>Timeline arithmetic of the recordings window.</summary>
public static class Timeline
{
    /// <summary>
    /// Holes up to this long between consecutive chunks count as continuous recording: segmenters cut at keyframes
    /// and clocks are rounded, so back-to-back chunks rarely meet to the microsecond.
    /// </summary>
    public const double GapToleranceSeconds = 1.0;

    /// <summary>Windows longer than this are refused (a week of 10-s chunks is 60,480 rows).</summary>
    public static readonly double MaxWindowSeconds = TimeSpan.FromDays(7).TotalSeconds;

    /// <summary>Chunks longer than this are refused at registration; the window query looks back this far.</summary>
    public const double MaxChunkSeconds = ChunkRegistration.MaxSeconds;

    /// <summary>Intervals of the window not covered by any chunk (chunks ordered by start).</summary>
    public static List<TimeSpanUnix> Gaps(double windowStart, double windowEnd, IEnumerable<TimeSpanUnix> chunksByStart)
    {
        var gaps = new List<TimeSpanUnix>();
        var coveredUntil = windowStart;
        var any = false;
        foreach (var chunk in chunksByStart)
        {
            any = true;
            if (chunk.StartUnix - coveredUntil > GapToleranceSeconds)
            {
                gaps.Add(new TimeSpanUnix(coveredUntil, Math.Min(chunk.StartUnix, windowEnd)));
            }

            coveredUntil = Math.Max(coveredUntil, chunk.EndUnix);
        }

        if (!any)
        {
            gaps.Add(new TimeSpanUnix(windowStart, windowEnd));
        }
        else if (windowEnd - coveredUntil > GapToleranceSeconds)
        {
            gaps.Add(new TimeSpanUnix(coveredUntil, windowEnd));
        }

        return gaps;
    }

    public static double ToUnix(DateTimeOffset at) => UnixTime.ToSeconds(at);

    /// <summary>An instant from Unix seconds already checked against <see cref="UnixTime"/>'s range (by the validation filter).</summary>
    public static DateTimeOffset FromUnix(double unix) => UnixTime.FromSeconds(unix);
}
