namespace OpenNvr.Core.Recordings;

public readonly record struct TimeSpanUnix(double StartUnix, double EndUnix);

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

    /// <summary>Null when the window is acceptable, else what is wrong.</summary>
    public static string? CheckWindow(double? start, double? end)
    {
        if (start is null || end is null)
        {
            return "start_unix and end_unix (Unix seconds) are both required.";
        }

        if (!double.IsFinite(start.Value) || !double.IsFinite(end.Value) || start < 0 || end < 0)
        {
            return "start_unix and end_unix must be finite, non-negative Unix seconds.";
        }

        if (end <= start)
        {
            return "end_unix must be greater than start_unix.";
        }

        return end - start > MaxWindowSeconds ? "The window is longer than 7 days; ask for a shorter one." : null;
    }

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

    public static double ToUnix(DateTimeOffset at) => (at - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    public static DateTimeOffset FromUnix(double unix) => DateTimeOffset.UnixEpoch.AddTicks((long)Math.Round(unix * TimeSpan.TicksPerSecond));
}
