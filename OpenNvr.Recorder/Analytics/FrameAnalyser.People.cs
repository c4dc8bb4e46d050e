using System.Diagnostics;
using System.Text.Json;
using OpenNvr.Contracts.People;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>A people policy's frame: tracking (<c>people.track</c>), events per person, closed occupancy buckets.</summary>
internal sealed partial class FrameAnalyser
{
    private void TrackPeople(QueuedFrame work, JsonElement result, PeopleStage people, PipelineStatistics stats)
    {
        PeopleFrame frame;
        using (var track = RecorderTelemetry.ActivitySource.StartActivity("people.track"))
        {
            frame = people.Observe(work, result);
            track?.SetTag("opennvr.people", frame.People);
            track?.SetTag("opennvr.people.events", frame.Events.Count);
        }

        work.Root?.SetTag("opennvr.frame.outcome", frame.Events.Count == 0 ? "no_event" : "event");
        foreach (var personEvent in frame.Events)
        {
            EmitPerson(work, result, people, personEvent, frame.People);
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
        var root = work.Root;
        var e = new EventIngest(
            work.CameraId,
            policy.Task,
            personEvent.At.ToUnixTimeMilliseconds(),
            Label: "person",
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
        RecorderTelemetry.EventsEmitted.Add(1, QueuedFrame.Tags(work.CameraId, policy.Task, ("event_type", personEvent.EventType)));
        RecorderLog.EventQueued(logger, work.CameraId, policy.Task, e.Count, personEvent.EventType);
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
