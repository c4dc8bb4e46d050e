namespace OpenNvr.Recorder.Recording;

/// <summary>
/// Turns ffmpeg's stream-relative segment times into absolute (Unix) times for one ffmpeg run.
/// <para>
/// ffmpeg's segment list gives each segment's start and end in stream seconds (exact, from packet timestamps) but
/// no wall clock. The wall clock comes from the moment ffmpeg opens each segment file (its "Opening '...' for
/// writing" log line, read live from stderr): a live stream is written as it arrives, so when segment k opens, the
/// wall clock is stream time s_k plus a constant offset. The first segment is no good for that: ffmpeg opens it
/// after probing the input, with a few seconds of packets already buffered. So the anchor (wall clock of stream
/// time 0) is taken from the first segment opened after it: <c>anchor = wall_open(k) - s_k</c>, k ≥ 1. Every
/// chunk is then <c>[anchor + start, anchor + end]</c>, so consecutive chunks of one run meet exactly and nothing is
/// invented between runs. If a later segment opens more than <see cref="ReanchorSeconds"/> away from where the
/// anchor puts it (camera clock drift, a long network stall), the anchor moves to it; the index then shows the
/// truth (a small overlap or gap) rather than accumulating error.
/// </para>
/// <para>
/// A run that ends during its first segment has no anchor yet: its end is taken as the wall clock of the last write
/// (ffmpeg's exit, or the file's modification time after a crash) and its start as that minus the duration.
/// </para>
/// </summary>
public sealed class ChunkClock
{
    public const double ReanchorSeconds = 2.0;

    public double? Anchor { get; private set; }

    public int Reanchors { get; private set; }

    private double? _placedEnd;

    /// <summary>Segment <paramref name="index"/> (0-based within the run) opened at wall clock
    /// <paramref name="wallUnix"/>; <paramref name="streamStart"/> is its stream start time when known.</summary>
    public void SegmentOpened(int index, double wallUnix, double? streamStart)
    {
        if (index < 1 || streamStart is not { } start)
        {
            return;
        }

        var anchor = wallUnix - start;
        if (Anchor is not { } current)
        {
            Anchor = anchor;
        }
        else if (Math.Abs(anchor - current) > ReanchorSeconds)
        {
            Anchor = anchor;
            Reanchors++;
        }
    }

    /// <summary>
    /// Absolute start and end of a finished segment, or null while no anchor is known. A segment never starts before
    /// the previous one of the run ended: ffmpeg's list gives a segment's end as its last packet's pts plus duration,
    /// which can pass the next segment's first keyframe by a frame when packets arrive bunched (a loaded machine), and
    /// one camera's chunks must not overlap in the index.
    /// </summary>
    public (double Start, double End)? Place(SegmentListEntry entry)
    {
        if (Anchor is not { } anchor)
        {
            return null;
        }

        var end = anchor + entry.EndSeconds;
        var start = Math.Min(Math.Max(anchor + entry.StartSeconds, _placedEnd ?? double.MinValue), end);
        _placedEnd = Math.Max(end, _placedEnd ?? end);
        return (start, end);
    }

    /// <summary>When no anchor is known: the segment ended at <paramref name="endWallUnix"/>.</summary>
    public static (double Start, double End) PlaceByEnd(double durationSeconds, double endWallUnix) =>
        (endWallUnix - durationSeconds, endWallUnix);
}
