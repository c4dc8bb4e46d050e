using OpenNvr.Recorder.Infrastructure;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Faces per track: when a camera has a people policy (person_counting, which tracks people) and a face policy
/// (face_recognition or watchlist_check), the face policy no longer runs on every analysed frame; the people policy
/// asks Inference about each tracked person's face a few times instead (<see cref="Tracking.FaceAttempts"/>), and
/// raises <c>face.recognized</c> (face_recognition) and <c>watchlist.hit</c> (an identity of the watchlist category)
/// once per person. Without a people policy there are no tracks, and a face policy runs per frame as before.
/// </summary>
/// <param name="Task">The face task asked per track: face_recognition when the camera has it (its answer names any identity), else watchlist_check.</param>
/// <param name="MinSimilarity">The face policy's <c>min_confidence</c>: a weaker match is no recognition (as for the per-frame rules).</param>
/// <param name="RaisesRecognized">Whether a match raises face.recognized (face_recognition) or only watchlist.hit (watchlist_check).</param>
internal sealed record TrackFaces(string Task, double MinSimilarity, bool RaisesRecognized)
{
    public const string Recognition = "face_recognition";
    public const string Watchlist = "watchlist_check";

    public static bool IsFaceTask(string task) => task is Recognition or Watchlist;

    /// <summary>
    /// The policies that run per frame and the per-track face setting: beside a people policy, the face policies
    /// are asked per tracked person by it and do not run per frame.
    /// </summary>
    public static (List<CameraAiPolicy> PerFrame, TrackFaces? Faces) Split(IReadOnlyList<CameraAiPolicy> enabled)
    {
        var faces = Of(enabled);
        return (faces is null ? [.. enabled] : [.. enabled.Where(p => !IsFaceTask(p.Task))], faces);
    }

    /// <summary>The per-track face setting of a camera's enabled policies, or null when they do not track people or ask about no face.</summary>
    public static TrackFaces? Of(IReadOnlyList<CameraAiPolicy> enabled)
    {
        if (!enabled.Any(p => PeopleStage.Tracks(p.Task)))
        {
            return null;
        }

        if (enabled.FirstOrDefault(p => p.Task == Recognition) is { } recognition)
        {
            return new TrackFaces(Recognition, recognition.MinConfidence, RaisesRecognized: true);
        }

        return enabled.FirstOrDefault(p => p.Task == Watchlist) is { } watchlist
            ? new TrackFaces(Watchlist, watchlist.MinConfidence, RaisesRecognized: false)
            : null;
    }
}
