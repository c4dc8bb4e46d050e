using System.Diagnostics;
using System.Text.Json;
using OpenNvr.Contracts.People;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>A people policy's frame: tracking (<c>people.track</c>), events per person, closed occupancy buckets.</summary>
internal sealed partial class FrameAnalyser
{
    private async Task TrackPeopleAsync(QueuedFrame work, JsonElement result, PeopleStage people, PipelineStatistics stats, CancellationToken ct)
    {
        PeopleFrame frame;
        using (var track = RecorderTelemetry.ActivitySource.StartActivity("people.track"))
        {
            frame = people.Observe(work, result);
            track?.SetTag("opennvr.people", frame.People);
            track?.SetTag("opennvr.people.events", frame.Events.Count);
        }

        var faceEvents = await RecogniseFacesAsync(work, people, frame, stats, ct);
        work.Root?.SetTag("opennvr.frame.outcome", frame.Events.Count + faceEvents.Count == 0 ? "no_event" : "event");
        foreach (var personEvent in frame.Events)
        {
            EmitPerson(work, result, people, personEvent, frame.People);
            stats.AddEvent();
        }

        foreach (var (personEvent, answer) in faceEvents)
        {
            EmitPerson(work, answer, people, personEvent, frame.People);
            stats.AddEvent();
        }

        people.Forget(frame.Forget);
        if (frame.ClosedBucket is { } bucket)
        {
            occupancy.Append(ToIngest(work.CameraId, bucket));
        }
    }

    private void EmitPerson(QueuedFrame work, JsonElement result, PeopleStage people, PersonEvent personEvent, int peopleInView)
    {
        var policy = work.State.Policy;
        string? snapshot;
        using (var save = RecorderTelemetry.ActivitySource.StartActivity("snapshot.save"))
        {
            snapshot = personEvent.Snapshot == SnapshotOf.BestFrame && people.BestFrameOf(personEvent.TrackKey) is { } best
                ? snapshots.Save(work.CameraId, best.Jpeg, best.CapturedAt)
                : snapshots.Save(work.CameraId, work.FramePath, work.CapturedAt);
            save?.SetTag("opennvr.snapshot_path", snapshot);
        }

        using var enqueue = RecorderTelemetry.ActivitySource.StartActivity("event.enqueue");
        var details = new Dictionary<string, object?>(personEvent.Details)
        {
            ["event_type"] = personEvent.EventType,
            ["track_id"] = personEvent.TrackId,
            ["people"] = peopleInView,
        };
        // Once a person's face is recognised, their later events (zones, lines, person.left) say who they are.
        if (people.IdentityOf(personEvent.TrackKey) is { } identity && !details.ContainsKey("person_id"))
        {
            details["person_id"] = identity.PersonId;
            details["name"] = identity.Name;
            details["category"] = identity.Category;
        }

        // Face events are the face policy's (a search by task finds them as before faces went per track).
        var task = personEvent.EventType is PersonEventTypes.FaceRecognized or PersonEventTypes.WatchlistHit && people.Faces is { } faces ? faces.Task : policy.Task;
        var root = work.Root;
        var e = new EventIngest(
            work.CameraId,
            task,
            personEvent.At.ToUnixTimeMilliseconds(),
            Label: details.GetValueOrDefault("name") is string name && personEvent.EventType is PersonEventTypes.FaceRecognized or PersonEventTypes.WatchlistHit
                ? (name.Length > 128 ? name[..128] : name)
                : "person",
            Count: peopleInView,
            Confidence: personEvent.Confidence is { } c ? Math.Round(Math.Clamp(c, 0, 1), 4) : null,
            Bbox: JsonSerializer.SerializeToElement(personEvent.Boxes.Take(100)
                .Select(b => new[] { Math.Round(b.X1, 1), Math.Round(b.Y1, 1), Math.Round(b.Width, 1), Math.Round(b.Height, 1) })),
            SnapshotPath: snapshot,
            CapturedAtUnixMs: work.CapturedAt.ToUnixTimeMilliseconds(),
            LatencyMs: result.ValueKind == JsonValueKind.Object && result.TryGetProperty("latency_ms", out var l) && l.TryGetDouble(out var latency) && latency >= 0 ? latency : null,
            TraceId: root?.TraceId.ToHexString(),
            Payload: JsonSerializer.SerializeToElement(details),
            Traceparent: root?.Id,
            EventType: personEvent.EventType,
            TrackId: personEvent.TrackId);
        outbox.Append(e);
        Activity.Current?.SetTag("opennvr.event_type", personEvent.EventType);
        RecorderTelemetry.EventsEmitted.Add(1, QueuedFrame.Tags(work.CameraId, task, ("event_type", personEvent.EventType)));
        RecorderLog.EventQueued(logger, work.CameraId, task, e.Count, personEvent.EventType);
    }

    private static OccupancyBucketIngest ToIngest(int cameraId, OccupancyBucket bucket) => new(
        cameraId,
        bucket.Start.ToUnixTimeSeconds(),
        bucket.Seconds,
        bucket.Samples,
        Math.Round(bucket.Average, 3),
        bucket.Max,
        [.. bucket.Zones.Select(z => new ZoneOccupancyIngest((int)z.Key, Math.Round(z.Value.Average, 3), z.Value.Max))],
        [.. bucket.Lines.Select(l => new LineCountIngest((int)l.Key, l.Value.In, l.Value.Out))]);
}
