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
            var chosen = attempts.Choose(update, at).Select(p => p.Id).ToArray();
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
}
