using OpenNvr.Recorder.Analytics.Tracking;

namespace OpenNvr.Tests.Tracking;

public sealed class OccupancySeriesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero); // a multiple of 10 s

    [Fact]
    public void Frames_fall_into_epoch_aligned_buckets_with_average_and_maximum()
    {
        var series = new OccupancySeries(10);
        var closed = new List<OccupancyBucket>();
        // 2 fps from 12:00:03 for 20 s: 3 people, then 5 for the last 4 frames.
        for (var i = 0; i < 40; i++)
        {
            var people = i >= 36 ? 5 : 3;
            if (series.Add(T0.AddSeconds(3 + i * 0.5), people, [(7, people - 1)], []) is { } bucket)
            {
                closed.Add(bucket);
            }
        }

        closed.Add(series.Flush()!);

        Assert.Equal([T0, T0.AddSeconds(10), T0.AddSeconds(20)], closed.Select(b => b.Start));
        Assert.Equal([14, 20, 6], closed.Select(b => b.Samples));
        Assert.Equal(3, closed[0].Average);
        Assert.Equal((3 * 2 + 5 * 4) / 6.0, closed[2].Average, 9);
        Assert.Equal([3, 3, 5], closed.Select(b => b.Max));
        Assert.Equal(new ZoneOccupancy((2 * 2 + 4 * 4) / 6.0, 4), closed[2].Zones[7]);
        Assert.Null(series.Flush());
    }

    [Fact]
    public void Line_crossings_are_totalled_per_line_and_direction()
    {
        var series = new OccupancySeries(10);
        series.Add(T0, 1, [], [new SceneEvent(SceneEventKind.LineCrossed, 1, 4, T0, CrossingDirection.In)]);
        series.Add(T0.AddSeconds(1), 2, [], [
            new SceneEvent(SceneEventKind.LineCrossed, 2, 4, T0, CrossingDirection.In),
            new SceneEvent(SceneEventKind.LineCrossed, 3, 4, T0, CrossingDirection.Out),
            new SceneEvent(SceneEventKind.ZoneEntered, 3, 4, T0),
            new SceneEvent(SceneEventKind.LineCrossed, 3, 9, T0, CrossingDirection.Out)]);

        var bucket = series.Add(T0.AddSeconds(10), 0, [], [])!;

        Assert.Equal(new LineCounts(2, 1), bucket.Lines[4]);
        Assert.Equal(new LineCounts(0, 1), bucket.Lines[9]);
        Assert.Equal(2, bucket.Lines.Count);
    }

    [Fact]
    public void A_gap_without_frames_makes_no_bucket()
    {
        var series = new OccupancySeries(10);
        series.Add(T0, 1, [], []);

        var bucket = series.Add(T0.AddMinutes(5), 2, [], []);

        Assert.Equal((T0, 1), (bucket!.Start, bucket.Samples));
        Assert.Equal(T0.AddMinutes(5), series.Flush()!.Start);
        Assert.Throws<ArgumentOutOfRangeException>(() => new OccupancySeries(0));
    }
}
