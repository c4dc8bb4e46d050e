using System.Text.Json;
using OpenNvr.Recorder.Analytics;
using OpenNvr.Contracts.Internal;

namespace OpenNvr.Tests.Pipeline;

/// <summary>Which face task runs per track, and how its answers are read (faces per track, issue 13).</summary>
public sealed class TrackFacesTests
{
    private static readonly CameraAiPolicy Counting = new("person_counting");

    [Fact]
    public void A_face_policy_goes_per_track_only_beside_a_people_policy_and_face_recognition_wins_over_the_watchlist()
    {
        Assert.Null(TrackFaces.Of([new CameraAiPolicy("face_recognition")]));
        Assert.Null(TrackFaces.Of([Counting]));
        Assert.Equal(new TrackFaces("watchlist_check", 0.6, RaisesRecognized: false),
            TrackFaces.Of([Counting, new CameraAiPolicy("watchlist_check", MinConfidence: 0.6)]));
        Assert.Equal(new TrackFaces("face_recognition", 0.45, RaisesRecognized: true),
            TrackFaces.Of([new CameraAiPolicy("watchlist_check"), Counting, new CameraAiPolicy("face_recognition", MinConfidence: 0.45)]));
    }

    [Fact]
    public void Beside_a_people_policy_the_face_policies_stop_running_per_frame()
    {
        var recognition = new CameraAiPolicy("face_recognition", IntervalMs: 500);
        var watchlist = new CameraAiPolicy("watchlist_check");
        var objects = new CameraAiPolicy("object_detection");

        var (perFrame, faces) = TrackFaces.Split([recognition, Counting, watchlist, objects]);
        Assert.Equal(["person_counting", "object_detection"], perFrame.Select(p => p.Task));
        Assert.Equal("face_recognition", faces!.Task);

        // Without people to track, a face policy keeps running per frame.
        (perFrame, faces) = TrackFaces.Split([recognition, objects]);
        Assert.Equal(["face_recognition", "object_detection"], perFrame.Select(p => p.Task));
        Assert.Null(faces);
    }

    [Fact]
    public void Answers_are_read_as_recognized_unknown_or_no_face_and_a_weak_match_is_no_recognition()
    {
        var recognition = new TrackFaces("face_recognition", 0.5, true);
        var (outcome, match) = FrameAnalyser.ReadFaceAnswer(recognition, Json(
            """{"recognized":true,"person_id":"gh","name":"Grace","category":"employee","similarity":0.81,"face_bbox":[10,20,40,60],"latency_ms":9}"""));
        Assert.Equal("recognized", outcome);
        Assert.Equal(("gh", "Grace", "employee", 0.81), (match!.PersonId, match.Name, match.Category, match.Similarity));
        Assert.Equal((10.0, 20.0, 40.0, 60.0), (match.FaceBox!.Value.X1, match.FaceBox.Value.Y1, match.FaceBox.Value.X2, match.FaceBox.Value.Y2));

        Assert.Equal(("unknown", null), FrameAnalyser.ReadFaceAnswer(recognition, Json(
            """{"recognized":true,"person_id":"gh","name":"Grace","category":"employee","similarity":0.45,"face_bbox":[10,20,40,60]}""")));
        Assert.Equal(("unknown", null), FrameAnalyser.ReadFaceAnswer(recognition, Json(
            """{"recognized":false,"message":"The face matches no registered identity at similarity 0.4 or above."}""")));
        Assert.Equal(("no_face", null), FrameAnalyser.ReadFaceAnswer(recognition, Json("""{"recognized":false,"message":"No face found in the frame."}""")));

        var watchlist = new TrackFaces("watchlist_check", 0.5, false);
        (outcome, match) = FrameAnalyser.ReadFaceAnswer(watchlist, Json(
            """{"is_on_watchlist":true,"matches":[{"person_id":"w1","name":"Mallory","category":"watchlist","similarity":0.7}],"face_bbox":[1,2,3,4]}"""));
        Assert.Equal(("recognized", "w1", "watchlist"), (outcome, match!.PersonId, match.Category));
        Assert.Equal(("unknown", null), FrameAnalyser.ReadFaceAnswer(watchlist, Json("""{"is_on_watchlist":false,"matches":[],"face_bbox":[1,2,3,4]}""")));
        Assert.Equal(("no_face", null), FrameAnalyser.ReadFaceAnswer(watchlist, Json("""{"is_on_watchlist":false,"matches":[],"face_bbox":null}""")));
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
