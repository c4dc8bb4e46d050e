using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>
/// How people are tracked (section <c>Recorder:Tracking</c>). Scores are the detector's (the bundled CenterNet:
/// walkers of the demo scene score 0.45-0.75, its static rock and sign 0.30-0.44); lengths are multiples of the
/// tracked box's height, so the same settings serve near and far cameras; times are seconds of capture time, so the
/// tracker behaves the same at any analysis rate.
/// </summary>
public sealed class TrackerOptions
{
    public const string Section = "Recorder:Tracking";

    /// <summary>Detections at or above this score are "high" (first association stage, and may start a track).</summary>
    [Range(0.01, 1.0)]
    public double HighScore { get; set; } = 0.5;

    /// <summary>Detections below this are ignored; those between this and <see cref="HighScore"/> only keep people seen in the last frame alive (second stage), they never start or grow a candidate.</summary>
    [Range(0.0, 1.0)]
    public double LowScore { get; set; } = 0.2;

    /// <summary>A new track becomes a person after this many matched detections...</summary>
    [Range(1, 100)]
    public int MinHits { get; set; } = 3;

    /// <summary>...when the median of its recent scores (a frame it was missed in counts 0) is at least this. A static
    /// object scoring near the detector's threshold, high in a single frame now and then, never gets there; a walker
    /// does within a second or two.</summary>
    [Range(0.0, 1.0)]
    public double ConfirmScore { get; set; } = 0.45;

    /// <summary>A person's track ends when the median of its recent detection scores falls below this (it drifted
    /// onto a static object, or the detector lost it behind one).</summary>
    [Range(0.0, 1.0)]
    public double KeepScore { get; set; } = 0.4;

    /// <summary>How many recent detection scores the median is taken over.</summary>
    [Range(1, 64)]
    public int ScoreWindow { get; set; } = 9;

    /// <summary>A candidate track not seen for this long is forgotten.</summary>
    [Range(0.0, 60.0)]
    public double TentativeGraceSeconds { get; set; } = 1.1;

    /// <summary>A person not seen for this long has left (occlusions shorter than this keep the same track).</summary>
    [Range(0.0, 600.0)]
    public double LostGraceSeconds { get; set; } = 4.0;

    /// <summary>Gate of the squared Mahalanobis distance between a track's predicted centre and a detection, high-score stage (9.21: 99 % of 2 degrees of freedom).</summary>
    [Range(0.1, 100.0)]
    public double Gate { get; set; } = 9.21;

    /// <summary>The same gate for low-score detections, stricter (5.99: 95 %): they are more often not people.</summary>
    [Range(0.1, 100.0)]
    public double LowScoreGate { get; set; } = 5.99;

    /// <summary>
    /// Fastest a person moves, in heights of their box per second (walking is about 0.5-1): a detection farther from
    /// a track's last detection than this speed allows (plus <see cref="MaxJump"/>) never matches it, however
    /// uncertain the track has become while hidden.
    /// </summary>
    [Range(0.01, 100.0)]
    public double MaxSpeed { get; set; } = 1.5;

    /// <summary>Detector jitter allowed on top of <see cref="MaxSpeed"/>, in box heights.</summary>
    [Range(0.0, 100.0)]
    public double MaxJump { get; set; } = 0.3;

    /// <summary>Largest ratio between a detection's height and the track's predicted height that may still match.</summary>
    [Range(1.0, 10.0)]
    public double MaxHeightRatio { get; set; } = 1.6;

    /// <summary>Weight of (1 - IoU with the predicted box) next to the normalised distance in a pair's cost.</summary>
    [Range(0.0, 10.0)]
    public double IouWeight { get; set; } = 0.5;

    /// <summary>A detection lying at least this share inside a box already matched this frame starts no track (a second box on one person).</summary>
    [Range(0.0, 1.0)]
    public double DuplicateOverlap { get; set; } = 0.7;

    /// <summary>Standard deviation of a detected centre, as a share of the box height.</summary>
    [Range(0.001, 10.0)]
    public double MeasurementNoise { get; set; } = 0.06;

    /// <summary>Standard deviation of a detected width or height, as a share of the box height.</summary>
    [Range(0.001, 10.0)]
    public double SizeMeasurementNoise { get; set; } = 0.1;

    /// <summary>Standard deviation of a new track's speed (heights per second): people walk at about 0.5-1 heights per second across an image.</summary>
    [Range(0.0, 100.0)]
    public double InitialVelocityStd { get; set; } = 1.0;

    /// <summary>Standard deviation of a new track's rate of change of width and height (heights per second).</summary>
    [Range(0.0, 100.0)]
    public double InitialSizeVelocityStd { get; set; } = 0.2;

    /// <summary>
    /// Spectral density of the centre's random acceleration (heights per second^1.5): how quickly people change pace
    /// or direction, and how much a detected box's centre jumps when people pass each other. 1.0 on the demo clip at
    /// 2 fps: 0.5 split walkers who crossed others into new tracks (25 tracks against 22).
    /// </summary>
    [Range(0.0, 100.0)]
    public double AccelerationNoise { get; set; } = 1.0;

    /// <summary>The same for width and height.</summary>
    [Range(0.0, 100.0)]
    public double SizeAccelerationNoise { get; set; } = 0.15;

    /// <summary>Most tracks (candidates included) per camera; beyond it no track starts (a detector gone wild cannot eat the CPU).</summary>
    [Range(1, 10000)]
    public int MaxTracks { get; set; } = 256;
}
