using System.Diagnostics;
using System.Text.Json;
using OpenNvr.Contracts.Inference;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Faces per track (<see cref="TrackFaces"/>): for each person the attempt policy picks on this frame, Inference is
/// asked about the head area of that person's box only (<c>input.region</c>); a match raises the person's
/// face.recognized / watchlist.hit once and names the person on their later events. Span <c>people.faces</c> (one
/// <c>inference.call</c> per attempt), metrics <c>opennvr.people.face.*</c>.
/// </summary>
internal sealed partial class FrameAnalyser
{
    /// <summary>
    /// Asks about the faces of the people the attempt policy picked; returns the events of those recognised (with the
    /// answer, for its latency). Runs before the frame's events are stored: storing an event on the current frame
    /// moves the frame file into the snapshots, and Inference reads the frame from that file.
    /// </summary>
    private async Task<IReadOnlyList<(PersonEvent Event, JsonElement Answer)>> RecogniseFacesAsync(QueuedFrame work, PeopleStage people, PeopleFrame frame,
        PipelineStatistics stats, CancellationToken ct)
    {
        if (people.Faces is not { } faces || frame.FaceAttempts.Count == 0)
        {
            return [];
        }

        var events = new List<(PersonEvent, JsonElement)>();

        using var stage = RecorderTelemetry.ActivitySource.StartActivity("people.faces");
        stage?.SetTag("opennvr.task", faces.Task);
        stage?.SetTag("opennvr.faces.attempts", frame.FaceAttempts.Count);
        var recognised = 0;
        foreach (var person in frame.FaceAttempts)
        {
            var head = FaceAttempts.HeadRegion(person.LastBox, work.Width, work.Height);
            var started = clock.GetTimestamp();
            string outcome;
            FaceMatch? match = null;
            JsonElement answer = default;
            stats.AddFaceCall();
            using (var call = RecorderTelemetry.ActivitySource.StartActivity("inference.call", ActivityKind.Client))
            {
                call?.SetTag("opennvr.task", faces.Task);
                call?.SetTag("opennvr.track_id", person.Id);
                try
                {
                    answer = await inference.RecogniseFaceAsync(faces.Task, work.FrameUri, new FrameRegion(head.X1, head.Y1, head.X2, head.Y2), ct);
                    (outcome, match) = ReadFaceAnswer(faces, answer);
                }
                catch (Exception ex) when (ex is BrokenCircuitException or HttpRequestException or TimeoutRejectedException or InferenceFailedException or JsonException ||
                                           (ex is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    // Counted as an attempt: a dead Inference must not turn the bounded attempts into one per frame.
                    outcome = "failed";
                    call?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    RecorderLog.FaceAttemptFailed(logger, work.CameraId, person.Id, ex.Message);
                }

                call?.SetTag("opennvr.faces.outcome", outcome);
            }

            var tags = QueuedFrame.Tags(work.CameraId, faces.Task, ("outcome", outcome));
            RecorderTelemetry.FaceAttempts.Add(1, tags);
            RecorderTelemetry.FaceAttemptDuration.Record(clock.GetElapsedTime(started).TotalMilliseconds, tags);
            if (match is null)
            {
                continue;
            }

            recognised++;
            RecorderTelemetry.FaceRecognitions.Add(1, QueuedFrame.Tags(work.CameraId, faces.Task));
            RecorderTelemetry.FaceRecognitionDelay.Record(Math.Max(0, (work.CapturedAt - (person.ConfirmedAt ?? person.FirstSeen)).TotalSeconds),
                QueuedFrame.Tags(work.CameraId, faces.Task));
            RecorderLog.FaceRecognised(logger, work.CameraId, person.Id, match.PersonId, match.Category, Math.Round(match.Similarity, 3),
                people.Analytics.FaceAttemptsOf(person.Id));
            events.AddRange(people.Recognised(person, work.CapturedAt, match).Select(e => (e, answer)));
        }

        stage?.SetTag("opennvr.faces.recognised", recognised);
        return events;
    }

    /// <summary>What a face_recognition or watchlist_check answer says about the person: recognized, unknown or no_face, and whom.</summary>
    internal static (string Outcome, FaceMatch? Match) ReadFaceAnswer(TrackFaces faces, JsonElement answer)
    {
        if (answer.ValueKind != JsonValueKind.Object)
        {
            return ("unknown", null);
        }

        var faceBox = FaceBox(answer);
        if (faces.Task == TrackFaces.Watchlist)
        {
            var best = answer.TryGetProperty("is_on_watchlist", out var hit) && hit.ValueKind == JsonValueKind.True &&
                       answer.TryGetProperty("matches", out var matches) && matches.ValueKind == JsonValueKind.Array
                ? matches.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object).Cast<JsonElement?>().FirstOrDefault()
                : null;
            if (best is { } m && Text(m, "person_id") is { } id && (Number(m, "similarity") ?? 0) >= faces.MinSimilarity)
            {
                return ("recognized", new FaceMatch(id, Text(m, "name"), Text(m, "category") ?? FaceMatch.WatchlistCategory, Number(m, "similarity") ?? 0, faceBox));
            }

            return (faceBox is null ? "no_face" : "unknown", null);
        }

        if (answer.TryGetProperty("recognized", out var recognized) && recognized.ValueKind == JsonValueKind.True &&
            Text(answer, "person_id") is { } personId && (Number(answer, "similarity") ?? 0) >= faces.MinSimilarity)
        {
            return ("recognized", new FaceMatch(personId, Text(answer, "name"), Text(answer, "category"), Number(answer, "similarity") ?? 0, faceBox));
        }

        // Inference says "No face found in the frame." when it found no face; otherwise the face matched nobody.
        return (Text(answer, "message") is { } message && message.StartsWith("No face", StringComparison.Ordinal) ? "no_face" : "unknown", null);
    }

    private static TrackBox? FaceBox(JsonElement answer)
    {
        if (!answer.TryGetProperty("face_bbox", out var box) || box.ValueKind != JsonValueKind.Array || box.GetArrayLength() != 4)
        {
            return null;
        }

        var v = box.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number ? x.GetDouble() : double.NaN).ToArray();
        return v.All(double.IsFinite) && v[2] > v[0] && v[3] > v[1] ? new TrackBox(v[0], v[1], v[2], v[3]) : null;
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
