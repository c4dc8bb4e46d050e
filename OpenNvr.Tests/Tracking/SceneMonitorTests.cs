using OpenNvr.Contracts.People;
using OpenNvr.Recorder.Analytics.Tracking;

namespace OpenNvr.Tests.Tracking;

/// <summary>Zones, lines, their geometry and occupancy smoothing, fed by the real tracker on synthetic walkers.</summary>
public sealed class SceneMonitorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private const int Width = 1000;
    private const int Height = 1000;

    // A vertical line at x = 0.5 from y = 0.8 up to y = 0.2: walking up, the right hand is +x, so left to right is "in".
    private static readonly LineDefinition Door = new(7, "door", new PlanePoint(0.5, 0.8), new PlanePoint(0.5, 0.2));

    private static readonly ZoneDefinition Square = new(3, "square",
        [new(0.2, 0.2), new(0.4, 0.2), new(0.4, 0.6), new(0.2, 0.6)], LoiteringSeconds: 5);

    /// <summary>Feeds one walker whose feet follow <paramref name="feet"/> (normalised, one point per 0.5 s); returns all events.</summary>
    private static List<SceneEvent> Walk(SceneMonitor monitor, params (double X, double Y)[] feet) => WalkMany(monitor, [feet]);

    private static List<SceneEvent> WalkMany(SceneMonitor monitor, (double X, double Y)[][] walkers, TrackerOptions? options = null)
    {
        var tracker = new PersonTracker(options ?? new TrackerOptions());
        var events = new List<SceneEvent>();
        var frames = walkers.Max(w => w.Length) + 12; // then nobody: the tracks end
        for (var i = 0; i < frames; i++)
        {
            var at = T0.AddSeconds(i * 0.5);
            var detections = walkers.Where(w => i < w.Length)
                .Select(w => new TrackerDetection(new TrackBox(w[i].X * Width - 15, w[i].Y * Height - 80, w[i].X * Width + 15, w[i].Y * Height), 0.62))
                .ToArray();
            events.AddRange(monitor.Observe(tracker.Update(at, detections, Width, Height), at, Width, Height));
        }

        return events;
    }

    private static (double, double)[] Path(double x0, double y0, double x1, double y1, int steps) =>
        [.. Enumerable.Range(0, steps + 1).Select(i => (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps))];

    [Fact]
    public void Crossing_a_line_counts_once_with_its_direction()
    {
        var right = Walk(new SceneMonitor([], [Door]), Path(0.3, 0.5, 0.7, 0.52, 12));
        var left = Walk(new SceneMonitor([], [Door]), Path(0.7, 0.5, 0.3, 0.48, 12));

        var crossing = Assert.Single(right);
        Assert.Equal((SceneEventKind.LineCrossed, CrossingDirection.In, 7L), (crossing.Kind, crossing.Direction!.Value, crossing.RegionId));
        Assert.True(crossing.TrackId > 0);
        Assert.Equal(CrossingDirection.Out, Assert.Single(left).Direction);
    }

    [Fact]
    public void Dithering_on_the_line_counts_nothing_and_stepping_over_counts_once()
    {
        // Feet wobble within the margin around x = 0.5 for several seconds, then step clearly across.
        var feet = Path(0.3, 0.5, 0.497, 0.5, 6).Concat(Enumerable.Range(0, 12).Select(i => (0.497 + (i % 2) * 0.006, 0.5)))
            .Concat(Path(0.503, 0.5, 0.7, 0.5, 6)).ToArray();

        var events = Walk(new SceneMonitor([], [Door]), feet);

        Assert.Equal(CrossingDirection.In, Assert.Single(events).Direction);
    }

    [Fact]
    public void Walking_round_the_end_of_a_line_is_no_crossing()
    {
        // Passes x = 0.5 at y = 0.1, above the line's upper end (y = 0.2).
        Assert.Empty(Walk(new SceneMonitor([], [Door]), Path(0.3, 0.1, 0.7, 0.1, 12)));
    }

    [Fact]
    public void A_crossing_before_the_track_is_confirmed_is_raised_with_its_id_once_it_is()
    {
        // Starts right next to the line and is over it by the second frame, before MinHits confirm the track.
        var events = Walk(new SceneMonitor([], [Door]), Path(0.47, 0.5, 0.8, 0.5, 11));

        var crossing = Assert.Single(events);
        Assert.True(crossing.TrackId > 0);
        Assert.Equal(T0.AddSeconds(1), crossing.At); // at 0.5 s the feet are on the line (within the margin)
    }

    [Fact]
    public void A_candidate_that_fades_raises_nothing()
    {
        // Two frames only: never confirmed (MinHits 3), so its crossing never happened.
        Assert.Empty(Walk(new SceneMonitor([], [Door]), (0.45, 0.5), (0.55, 0.5)));
    }

    [Fact]
    public void Entering_staying_and_leaving_a_zone_raise_entered_loitering_once_and_left_with_the_dwell()
    {
        // In at about 1.5 s, stands 8 s, out.
        var feet = Path(0.1, 0.4, 0.3, 0.4, 4).Concat(Enumerable.Repeat((0.3, 0.4), 16)).Concat(Path(0.3, 0.4, 0.6, 0.4, 6)).ToArray();

        var events = Walk(new SceneMonitor([Square], []), feet);

        Assert.Equal([SceneEventKind.ZoneEntered, SceneEventKind.ZoneLoitering, SceneEventKind.ZoneLeft], events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Equal(3L, e.RegionId));
        var entered = events[0].At;
        Assert.Equal(5, events[1].DwellSeconds!.Value, 3);
        Assert.Equal((events[2].At - entered).TotalSeconds, events[2].DwellSeconds!.Value, 6);
        Assert.True(events[2].DwellSeconds > 9);
    }

    [Fact]
    public void Standing_on_a_zone_boundary_does_not_flicker()
    {
        // Feet hop across the left edge (x = 0.2) within the margin for 10 s.
        var feet = Path(0.05, 0.4, 0.195, 0.4, 4).Concat(Enumerable.Range(0, 20).Select(i => (0.195 + (i % 2) * 0.009, 0.4))).ToArray();

        Assert.Empty(Walk(new SceneMonitor([Square], []), feet));
    }

    [Fact]
    public void A_person_whose_track_ends_inside_a_zone_leaves_it_at_their_last_sighting()
    {
        var monitor = new SceneMonitor([Square], []);

        var events = Walk(monitor, Path(0.1, 0.4, 0.3, 0.4, 6));

        Assert.Equal([SceneEventKind.ZoneEntered, SceneEventKind.ZoneLeft], events.Select(e => e.Kind));
        Assert.Equal(T0.AddSeconds(3), events[1].At);
        Assert.Equal([0], monitor.ZoneOccupancy());
    }

    [Fact]
    public void Zone_occupancy_counts_the_people_inside()
    {
        var monitor = new SceneMonitor([Square], []);
        var tracker = new PersonTracker(new TrackerOptions());
        TrackingUpdate update = null!;
        for (var i = 0; i < 6; i++)
        {
            var at = T0.AddSeconds(i * 0.5);
            update = tracker.Update(at, [Feet(0.25, 0.3), Feet(0.35, 0.5), Feet(0.8, 0.8)], Width, Height);
            monitor.Observe(update, at, Width, Height);
        }

        Assert.Equal(3, update.People.Count);
        Assert.Equal([2], monitor.ZoneOccupancy());

        static TrackerDetection Feet(double x, double y) => new(new TrackBox(x * Width - 15, y * Height - 80, x * Width + 15, y * Height), 0.62);
    }

    [Fact]
    public void Polygons_are_simple_unless_edges_cross_fold_back_or_enclose_nothing()
    {
        PlanePoint[] square = [new(0.1, 0.1), new(0.9, 0.1), new(0.9, 0.9), new(0.1, 0.9)];
        PlanePoint[] concave = [new(0.1, 0.1), new(0.9, 0.1), new(0.5, 0.4), new(0.9, 0.9), new(0.1, 0.9)];
        PlanePoint[] bowtie = [new(0.1, 0.1), new(0.9, 0.9), new(0.9, 0.1), new(0.1, 0.9)];
        PlanePoint[] line = [new(0.1, 0.1), new(0.5, 0.5), new(0.9, 0.9)];
        PlanePoint[] spike = [new(0.1, 0.1), new(0.9, 0.1), new(0.9, 0.9), new(0.9, 0.5)];
        PlanePoint[] repeated = [new(0.1, 0.1), new(0.9, 0.1), new(0.9, 0.1), new(0.1, 0.9)];
        PlanePoint[] touching = [new(0.1, 0.1), new(0.9, 0.1), new(0.5, 0.5), new(0.9, 0.9), new(0.1, 0.9), new(0.5, 0.5)];

        Assert.True(PlaneGeometry.IsSimplePolygon(square));
        Assert.True(PlaneGeometry.IsSimplePolygon(concave));
        Assert.False(PlaneGeometry.IsSimplePolygon(bowtie));
        Assert.False(PlaneGeometry.IsSimplePolygon(line));
        Assert.False(PlaneGeometry.IsSimplePolygon(spike));
        Assert.False(PlaneGeometry.IsSimplePolygon(repeated));
        Assert.False(PlaneGeometry.IsSimplePolygon(touching));
        Assert.False(PlaneGeometry.IsSimplePolygon(square.AsSpan(0, 2)));
    }

    [Fact]
    public void Points_are_inside_polygons_by_the_even_odd_rule_and_sides_of_lines_by_the_screen()
    {
        PlanePoint[] concave = [new(0.1, 0.1), new(0.9, 0.1), new(0.5, 0.4), new(0.9, 0.9), new(0.1, 0.9)];

        Assert.True(PlaneGeometry.Contains(concave, new(0.3, 0.5)));
        Assert.False(PlaneGeometry.Contains(concave, new(0.8, 0.4))); // in the notch
        Assert.False(PlaneGeometry.Contains(concave, new(1.2, 0.5)));
        Assert.Equal(0.1, PlaneGeometry.DistanceToBoundary(concave, new(0.2, 0.5)), 9);
        // Looking from (0,0) to (1,0) along the top of the screen, y down is on the right hand.
        Assert.True(PlaneGeometry.SignedDistance(new(0, 0), new(1, 0), new(0.5, 0.2)) > 0);
        Assert.True(PlaneGeometry.SegmentsIntersect(new(0, 0), new(1, 1), new(0, 1), new(1, 0)));
        Assert.False(PlaneGeometry.SegmentsIntersect(new(0, 0), new(0.4, 0.4), new(0, 1), new(1, 0)));
    }

    [Fact]
    public void Occupancy_changes_only_when_the_smoothed_count_changes_and_holds()
    {
        var smoother = new OccupancySmoother(windowSeconds: 2, holdSeconds: 3);
        // 2 fps: two people, a one-frame miss and a one-frame double box (ignored), then a third person who stays.
        int[] counts = [2, 2, 2, 2, 1, 2, 2, 3, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3];
        var changes = new List<OccupancyChange>();
        for (var i = 0; i < counts.Length; i++)
        {
            if (smoother.Add(T0.AddSeconds(i * 0.5), counts[i]) is { } change)
            {
                changes.Add(change);
            }
        }

        Assert.Equal(2, changes.Count);
        Assert.Equal((0, 2), (changes[0].From, changes[0].To));
        Assert.Equal(T0.AddSeconds(3), changes[0].At); // 2 from the first frame, held 3 s
        Assert.Equal((2, 3), (changes[1].From, changes[1].To));
        Assert.Equal(T0.AddSeconds(6.5), changes[1].Since); // the window's median turns to 3 at 6.5 s
        Assert.Equal(T0.AddSeconds(9.5), changes[1].At);
        Assert.Equal(3, smoother.Stable);
    }

    [Fact]
    public void Occupancy_flickering_between_two_values_changes_nothing()
    {
        var smoother = new OccupancySmoother(windowSeconds: 1, holdSeconds: 4);
        var changes = new List<OccupancyChange>();
        for (var i = 0; i < 80; i++)
        {
            // Two people for 5 s, then a third one seen every other second.
            var count = i < 10 ? 2 : i % 4 < 2 ? 2 : 3;
            if (smoother.Add(T0.AddSeconds(i * 0.5), count) is { } change)
            {
                changes.Add(change);
            }
        }

        // 0 → 2 at the start holds; the flicker never holds 4 s.
        Assert.Equal((0, 2), (Assert.Single(changes).From, changes[0].To));
        Assert.Equal(2, smoother.Stable);
    }
}
