namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>
/// When to try recognising a tracked person's face: once per person, not on every frame. A person is tried only at a
/// good moment: matched to a detection in this frame, box at least <see cref="MinBoxHeight"/> pixels tall and clear of
/// the frame's top, left and right edges (a head cut off by the frame has no face to find). The first good moment
/// after confirmation is the first attempt; a retry needs the person seen clearly better than at their last attempt
/// (box at least <see cref="GrowthForRetry"/> times taller, or a better detection score), at least
/// <see cref="RetrySpacing"/> after it, up to <see cref="MaxAttempts"/>; once recognised, never again. At most
/// <see cref="MaxPerFrame"/> people are tried per frame, largest first (a face is likelier found on a bigger box).
/// Pure: time is the frames' capture time.
/// </summary>
public sealed class FaceAttempts(int maxAttempts = 3, int maxPerFrame = 2, double retrySpacingSeconds = 2, double growthForRetry = 1.25,
    double minBoxHeight = 48, double edgeMargin = 2)
{
    private readonly Dictionary<long, (int Attempts, DateTimeOffset At, double Height, double Score, bool Done)> _people = [];

    public int MaxAttempts { get; } = maxAttempts;

    public int MaxPerFrame { get; } = maxPerFrame;

    public TimeSpan RetrySpacing { get; } = TimeSpan.FromSeconds(retrySpacingSeconds);

    public double GrowthForRetry { get; } = growthForRetry;

    /// <summary>Pixels: a smaller person's face is below what the face detector finds.</summary>
    public double MinBoxHeight { get; } = minBoxHeight;

    /// <summary>Pixels: a box this close to the top, left or right edge of the frame is cut off by it.</summary>
    public double EdgeMargin { get; } = edgeMargin;

    /// <summary>Attempts made for a person (0 when unknown or forgotten).</summary>
    public int AttemptsOf(long trackId) => _people.TryGetValue(trackId, out var state) ? state.Attempts : 0;

    /// <summary>The people of this frame to try (and counts the attempt); forgets people who left.</summary>
    public IReadOnlyList<Track> Choose(TrackingUpdate update, DateTimeOffset at, int frameWidth, int frameHeight)
    {
        foreach (var gone in update.Left)
        {
            _people.Remove(gone.Id);
        }

        var chosen = update.People
            .Where(p => p.State == TrackState.Tracked && p.DetectionIndex >= 0 && InView(p.LastBox, frameWidth) && Due(p, at))
            .OrderByDescending(p => p.LastBox.Height)
            .Take(MaxPerFrame)
            .ToList();
        foreach (var person in chosen)
        {
            var attempts = _people.TryGetValue(person.Id, out var state) ? state.Attempts : 0;
            _people[person.Id] = (attempts + 1, at, person.LastBox.Height, person.BestScore, false);
        }

        return chosen;
    }

    /// <summary>The person's face was recognised: no more attempts for them.</summary>
    public void Recognised(long trackId)
    {
        if (_people.TryGetValue(trackId, out var state))
        {
            _people[trackId] = state with { Done = true };
        }
    }

    /// <summary>
    /// The part of the frame to look for a person's face in: the upper half of their box (where a head is, standing or
    /// cut off below by the frame) with a little room above, widened to at least 4:3 so that a detector that stretches
    /// its input to a fixed 4:3 size (UltraFace, 320x240) does not squeeze the face; clipped to the frame.
    /// </summary>
    public static TrackBox HeadRegion(TrackBox body, int frameWidth, int frameHeight)
    {
        var height = body.Height * 0.55;
        var width = Math.Max(body.Width * 1.2, height * 4 / 3);
        var top = body.Y1 - body.Height * 0.05;
        return new TrackBox(
            Math.Clamp(body.CenterX - width / 2, 0, frameWidth), Math.Clamp(top, 0, frameHeight),
            Math.Clamp(body.CenterX + width / 2, 0, frameWidth), Math.Clamp(top + height, 0, frameHeight));
    }

    private bool InView(TrackBox box, int frameWidth) =>
        box.Height >= MinBoxHeight && box.Y1 >= EdgeMargin && box.X1 >= EdgeMargin && (frameWidth <= 0 || box.X2 <= frameWidth - EdgeMargin);

    private bool Due(Track person, DateTimeOffset at)
    {
        if (!_people.TryGetValue(person.Id, out var state))
        {
            return true;
        }

        return !state.Done && state.Attempts < MaxAttempts && at - state.At >= RetrySpacing
            && (person.LastBox.Height >= state.Height * GrowthForRetry || (person.BestImproved && person.BestScore > state.Score));
    }
}
