using OpenNvr.Contracts.People;
using OpenNvr.Recorder.Analytics.Tracking;

namespace OpenNvr.Tests.Tracking;

/// <summary>Events per person, not per frame: the people analytics of one policy on synthetic scenes at 2 fps.</summary>
public sealed class PeopleAnalyticsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private const int Width = 1000;
    private const int Height = 1000;

    private static readonly ZoneDefinition Door = new(5, "door", [new(0.4, 0.3), new(0.6, 0.3), new(0.6, 0.7), new(0.4, 0.7)], LoiteringSeconds: 4);
    private static readonly LineDefinition Gate = new(9, "gate", new PlanePoint(0.8, 0.9), new PlanePoint(0.8, 0.1));

    /// <summary>People by the feet (normalised) at each frame index; null where a person is not in view.</summary>
    private static List<PeopleFrame> Run(PeopleAnalytics analytics, int frames, Func<int, IEnumerable<(double X, double Y)>> feet)
    {
        var results = new List<PeopleFrame>();
        for (var i = 0; i < frames; i++)
        {
            var detections = feet(i).Select(f => new TrackerDetection(new TrackBox(f.X * Width - 15, f.Y * Height - 80, f.X * Width + 15, f.Y * Height), 0.62)).ToArray();
            results.Add(analytics.Process(T0.AddSeconds(i * 0.5), Width, Height, detections));
        }

        return results;
    }

    [Fact]
    public void A_steady_scene_stores_its_people_once_not_every_frame()
    {
        // Three people standing for a minute, one of them missed by the detector in every fifth frame.
        var analytics = new PeopleAnalytics(new TrackerOptions(), new PeopleSettings([], []));

        var frames = Run(analytics, 120, i => new[] { (0.2, 0.5), (0.5, 0.5), (0.8, 0.5) }.Where((_, p) => p != 1 || i % 5 != 0));

        var events = frames.SelectMany(f => f.Events).ToList();
        Assert.Equal(3, events.Count(e => e.EventType == PersonEventTypes.PersonEntered));
        var occupancy = Assert.Single(events, e => e.EventType == PersonEventTypes.OccupancyChanged);
        Assert.Equal((0, 3), ((int)occupancy.Details["from"]!, (int)occupancy.Details["to"]!));
        Assert.Equal(3, occupancy.Boxes.Count);
        Assert.Equal(4, events.Count);
        Assert.All(events.Where(e => e.EventType == PersonEventTypes.PersonEntered), e =>
        {
            Assert.NotNull(e.TrackId);
            Assert.Equal(SnapshotOf.BestFrame, e.Snapshot);
            Assert.Single(e.Boxes);
        });
        Assert.Equal(3, frames[^1].People);
    }

    [Fact]
    public void A_walk_through_a_zone_and_over_a_line_raises_each_event_once_with_the_track_and_the_box()
    {
        var analytics = new PeopleAnalytics(new TrackerOptions(), new PeopleSettings([Door], [Gate]));
        // Left to right at y = 0.5: into the door zone at x 0.4, stands 6 s, out at 0.6, over the gate at 0.8, out of view.
        static double X(int i) => i < 20 ? 0.1 + i * 0.02 : i < 32 ? 0.5 : 0.5 + (i - 32) * 0.02;

        var frames = Run(analytics, 70, i => X(i) < 1.0 ? [(X(i), 0.5)] : []);

        var events = frames.SelectMany(f => f.Events).ToList();
        Assert.Equal(
            [PersonEventTypes.PersonEntered, PersonEventTypes.ZoneEntered, PersonEventTypes.ZoneLoitering, PersonEventTypes.ZoneLeft,
             PersonEventTypes.LineCrossed, PersonEventTypes.PersonLeft],
            events.Where(e => e.EventType != PersonEventTypes.OccupancyChanged).Select(e => e.EventType));
        var person = events[0].TrackId;
        Assert.All(events.Where(e => e.EventType != PersonEventTypes.OccupancyChanged), e => Assert.Equal(person, e.TrackId));
        var crossing = events.Single(e => e.EventType == PersonEventTypes.LineCrossed);
        Assert.Equal(("in", 9L, "gate"), ((string)crossing.Details["direction"]!, (long)crossing.Details["line_id"]!, (string)crossing.Details["line_name"]!));
        Assert.Equal(SnapshotOf.CurrentFrame, crossing.Snapshot);
        Assert.InRange(crossing.Boxes[0].CenterX, 790, 830);
        var zoneLeft = events.Single(e => e.EventType == PersonEventTypes.ZoneLeft);
        Assert.InRange((double)zoneLeft.Details["dwell_s"]!, 8, 11);
        var left = events.Single(e => e.EventType == PersonEventTypes.PersonLeft);
        Assert.Equal(SnapshotOf.BestFrame, left.Snapshot);
        Assert.InRange((double)left.Details["dwell_s"]!, 27, 29);
        // The frames were kept for this person only while they lived.
        Assert.Contains(frames.SelectMany(f => f.BestFrameFor), key => key == events[0].TrackKey);
        Assert.Contains(frames.SelectMany(f => f.Forget), key => key == events[0].TrackKey);
    }

    [Fact]
    public void Zones_and_lines_that_raise_nothing_still_count_in_the_occupancy_series()
    {
        var quietDoor = Door with { RaisesEntered = false, RaisesLeft = false, LoiteringSeconds = null };
        var quietGate = Gate with { RaisesCrossed = false };
        var analytics = new PeopleAnalytics(new TrackerOptions(), new PeopleSettings([quietDoor], [quietGate]));

        var frames = Run(analytics, 60, i => 0.1 + i * 0.02 < 1.0 ? [(0.1 + i * 0.02, 0.5)] : []);

        var events = frames.SelectMany(f => f.Events).Select(e => e.EventType).Distinct().Order().ToList();
        Assert.Equal([PersonEventTypes.OccupancyChanged, PersonEventTypes.PersonEntered, PersonEventTypes.PersonLeft], events);
        var buckets = frames.Select(f => f.ClosedBucket).OfType<OccupancyBucket>().ToList();
        Assert.Equal(1, buckets.Sum(b => b.Lines.GetValueOrDefault(9).In));
        Assert.Contains(buckets, b => b.Zones.GetValueOrDefault(5).Max == 1);
        Assert.All(buckets, b => Assert.Equal(20, b.Samples));
    }

    [Fact]
    public void Faces_are_tried_for_people_only_when_the_policy_recognises_faces_and_once_recognised_never_again()
    {
        var withFaces = new PeopleAnalytics(new TrackerOptions(), new PeopleSettings([], [], RecogniseFaces: true));
        var without = new PeopleAnalytics(new TrackerOptions(), new PeopleSettings([], []));
        Assert.Empty(Run(without, 10, _ => [(0.5, 0.5)]).SelectMany(f => f.FaceAttempts));

        // Walking towards the camera (the box grows, so retries would be due) for 25 s; recognised at the first attempt.
        var attempts = new List<long>();
        IReadOnlyList<PersonEvent>? recognised = null;
        for (var i = 0; i < 50; i++)
        {
            var height = 80 + i * 4;
            var at = T0.AddSeconds(i * 0.5);
            var frame = withFaces.Process(at, Width, Height, [new TrackerDetection(new TrackBox(485, 600 - height, 515 + i, 600), 0.62)]);
            foreach (var person in frame.FaceAttempts)
            {
                attempts.Add(person.Id);
                recognised ??= withFaces.Recognised(person, at, new FaceMatch("p-7", "Ada", "watchlist", 0.71234, new TrackBox(490, 600 - height, 505, 615 - height)),
                    raiseRecognized: true, raiseWatchlistHit: true);
            }
        }

        Assert.Single(attempts);
        Assert.NotNull(recognised);
        Assert.Equal([(PersonEventTypes.FaceRecognized, attempts[0]), (PersonEventTypes.WatchlistHit, attempts[0])], recognised.Select(e => (e.EventType, e.TrackId)));
        Assert.All(recognised, e => Assert.Equal(("p-7", "Ada", 0.7123), ((string)e.Details["person_id"]!, (string)e.Details["name"]!, (double)e.Details["similarity"]!)));
        Assert.All(recognised, e => Assert.Equal(15, Assert.Single(e.Boxes).Width)); // the face's box, not the person's
    }
}
