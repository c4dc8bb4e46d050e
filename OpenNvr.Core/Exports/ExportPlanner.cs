using OpenNvr.Core.Recordings;

namespace OpenNvr.Core.Exports;

/// <summary>An indexed chunk as an export needs it (times from the recordings index).</summary>
public sealed record ExportChunk(long Id, string Path, double StartUnix, double EndUnix)
{
    public double DurationSeconds => EndUnix - StartUnix;
}

/// <summary>One chunk of an export and the part of it taken (seconds into the chunk; null = from its start / to its end).</summary>
public sealed record ExportPiece(ExportChunk Chunk, double? InPointSeconds, double? OutPointSeconds)
{
    public double Seconds => (OutPointSeconds ?? Chunk.DurationSeconds) - (InPointSeconds ?? 0);
}

/// <summary>What an export will contain: the pieces in order and the parts of the range nothing covers.</summary>
public sealed record ExportPlan(double StartUnix, double EndUnix, IReadOnlyList<ExportPiece> Pieces, IReadOnlyList<TimeSpanUnix> Gaps)
{
    public double Seconds => Pieces.Sum(p => p.Seconds);
}

/// <summary>
/// Chooses the chunks and cut points of an export of [start, end): every chunk overlapping the range, oldest first;
/// the first is taken from <c>start</c> (the engine moves that back to the keyframe at or before it), the last up to
/// <c>end</c>. Holes between chunks longer than the timeline's tolerance (1 s) are gaps; in the MP4 the pieces follow
/// one another (a gap takes no time in the file), and the gaps are listed with the export.
/// </summary>
public static class ExportPlanner
{
    /// <summary>The plan, or null when no chunk overlaps the range.</summary>
    public static ExportPlan? Plan(IEnumerable<ExportChunk> chunks, double startUnix, double endUnix)
    {
        var overlapping = chunks.Where(c => c.EndUnix > startUnix && c.StartUnix < endUnix && c.EndUnix > c.StartUnix)
            .OrderBy(c => c.StartUnix).ThenBy(c => c.Id).ToList();

        // A chunk wholly inside the previous one (a re-registered duplicate) adds nothing.
        var kept = new List<ExportChunk>();
        foreach (var chunk in overlapping)
        {
            if (kept.Count == 0 || chunk.EndUnix > kept[^1].EndUnix + 0.001)
            {
                kept.Add(chunk);
            }
        }

        if (kept.Count == 0)
        {
            return null;
        }

        var pieces = new List<ExportPiece>(kept.Count);
        for (var i = 0; i < kept.Count; i++)
        {
            var chunk = kept[i];
            double? inPoint = i == 0 && startUnix > chunk.StartUnix ? startUnix - chunk.StartUnix : null;
            if (i > 0 && kept[i - 1].EndUnix > chunk.StartUnix + 0.001)
            {
                // Overlapping neighbours (clock adjustments): do not show the overlap twice.
                inPoint = Math.Max(inPoint ?? 0, kept[i - 1].EndUnix - chunk.StartUnix);
            }

            double? outPoint = endUnix < chunk.EndUnix ? endUnix - chunk.StartUnix : null;
            pieces.Add(new ExportPiece(chunk, inPoint, outPoint));
        }

        var gaps = Timeline.Gaps(startUnix, endUnix, kept.Select(c => new TimeSpanUnix(c.StartUnix, c.EndUnix)));
        return new ExportPlan(startUnix, endUnix, pieces, gaps);
    }
}
