namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>The smoothed number of people changed and held.</summary>
/// <param name="At">Capture time of the frame at which the new value had held long enough.</param>
/// <param name="Since">When the smoothed value first moved to this side of the old one.</param>
public sealed record OccupancyChange(int From, int To, DateTimeOffset At, DateTimeOffset Since);

/// <summary>
/// Turns the per-frame number of people into changes worth telling: the count is smoothed by the median of the last
/// <c>windowSeconds</c> of frames (one frame's miss or double box does not move it), and a change is reported only
/// when the smoothed value has stayed on the same side of the last reported value (above it, or below it) for
/// <c>holdSeconds</c>; the new value is the smoothed one at that moment. So a busy scene whose count wanders between
/// 4 and 6 after 2 still reports its rise, while a count that dips for a moment reports nothing. Starts at 0 people.
/// Pure: time is the frames' capture time.
/// </summary>
public sealed class OccupancySmoother
{
    private readonly TimeSpan _window;
    private readonly TimeSpan _hold;
    private readonly Queue<(DateTimeOffset At, int Count)> _samples = new();
    private int _side;
    private DateTimeOffset _since;

    public OccupancySmoother(double windowSeconds, double holdSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(windowSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(holdSeconds);
        _window = TimeSpan.FromSeconds(windowSeconds);
        _hold = TimeSpan.FromSeconds(holdSeconds);
    }

    /// <summary>The occupancy last reported (or the starting 0).</summary>
    public int Stable { get; private set; }

    /// <summary>The median of the window after the last frame.</summary>
    public int Smoothed { get; private set; }

    /// <summary>Adds one frame's count; returns the change when one has now held long enough.</summary>
    public OccupancyChange? Add(DateTimeOffset at, int count)
    {
        _samples.Enqueue((at, count));
        while (_samples.Count > 1 && at - _samples.Peek().At > _window)
        {
            _samples.Dequeue();
        }

        Smoothed = Median();
        var side = Math.Sign(Smoothed - Stable);
        if (side == 0)
        {
            _side = 0;
            return null;
        }

        if (side != _side)
        {
            _side = side;
            _since = at;
        }

        if (at - _since < _hold)
        {
            return null;
        }

        var change = new OccupancyChange(Stable, Smoothed, at, _since);
        Stable = Smoothed;
        _side = 0;
        return change;
    }

    // The lower median: an even window of 2 and 3 people says 2 until a majority says 3.
    private int Median()
    {
        Span<int> counts = _samples.Count <= 256 ? stackalloc int[_samples.Count] : new int[_samples.Count];
        var i = 0;
        foreach (var (_, count) in _samples)
        {
            counts[i++] = count;
        }

        counts.Sort();
        return counts[(counts.Length - 1) / 2];
    }
}
