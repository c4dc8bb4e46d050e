using OpenNvr.Recorder.Infrastructure;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// A policy's running state on this replica: when it last ran (its schedule), the motion gate's reference thumbnail,
/// its event rules (or, for a people policy, its tracking) and its run of consecutive failures.
/// </summary>
internal sealed class PolicyState(CameraAiPolicy policy, string signature, PeopleStage? people = null)
{
    public CameraAiPolicy Policy { get; } = policy;

    /// <summary>The policy as configured (JSON): an unchanged policy keeps its state across heartbeats.</summary>
    public string Signature { get; } = signature;

    public EventRules Rules { get; } = new(policy);

    /// <summary>The people analytics of a person_counting policy (events per person instead of per frame), else null.</summary>
    public PeopleStage? People { get; } = people;

    /// <summary>Capture time of the last frame the motion gate let through (a people policy is shown one every few seconds).</summary>
    public DateTimeOffset? LastPassed { get; set; }

    public DateTimeOffset? LastRun { get; private set; }

    public volatile byte[]? MotionReference;

    public long ConsecutiveFailures { get; set; }

    /// <summary>
    /// Whether the policy's interval has elapsed at a frame captured at <paramref name="capturedAt"/>; if so, that
    /// frame is its run. Frames arrive at the decoder's rate with some jitter: a run is due a little early rather
    /// than a frame late.
    /// </summary>
    public bool TakeIfDue(DateTimeOffset capturedAt)
    {
        var interval = TimeSpan.FromMilliseconds(Math.Max(1, Policy.IntervalMs));
        var slack = TimeSpan.FromMilliseconds(Math.Min(100, Policy.IntervalMs / 5.0));
        if (LastRun is { } last && capturedAt - last < interval - slack)
        {
            return false;
        }

        LastRun = capturedAt;
        return true;
    }
}
