namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>What one analysed frame changed. The tracks are live objects: read them before the next update.</summary>
public sealed class TrackingUpdate
{
    /// <summary>People now: confirmed tracks seen in this frame or hidden within their grace period.</summary>
    public required IReadOnlyList<Track> People { get; init; }

    /// <summary>Candidates: tracks not (yet) confirmed as people. What they do is kept until they are confirmed.</summary>
    public required IReadOnlyList<Track> Candidates { get; init; }

    /// <summary>Tracks confirmed as people in this frame.</summary>
    public required IReadOnlyList<Track> Entered { get; init; }

    /// <summary>People whose track ended in this frame (not seen for the grace period).</summary>
    public required IReadOnlyList<Track> Left { get; init; }

    /// <summary>Candidates forgotten in this frame (never confirmed): nothing to raise, only what was kept for them to free.</summary>
    public required IReadOnlyList<Track> Faded { get; init; }

    /// <summary>For each detection of the frame, the id of the person it belongs to (null: no person, or a candidate).</summary>
    public required long?[] DetectionTrackIds { get; init; }
}

/// <summary>
/// Multi-object tracker in the manner of ByteTrack (Zhang et al., ECCV 2022), for people seen at a few frames per
/// second. Pure code: no I/O, no clock: time is the capture time of each frame, so a replay gives the same tracks.
/// <list type="number">
/// <item>Every track's box is predicted to the frame's time by a constant-velocity Kalman filter
/// (<see cref="BoxKalmanFilter"/>).</item>
/// <item>High-score detections are matched to the people (seen or hidden) by minimum total cost (Hungarian), the cost
/// being the Mahalanobis distance of the centres (its gate scales with the box's size and with how uncertain the
/// track is) plus the IoU with the predicted box. IoU alone cannot work at 2 fps: walkers move about their own width
/// between frames, so consecutive boxes of one person hardly overlap.</item>
/// <item>Low-score detections (half hidden people) may then keep people seen in the last frame alive, within a
/// stricter gate, unless the person's own score has sunk (a track must not live on a static false detection).</item>
/// <item>Candidates take the high-score detections left; a candidate becomes a person after
/// <see cref="TrackerOptions.MinHits"/> matches when the median of its scores (frames it was missed in count 0)
/// reaches <see cref="TrackerOptions.ConfirmScore"/>. What remains of the high-score detections starts candidates.</item>
/// <item>A person unseen for <see cref="TrackerOptions.LostGraceSeconds"/> has left.</item>
/// </list>
/// Not thread-safe: one instance per camera and policy, fed one frame at a time in capture order.
/// </summary>
public sealed class PersonTracker
{
    private readonly TrackerOptions _options;
    private readonly List<Track> _tracks = [];
    private readonly LinearAssignment _assignment = new();
    private long _nextId;
    private long _nextKey;
    private DateTimeOffset? _lastFrame;
    private DateTimeOffset _now;

    // Reused between frames.
    private readonly List<int> _high = [];
    private readonly List<int> _low = [];
    private readonly List<Track> _pool = [];
    private double[] _cost = [];
    private int[] _rowToColumn = [];

    /// <param name="options">Settings, validated by the caller.</param>
    /// <param name="firstId">Id of the first person (ids then count up), so that ids stay unique across restarts when the caller seeds it from the clock.</param>
    public PersonTracker(TrackerOptions options, long firstId = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstId, 1);
        _options = options;
        _nextId = firstId;
    }

    /// <summary>Live tracks, candidates included.</summary>
    public IReadOnlyList<Track> Tracks => _tracks;

    /// <summary>Feeds the detections of the frame captured at <paramref name="capturedAt"/>.</summary>
    /// <param name="frameWidth">Frame size in pixels (0: unknown): a hidden person whose predicted position has left
    /// the frame has left the scene, without waiting for the grace period.</param>
    public TrackingUpdate Update(DateTimeOffset capturedAt, ReadOnlySpan<TrackerDetection> detections, int frameWidth = 0, int frameHeight = 0)
    {
        // A frame older than the last one (clock step) is treated as simultaneous with it.
        var now = _lastFrame is { } last && capturedAt < last ? last : capturedAt;
        _lastFrame = now;
        _now = now;
        foreach (var track in _tracks)
        {
            track.Filter.Predict((now - track.PredictedAt).TotalSeconds, _options);
            track.PredictedAt = now;
            track.Missed();
        }

        _high.Clear();
        _low.Clear();
        for (var i = 0; i < detections.Length; i++)
        {
            var d = detections[i];
            if (!(d.Score >= _options.LowScore) || !(d.Box.Width > 0) || !(d.Box.Height > 0))
            {
                continue;
            }

            (d.Score >= _options.HighScore ? _high : _low).Add(i);
        }

        var trackIds = new long?[detections.Length];
        var matchedDetections = new bool[detections.Length];

        // 1. High-score detections against the people, seen or hidden.
        _pool.Clear();
        _pool.AddRange(_tracks.Where(t => t.State is TrackState.Tracked or TrackState.Lost));
        Associate(_pool, _high, detections, matchedDetections, now, _options.Gate);

        // 2. Low-score detections against the people seen in the last frame and still unmatched, whose own score holds.
        _pool.Clear();
        _pool.AddRange(_tracks.Where(t => t.State == TrackState.Tracked && t.DetectionIndex < 0 && t.Score >= _options.KeepScore));
        Associate(_pool, _low, detections, matchedDetections, now, _options.LowScoreGate);

        // 3. The high-score detections left against the candidates (low-score ones only ever keep people alive).
        _pool.Clear();
        _pool.AddRange(_tracks.Where(t => t.State == TrackState.Tentative));
        _high.RemoveAll(i => matchedDetections[i]);
        Associate(_pool, _high, detections, matchedDetections, now, _options.Gate);

        var entered = new List<Track>();
        var left = new List<Track>();
        var faded = new List<Track>();
        for (var k = _tracks.Count - 1; k >= 0; k--)
        {
            var track = _tracks[k];
            var matched = track.DetectionIndex >= 0;
            if (track.State == TrackState.Tentative)
            {
                if (matched && track.Hits >= _options.MinHits && track.Score >= _options.ConfirmScore)
                {
                    Confirm(track, now);
                    entered.Add(track);
                }
                else if (!matched)
                {
                    track.ScoreMiss();
                    if ((now - track.LastSeen).TotalSeconds > _options.TentativeGraceSeconds)
                    {
                        track.State = TrackState.Removed;
                        _tracks.RemoveAt(k);
                        faded.Add(track);
                    }
                }

                continue;
            }

            if (matched)
            {
                track.State = TrackState.Tracked;
            }
            else if ((now - track.LastSeen).TotalSeconds > _options.LostGraceSeconds || OutOfFrame(track.PredictedBox, frameWidth, frameHeight))
            {
                track.State = TrackState.Removed;
                _tracks.RemoveAt(k);
                left.Add(track);
            }
            else
            {
                track.State = TrackState.Lost;
            }
        }

        // 4. Unmatched high-score detections start candidates, unless they sit on a box matched already (a second
        //    box on one person: upper body and whole body both scoring).
        foreach (var i in _high)
        {
            if (matchedDetections[i] || _tracks.Count >= _options.MaxTracks
                || IsDuplicate(detections, i, matchedDetections))
            {
                continue;
            }

            var track = new Track(++_nextKey, detections[i], now, _options) { DetectionIndex = i };
            _tracks.Add(track);
            matchedDetections[i] = true;
            if (_options.MinHits <= 1 && track.Score >= _options.ConfirmScore)
            {
                Confirm(track, now);
                entered.Add(track);
            }
        }

        var people = new List<Track>();
        var candidates = new List<Track>();
        foreach (var track in _tracks)
        {
            if (!track.IsConfirmed)
            {
                candidates.Add(track);
                continue;
            }

            people.Add(track);
            if (track.DetectionIndex >= 0)
            {
                trackIds[track.DetectionIndex] = track.Id;
            }
        }

        entered.Reverse(); // in track order (the loop above ran backwards)
        return new TrackingUpdate { People = people, Candidates = candidates, Entered = entered, Left = left, Faded = faded, DetectionTrackIds = trackIds };
    }

    private static bool OutOfFrame(in TrackBox box, int width, int height) =>
        width > 0 && height > 0 && (box.CenterX < 0 || box.CenterX > width || box.CenterY < 0 || box.CenterY > height);

    private void Confirm(Track track, DateTimeOffset now)
    {
        track.Id = _nextId++;
        track.State = TrackState.Tracked;
        track.ConfirmedAt = now;
    }

    private bool IsDuplicate(ReadOnlySpan<TrackerDetection> detections, int index, bool[] matched)
    {
        var box = detections[index].Box;
        for (var j = 0; j < detections.Length; j++)
        {
            if (j != index && matched[j] && box.IntersectionArea(detections[j].Box) >= _options.DuplicateOverlap * box.Area)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Matches <paramref name="tracks"/> to the detections listed in <paramref name="candidates"/> at minimum total cost within the gate.</summary>
    private void Associate(List<Track> tracks, List<int> candidates, ReadOnlySpan<TrackerDetection> detections, bool[] matched,
        DateTimeOffset now, double gate)
    {
        var rows = tracks.Count;
        var columns = candidates.Count;
        if (rows == 0 || columns == 0)
        {
            return;
        }

        if (_cost.Length < rows * columns)
        {
            _cost = new double[Math.Max(rows * columns, _cost.Length * 2)];
        }

        if (_rowToColumn.Length < rows)
        {
            _rowToColumn = new int[Math.Max(rows, _rowToColumn.Length * 2)];
        }

        var any = false;
        for (var r = 0; r < rows; r++)
        {
            var predicted = tracks[r].Filter.Box;
            for (var c = 0; c < columns; c++)
            {
                var cost = Cost(tracks[r], predicted, detections[candidates[c]].Box, gate);
                _cost[r * columns + c] = cost;
                any |= cost < LinearAssignment.Forbidden;
            }
        }

        if (!any)
        {
            return;
        }

        var assignment = _rowToColumn.AsSpan(0, rows);
        _assignment.Solve(_cost.AsSpan(0, rows * columns), rows, columns, assignment);
        for (var r = 0; r < rows; r++)
        {
            if (assignment[r] < 0)
            {
                continue;
            }

            var index = candidates[assignment[r]];
            var track = tracks[r];
            track.Filter.Update(detections[index].Box, _options);
            track.Observe(detections[index], now, index);
            matched[index] = true;
        }
    }

    private double Cost(Track track, in TrackBox predicted, in TrackBox box, double gate)
    {
        var ratio = box.Height / predicted.Height;
        if (ratio > _options.MaxHeightRatio || ratio * _options.MaxHeightRatio < 1)
        {
            return LinearAssignment.Forbidden;
        }

        // Physical bound first: nobody moves faster than MaxSpeed since they were last seen.
        var last = track.LastBox;
        var reach = (_options.MaxJump + _options.MaxSpeed * (_now - track.LastSeen).TotalSeconds) * Math.Max(last.Height, box.Height);
        var dx = box.CenterX - last.CenterX;
        var dy = box.CenterY - last.CenterY;
        if (dx * dx + dy * dy > reach * reach)
        {
            return LinearAssignment.Forbidden;
        }

        var distance = track.Filter.CenterDistanceSquared(box, _options);
        if (distance > gate)
        {
            return LinearAssignment.Forbidden;
        }

        return distance / gate + _options.IouWeight * (1 - predicted.IntersectionOverUnion(box));
    }
}
