namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>
/// When to try recognising a tracked person's face: once per person, not on every frame. A person gets an attempt
/// when first confirmed, then again only when they are seen clearly better than at their last attempt (box at least
/// <see cref="GrowthForRetry"/> times taller, or a better detection score), at least <see cref="RetrySpacing"/> after
/// it, up to <see cref="MaxAttempts"/>; once recognised, never again. At most <see cref="MaxPerFrame"/> people are
/// tried per frame, largest first (a face is likelier found on a bigger box). Pure: time is the frames' capture time.
/// </summary>
public sealed class FaceAttempts(int maxAttempts = 3, int maxPerFrame = 2, double retrySpacingSeconds = 2, double growthForRetry = 1.25)
{
    private readonly Dictionary<long, (int Attempts, DateTimeOffset At, double Height, double Score, bool Done)> _people = [];

    public int MaxAttempts { get; } = maxAttempts;

    public int MaxPerFrame { get; } = maxPerFrame;

    public TimeSpan RetrySpacing { get; } = TimeSpan.FromSeconds(retrySpacingSeconds);

    public double GrowthForRetry { get; } = growthForRetry;

    /// <summary>The people of this frame to try (and counts the attempt); forgets people who left.</summary>
    public IReadOnlyList<Track> Choose(TrackingUpdate update, DateTimeOffset at)
    {
        foreach (var gone in update.Left)
        {
            _people.Remove(gone.Id);
        }

        var chosen = update.People
            .Where(p => p.State == TrackState.Tracked && p.DetectionIndex >= 0 && Due(p, at))
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
