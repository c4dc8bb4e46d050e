namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>Where a track is in its life.</summary>
public enum TrackState
{
    /// <summary>A candidate: not yet enough hits, or its scores are too low to be a person. Raises nothing.</summary>
    Tentative,

    /// <summary>A person, matched in the last analysed frame.</summary>
    Tracked,

    /// <summary>A person not matched in the last frame(s): hidden or missed; its motion is still predicted.</summary>
    Lost,

    /// <summary>Gone: not seen for the grace period, or a candidate that faded.</summary>
    Removed,
}

/// <summary>A detection offered to the tracker: a box in frame pixels and the detector's score.</summary>
public readonly record struct TrackerDetection(TrackBox Box, double Score);

/// <summary>One object followed over frames. Read by the caller; changed only by <see cref="PersonTracker"/>.</summary>
public sealed class Track
{
    private readonly double[] _scores;
    private int _scoreCount;
    private int _scoreNext;
    internal BoxKalmanFilter Filter;

    internal Track(long key, in TrackerDetection detection, DateTimeOffset seenAt, TrackerOptions options)
    {
        Key = key;
        Filter = new BoxKalmanFilter(detection.Box, options);
        _scores = new double[options.ScoreWindow];
        FirstSeen = seenAt;
        PredictedAt = seenAt;
        Observe(detection, seenAt, -1);
    }

    /// <summary>Unique per tracker from the track's birth (candidates too): a key for what the caller keeps per track.</summary>
    public long Key { get; }

    /// <summary>The person's id (positive), given when the track is confirmed; 0 while it is a candidate.</summary>
    public long Id { get; internal set; }

    public TrackState State { get; internal set; } = TrackState.Tentative;

    /// <summary>Whether it ever was a person (a removed person's track raised its entry and now its exit).</summary>
    public bool IsConfirmed => Id > 0;

    /// <summary>Capture time of its first detection (before confirmation: the person was there from then on).</summary>
    public DateTimeOffset FirstSeen { get; }

    /// <summary>Capture time of its latest detection.</summary>
    public DateTimeOffset LastSeen { get; private set; }

    /// <summary>Capture time of the frame in which it became a person.</summary>
    public DateTimeOffset? ConfirmedAt { get; internal set; }

    /// <summary>Time in view: first to last detection.</summary>
    public TimeSpan Dwell => LastSeen - FirstSeen;

    /// <summary>Detections matched so far.</summary>
    public int Hits { get; private set; }

    /// <summary>The latest detected box (pixels).</summary>
    public TrackBox LastBox { get; private set; }

    /// <summary>Where the motion model puts it at the latest analysed frame (pixels).</summary>
    public TrackBox PredictedBox => Filter.Box;

    /// <summary>The box to show for the latest frame: the detection when matched, else the prediction.</summary>
    public TrackBox Box => State == TrackState.Tracked ? LastBox : PredictedBox;

    /// <summary>Centre velocity, pixels per second.</summary>
    public (double X, double Y) Velocity => Filter.Velocity;

    /// <summary>The track's score: the median of its recent detection scores, robust to a single lucky frame.</summary>
    public double Score => Median();

    /// <summary>Its best detection so far (highest score): the frame to show for the person.</summary>
    public double BestScore { get; private set; }

    public TrackBox BestBox { get; private set; }

    public DateTimeOffset BestSeenAt { get; private set; }

    /// <summary>Index, among the latest frame's detections, of the one matched to it (-1: none).</summary>
    public int DetectionIndex { get; internal set; } = -1;

    /// <summary>Whether its detection of the latest frame is its best so far (a better snapshot is available).</summary>
    public bool BestImproved { get; private set; }

    internal DateTimeOffset PredictedAt { get; set; }

    internal void Observe(in TrackerDetection detection, DateTimeOffset seenAt, int index)
    {
        LastBox = detection.Box;
        LastSeen = seenAt;
        DetectionIndex = index;
        Hits++;
        AddScore(detection.Score);
        BestImproved = detection.Score > BestScore;
        if (BestImproved)
        {
            BestScore = detection.Score;
            BestBox = detection.Box;
            BestSeenAt = seenAt;
        }
    }

    internal void Missed()
    {
        DetectionIndex = -1;
        BestImproved = false;
    }

    /// <summary>
    /// A candidate missed in a frame scores 0 there: something detected in one frame out of three (a post that a
    /// passer-by lifts over the threshold now and then) cannot reach a median worth a person.
    /// </summary>
    internal void ScoreMiss() => AddScore(0);

    private void AddScore(double score)
    {
        _scores[_scoreNext] = score;
        _scoreNext = (_scoreNext + 1) % _scores.Length;
        _scoreCount = Math.Min(_scoreCount + 1, _scores.Length);
    }

    private double Median()
    {
        Span<double> window = stackalloc double[_scoreCount];
        _scores.AsSpan(0, _scoreCount).CopyTo(window);
        window.Sort();
        var middle = _scoreCount / 2;
        return _scoreCount % 2 == 1 ? window[middle] : (window[middle - 1] + window[middle]) / 2;
    }
}
