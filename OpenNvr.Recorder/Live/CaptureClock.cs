namespace OpenNvr.Recorder.Live;

/// <summary>
/// Maps a live stream's media time to the wall-clock time its frames were captured. A fragment cannot arrive before
/// its last frame was captured, so (arrival − media end) is an upper bound of the offset between the two clocks; the
/// smallest one seen is the best estimate (network and scheduling delays only ever add), which also holds when a
/// camera first sends a backlog burst (old frames arrive late, not early). The estimate may rise by
/// <see cref="DriftPerSecond"/> per second of media so that it follows a camera whose clock runs slow. What it cannot
/// see is the camera's own encoding delay before the first byte leaves it (tens of milliseconds on a typical camera):
/// the capture time is "the frame reached the Recorder", which is what glass-to-glass figures here measure from.
/// One instance per ffmpeg run: a new run restarts media time.
/// </summary>
public sealed class CaptureClock
{
    /// <summary>How fast the offset may grow: 1 ms per second of media (1000 ppm, far above real clock drift).</summary>
    public const double DriftPerSecond = 0.001;

    private double? _offsetMs;
    private double _lastMediaEnd;

    /// <summary>The current offset (wall ms − media ms), once a fragment was seen.</summary>
    public double? OffsetMs => _offsetMs;

    /// <summary>
    /// Takes a fragment that ended at <paramref name="mediaEndSeconds"/> and fully arrived at <paramref name="arrivedUnixMs"/>;
    /// returns the capture time (Unix ms) of the fragment's first frame at <paramref name="mediaStartSeconds"/>.
    /// </summary>
    public double Observe(double mediaStartSeconds, double mediaEndSeconds, double arrivedUnixMs)
    {
        var candidate = arrivedUnixMs - (mediaEndSeconds * 1000);
        if (_offsetMs is not { } offset)
        {
            _offsetMs = candidate;
        }
        else
        {
            var allowance = Math.Max(0, mediaEndSeconds - _lastMediaEnd) * 1000 * DriftPerSecond;
            _offsetMs = Math.Min(candidate, offset + allowance);
        }

        _lastMediaEnd = Math.Max(_lastMediaEnd, mediaEndSeconds);
        return _offsetMs.Value + (mediaStartSeconds * 1000);
    }
}
