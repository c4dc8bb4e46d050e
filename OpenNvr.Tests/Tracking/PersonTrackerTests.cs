using OpenNvr.Recorder.Analytics.Tracking;

namespace OpenNvr.Tests.Tracking;

/// <summary>The tracker on synthetic scenes at the demo policy's 2 fps: walkers move about their own width per frame.</summary>
public sealed class PersonTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private const double Step = 0.5; // seconds between analysed frames

    /// <summary>A walker 30x80 px whose feet move at a constant velocity; detected from <paramref name="from"/> to <paramref name="to"/> (seconds).</summary>
    private sealed record Walker(double X, double Y, double Vx, double Vy, double From, double To, double Score = 0.62)
    {
        public TrackBox BoxAt(double t) => TrackBox.FromCenter(X + Vx * (t - From), Y + Vy * (t - From), 30, 80);

        public bool VisibleAt(double t) => t >= From - 1e-9 && t <= To + 1e-9;
    }

    /// <summary>Deterministic detector noise: a few pixels on the centre, a few hundredths on the score.</summary>
    private static TrackerDetection Detect(TrackBox box, double score, Random noise) =>
        new(TrackBox.FromCenter(box.CenterX + noise.NextDouble() * 4 - 2, box.CenterY + noise.NextDouble() * 4 - 2,
            box.Width + noise.NextDouble() * 4 - 2, box.Height + noise.NextDouble() * 6 - 3), score + noise.NextDouble() * 0.1 - 0.05);

    /// <summary>Runs the walkers through a tracker; returns every update and, per walker, the track id given to each of its detections.</summary>
    /// <remarks>Tracks are live objects, changed by the next update: <paramref name="observe"/> reads each update as it comes.</remarks>
    private static (List<TrackingUpdate> Updates, List<long?>[] Ids) Run(PersonTracker tracker, IReadOnlyList<Walker> walkers, double seconds,
        Func<int, double, bool>? hidden = null, int seed = 7, Action<TrackingUpdate>? observe = null)
    {
        var noise = new Random(seed);
        var updates = new List<TrackingUpdate>();
        var ids = walkers.Select(_ => new List<long?>()).ToArray();
        for (var t = 0.0; t <= seconds + 1e-9; t += Step)
        {
            var owners = new List<int>();
            var detections = new List<TrackerDetection>();
            for (var w = 0; w < walkers.Count; w++)
            {
                if (walkers[w].VisibleAt(t) && hidden?.Invoke(w, t) != true)
                {
                    owners.Add(w);
                    detections.Add(Detect(walkers[w].BoxAt(t), walkers[w].Score, noise));
                }
            }

            var update = tracker.Update(T0.AddSeconds(t), detections.ToArray(), 1280, 720);
            updates.Add(update);
            observe?.Invoke(update);
            for (var i = 0; i < owners.Count; i++)
            {
                ids[owners[i]].Add(update.DetectionTrackIds[i]);
            }
        }

        return (updates, ids);
    }

    private static IEnumerable<Track> Entered(IEnumerable<TrackingUpdate> updates) => updates.SelectMany(u => u.Entered);

    private static IEnumerable<Track> Left(IEnumerable<TrackingUpdate> updates) => updates.SelectMany(u => u.Left);

    [Fact]
    public void A_walker_moving_its_own_width_between_frames_keeps_one_id_from_confirmation_to_exit()
    {
        // 30 px wide, 60 px/s: consecutive boxes do not overlap, as on the demo clip at 2 fps (IoU-only association fails).
        var walker = new Walker(100, 300, 60, 5, 0, 15);
        Assert.True(walker.BoxAt(0).IntersectionOverUnion(walker.BoxAt(Step)) < 0.05);

        var (updates, ids) = Run(new PersonTracker(new TrackerOptions()), [walker], 22);

        var entered = Assert.Single(Entered(updates));
        var left = Assert.Single(Left(updates));
        Assert.Equal(entered.Id, left.Id);
        // Candidate for the first MinHits - 1 frames, then the same person to the end.
        Assert.All(ids[0].Skip(new TrackerOptions().MinHits - 1), id => Assert.Equal(entered.Id, id));
        Assert.Equal(T0, entered.FirstSeen);
        Assert.Equal(15, left.Dwell.TotalSeconds, 3);
    }

    [Fact]
    public void Walkers_crossing_paths_keep_their_ids()
    {
        // Head-on on nearly the same row: at the crossing the boxes overlap almost entirely; motion tells them apart.
        var walkers = new[] { new Walker(100, 300, 70, 0, 0, 14), new Walker(1080, 312, -70, 0, 0, 14) };

        var (updates, ids) = Run(new PersonTracker(new TrackerOptions()), walkers, 14);

        Assert.Equal(2, Entered(updates).Count());
        for (var w = 0; w < walkers.Length; w++)
        {
            var confirmed = ids[w].Where(id => id is not null).ToList();
            Assert.True(confirmed.Distinct().Count() == 1, $"walker {w}: ids {string.Join(",", ids[w])}");
            Assert.True(confirmed.Count >= ids[w].Count - 3, $"walker {w}: ids {string.Join(",", ids[w])}");
        }

        Assert.NotEqual(ids[0].Last(), ids[1].Last());
    }

    [Fact]
    public void A_walker_hidden_for_two_seconds_comes_back_under_the_same_id()
    {
        var walker = new Walker(100, 300, 60, 0, 0, 16);
        var states = new List<TrackState>();

        var (updates, ids) = Run(new PersonTracker(new TrackerOptions()), [walker], 16, hidden: (_, t) => t is > 6 and < 8.2,
            observe: u => states.AddRange(u.People.Select(p => p.State)));

        var person = Assert.Single(Entered(updates));
        Assert.All(ids[0].Skip(2), id => Assert.Equal(person.Id, id));
        // While hidden (4 frames) the person is still counted, lost at a predicted position; nobody left.
        Assert.Equal(4, states.Count(s => s == TrackState.Lost));
        Assert.Equal(updates.Count - 2, states.Count);
        Assert.Empty(Left(updates));
    }

    [Fact]
    public void A_walker_hidden_longer_than_the_grace_period_leaves_and_comes_back_as_a_new_person()
    {
        var options = new TrackerOptions();
        var walker = new Walker(100, 300, 30, 0, 0, 20);

        var hiddenUntil = 5 + options.LostGraceSeconds + 1.5;
        var (updates, _) = Run(new PersonTracker(options), [walker], 20, hidden: (_, t) => t > 5 && t < hiddenUntil);

        Assert.Equal(2, Entered(updates).Count());
        var first = Left(updates).First();
        Assert.Equal(5, first.LastSeen.Subtract(T0).TotalSeconds, 3);
    }

    [Fact]
    public void A_hidden_walker_whose_predicted_position_leaves_the_frame_has_left_at_once()
    {
        var walker = new Walker(1100, 300, 90, 0, 0, 1.5);

        var (updates, _) = Run(new PersonTracker(new TrackerOptions()), [walker], 10);

        var left = Assert.Single(Left(updates));
        var when = updates.FindIndex(u => u.Left.Count > 0) * Step;
        Assert.True(when < 1.5 + new TrackerOptions().LostGraceSeconds, $"left at {when} s");
    }

    // Scores of the demo clip's static objects at 2 fps (bundled CenterNet, testdata/video/vtest.mp4, frames 0-395
    // every 5th; 0 where it found nothing there): the rock at the left of the path and the sign post on the lawn.
    private static readonly double[] RockScores =
    [
        0.34, 0.36, 0.34, 0.35, 0.38, 0.35, 0.39, 0.34, 0.35, 0.39, 0.37, 0.39, 0.36, 0.38, 0.41, 0.39, 0.37, 0.42, 0.40, 0.38,
        0.40, 0.36, 0.37, 0.39, 0.41, 0.41, 0.41, 0.41, 0.41, 0.39, 0.40, 0.38, 0.36, 0.38, 0.40, 0.38, 0.33, 0.35, 0.39, 0.36,
        0.28, 0.31, 0.11, 0.24, 0.37, 0.38, 0.37, 0.39, 0.31, 0.31, 0.33, 0.36, 0.40, 0.39, 0.38, 0.37, 0.34, 0.36, 0.36, 0.32,
        0.34, 0.33, 0.34, 0.35, 0.38, 0.39, 0.41, 0.43, 0.39, 0.34, 0.32, 0.27, 0.31, 0.30, 0.34, 0.37, 0.40, 0.38, 0.36, 0.42,
    ];

    private static readonly double[] PostScores =
    [
        0.33, 0.34, 0.35, 0.34, 0.32, 0.30, 0.31, 0.30, 0.31, 0.31, 0.29, 0.30, 0.29, 0.28, 0.29, 0.29, 0.30, 0.29, 0.30, 0.29,
        0.30, 0.31, 0.30, 0.32, 0.34, 0.33, 0.35, 0.33, 0.33, 0.28, 0.28, 0.33, 0.52, 0.47, 0.32, 0.36, 0.37, 0.37, 0.36, 0.35,
        0.33, 0.35, 0.24, 0.36, 0.30, 0.31, 0.31, 0.32, 0.33, 0.32, 0.31, 0.34, 0.35, 0.35, 0.35, 0.34, 0.33, 0.31, 0.31, 0.31,
        0.32, 0.31, 0.31, 0.28, 0.33, 0.33, 0.32, 0.33, 0.33, 0.32, 0.32, 0.28, 0.36, 0.37, 0.38, 0.36, 0.33, 0.31, 0.30, 0.29,
    ];

    [Theory]
    [InlineData(0.35)] // what person_counting returns at Inference's default threshold
    [InlineData(0.20)] // the tracker's own low bound: every detection the model gives
    public void Static_objects_scoring_near_the_threshold_in_single_frames_never_become_people(double detectorThreshold)
    {
        var tracker = new PersonTracker(new TrackerOptions());
        var rock = new TrackBox(161, 249, 193, 276);
        var post = new TrackBox(30, 109, 46, 139);
        var entered = 0;
        for (var i = 0; i < RockScores.Length * 3; i++)
        {
            // Three passes over the measured series, the rock also given a lucky frame now and then.
            var rockScore = i % 37 == 5 ? 0.58 : RockScores[i % RockScores.Length];
            var detections = new[] { new TrackerDetection(rock, rockScore), new TrackerDetection(post, PostScores[i % PostScores.Length]) }
                .Where(d => d.Score >= detectorThreshold).ToArray();
            var update = tracker.Update(T0.AddSeconds(i * Step), detections, 768, 576);
            entered += update.Entered.Count;
            Assert.Empty(update.People);
            Assert.All(update.DetectionTrackIds, id => Assert.Null(id));
        }

        Assert.Equal(0, entered);
    }

    [Fact]
    public void A_person_standing_still_is_a_person_for_as_long_as_they_stand()
    {
        var (updates, ids) = Run(new PersonTracker(new TrackerOptions()), [new Walker(400, 300, 0, 0, 0, 60, Score: 0.55)], 60);

        var person = Assert.Single(Entered(updates));
        Assert.All(ids[0].Skip(2), id => Assert.Equal(person.Id, id));
        Assert.Empty(Left(updates));
    }

    [Fact]
    public void A_person_walking_past_a_static_false_detection_leaves_when_they_leave()
    {
        // The walker passes over a rock that scores like the demo clip's, then walks on and out of view.
        var tracker = new PersonTracker(new TrackerOptions());
        var noise = new Random(3);
        var rock = new TrackBox(385, 262, 415, 342);
        var walker = new Walker(200, 300, 50, 0, 0, 8);
        var enteredIds = new List<long>();
        var leftIds = new List<long>();
        for (var i = 0; i < 60; i++)
        {
            var t = i * Step;
            var detections = new List<TrackerDetection> { new(rock, RockScores[i % RockScores.Length]) };
            if (walker.VisibleAt(t))
            {
                detections.Add(Detect(walker.BoxAt(t), walker.Score, noise));
            }

            var update = tracker.Update(T0.AddSeconds(t), detections.Where(d => d.Score >= 0.35).ToArray(), 1280, 720);
            enteredIds.AddRange(update.Entered.Select(p => p.Id));
            leftIds.AddRange(update.Left.Select(p => p.Id));
        }

        Assert.Single(enteredIds);
        Assert.Equal(enteredIds, leftIds);
    }

    [Fact]
    public void A_second_box_on_the_same_person_starts_no_track()
    {
        // The detector also boxes the upper body of a walker, inside the whole-body box: still one person.
        var tracker = new PersonTracker(new TrackerOptions());
        var entered = 0;
        for (var i = 0; i < 20; i++)
        {
            var body = TrackBox.FromCenter(300 + 20 * i, 300, 30, 80);
            var upperBody = new TrackBox(body.X1 + 2, body.Y1, body.X2 - 2, body.Y1 + 40);
            entered += tracker.Update(T0.AddSeconds(i * Step), [new TrackerDetection(body, 0.65), new TrackerDetection(upperBody, 0.55)]).Entered.Count;
        }

        Assert.Equal(1, entered);
    }

    [Fact]
    public void Ids_count_up_from_the_seed_in_order_of_confirmation_and_every_detection_knows_its_person()
    {
        var tracker = new PersonTracker(new TrackerOptions(), firstId: 1_000_000);
        var walkers = new[] { new Walker(100, 200, 40, 0, 0, 10), new Walker(900, 500, -40, 0, 2, 10) };

        var (updates, ids) = Run(tracker, walkers, 10);

        Assert.Equal([1_000_000L, 1_000_001L], Entered(updates).Select(p => p.Id));
        Assert.Equal(1_000_000L, ids[0].Last());
        Assert.Equal(1_000_001L, ids[1].Last());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PersonTracker(new TrackerOptions(), firstId: 0));
    }

    [Fact]
    public void The_same_frames_give_the_same_tracks_whatever_the_wall_clock()
    {
        // Time is the frames' capture time only: two replays an hour apart agree exactly.
        var walkers = new[] { new Walker(100, 300, 70, 0, 0, 14), new Walker(1080, 312, -70, 0, 0, 14), new Walker(600, 100, 0, 20, 3, 9) };

        var first = Run(new PersonTracker(new TrackerOptions()), walkers, 20).Ids;
        var second = Run(new PersonTracker(new TrackerOptions()), walkers, 20).Ids;

        Assert.Equal(first.Select(l => string.Join(",", l)), second.Select(l => string.Join(",", l)));
    }

    [Fact]
    public void The_track_score_is_the_median_of_its_detection_scores_and_the_best_detection_is_kept()
    {
        var tracker = new PersonTracker(new TrackerOptions { MinHits = 3, ConfirmScore = 0.45 });
        var scores = new[] { 0.6, 0.5, 0.9, 0.55, 0.2, 0.58 };
        Track? person = null;
        for (var i = 0; i < scores.Length; i++)
        {
            var update = tracker.Update(T0.AddSeconds(i * Step), [new TrackerDetection(TrackBox.FromCenter(300 + 20 * i, 300, 30, 80), scores[i])]);
            person ??= update.Entered.SingleOrDefault();
        }

        Assert.NotNull(person);
        Assert.Equal(0.565, person.Score, 6); // median of 0.6, 0.5, 0.9, 0.55, 0.2, 0.58
        Assert.Equal(0.9, person.BestScore);
        Assert.Equal(T0.AddSeconds(2 * Step), person.BestSeenAt);
        Assert.Equal(340, person.BestBox.CenterX, 6);
    }

    [Fact]
    public void A_frame_older_than_the_last_is_taken_as_simultaneous()
    {
        var tracker = new PersonTracker(new TrackerOptions { MinHits = 1, ConfirmScore = 0 });
        tracker.Update(T0.AddSeconds(10), [new TrackerDetection(TrackBox.FromCenter(300, 300, 30, 80), 0.6)]);

        var update = tracker.Update(T0.AddSeconds(4), [new TrackerDetection(TrackBox.FromCenter(305, 300, 30, 80), 0.6)]);

        var person = Assert.Single(update.People);
        Assert.Equal(T0.AddSeconds(10), person.LastSeen);
        Assert.Empty(update.Entered);
    }

    [Fact]
    public void Kalman_filter_learns_a_walkers_velocity_and_predicts_where_they_will_be()
    {
        var options = new TrackerOptions();
        var filter = new BoxKalmanFilter(TrackBox.FromCenter(100, 300, 30, 80), options);
        for (var i = 1; i <= 8; i++)
        {
            filter.Predict(Step, options);
            filter.Update(TrackBox.FromCenter(100 + 30 * i, 300 - 5 * i, 30, 80), options);
        }

        Assert.Equal(60, filter.Velocity.X, 0.5);
        Assert.Equal(-10, filter.Velocity.Y, 0.5);
        filter.Predict(Step, options);
        Assert.Equal(100 + 30 * 8 + 30, filter.Box.CenterX, 2.0);
        // A detection where the walker is expected sits deep inside the gate; one a body height behind, outside.
        Assert.True(filter.CenterDistanceSquared(TrackBox.FromCenter(370, 255, 30, 80), options) < 1);
        Assert.True(filter.CenterDistanceSquared(TrackBox.FromCenter(290, 255, 30, 80), options) > options.Gate);
    }
}
