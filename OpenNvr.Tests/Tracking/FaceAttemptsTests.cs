using OpenNvr.Recorder.Analytics.Tracking;

namespace OpenNvr.Tests.Tracking;

public sealed class FaceAttemptsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Walkers coming towards the camera (boxes growing) for 20 s at 2 fps; returns the ids tried per frame.</summary>
    private static List<long[]> Run(FaceAttempts attempts, int walkers, Func<long, int, bool>? recognisedAt = null, double growthPerSecond = 4)
    {
        var tracker = new PersonTracker(new TrackerOptions());
        var tried = new List<long[]>();
        for (var i = 0; i < 40; i++)
        {
            var at = T0.AddSeconds(i * 0.5);
            var detections = Enumerable.Range(0, walkers)
                .Select(w => new TrackerDetection(TrackBox.FromCenter(200 + 300 * w, 300 + i * 2, 30 + w, 80 + w * 10 + i * growthPerSecond / 2), 0.6))
                .ToArray();
            var update = tracker.Update(at, detections, 1920, 1080);
            var chosen = attempts.Choose(update, at, 1920, 1080).Select(p => p.Id).ToArray();
            foreach (var id in chosen.Where(id => recognisedAt?.Invoke(id, i) == true))
            {
                attempts.Recognised(id);
            }

            tried.Add(chosen);
        }

        return tried;
    }

    [Fact]
    public void A_person_is_tried_on_confirmation_then_only_when_seen_better_at_most_three_times()
    {
        var tried = Run(new FaceAttempts(), 1);

        var frames = tried.Select((ids, i) => (ids, i)).Where(x => x.ids.Length > 0).Select(x => x.i).ToList();
        Assert.Equal(3, frames.Count);
        Assert.Equal(2, frames[0]); // confirmed on the third frame
        Assert.All(frames.Zip(frames.Skip(1)), p => Assert.True(p.Second - p.First >= 4, $"tries at frames {string.Join(",", frames)}"));
    }

    [Fact]
    public void A_recognised_person_is_not_tried_again()
    {
        var tried = Run(new FaceAttempts(), 1, recognisedAt: (_, _) => true);

        Assert.Equal(1, tried.Count(ids => ids.Length > 0));
    }

    [Fact]
    public void A_person_who_is_not_seen_better_is_tried_once()
    {
        var tried = Run(new FaceAttempts(), 1, growthPerSecond: 0);

        Assert.Equal(1, tried.Count(ids => ids.Length > 0));
    }

    [Fact]
    public void At_most_two_people_per_frame_largest_first_and_the_others_next()
    {
        var tried = Run(new FaceAttempts(), 4, growthPerSecond: 0);

        var first = tried.First(ids => ids.Length > 0);
        Assert.Equal(2, first.Length);
        Assert.Equal(4, tried.SelectMany(ids => ids).Distinct().Count());
        Assert.Equal(4, tried.Sum(ids => ids.Length));
    }

    [Fact]
    public void A_person_cut_off_by_the_frame_or_too_small_for_a_face_is_tried_only_once_in_full_view()
    {
        var tracker = new PersonTracker(new TrackerOptions());
        var attempts = new FaceAttempts();
        var tried = new List<int>();
        for (var i = 0; i < 30; i++)
        {
            // Walks in from the left edge (box cut by it up to frame 8), growing from 20 px to 50 px tall at frame 10 (48 px
            // is the least a face can be found in), then walking on at that size.
            var left = Math.Max(0, -80 + i * 10.0);
            var height = Math.Min(20 + i * 3, 50);
            var box = new TrackBox(left, 300, -80 + i * 10.0 + 40, 300 + height);
            var update = tracker.Update(T0.AddSeconds(i * 0.5), [new TrackerDetection(box, 0.8)], 1920, 1080);
            if (attempts.Choose(update, T0.AddSeconds(i * 0.5), 1920, 1080).Count > 0)
            {
                tried.Add(i);
            }
        }

        Assert.Equal([10], tried);
    }

    [Fact]
    public void The_head_region_is_the_upper_part_of_the_box_at_least_four_by_three_and_within_the_frame()
    {
        var region = FaceAttempts.HeadRegion(new TrackBox(100, 50, 140, 250), 768, 576);

        Assert.Equal(40, region.Y1, 6); // 5 % of the height above the box
        Assert.Equal(110, region.Height, 6); // 55 % of it
        Assert.Equal(region.Height * 4 / 3, region.Width, 6);
        Assert.Equal(120, region.CenterX, 6);

        var atCorner = FaceAttempts.HeadRegion(new TrackBox(0, 0, 300, 400), 320, 240);
        Assert.Equal((0.0, 0.0, 320.0), (atCorner.X1, atCorner.Y1, atCorner.X2));
        Assert.True(atCorner.Y2 <= 240);
    }
}
