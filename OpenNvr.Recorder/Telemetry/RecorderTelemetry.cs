using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OpenNvr.Recorder.Telemetry;

/// <summary>The Recorder's spans and metrics (ServiceDefaults collects every <c>OpenNvr.*</c> source and meter).</summary>
public static class RecorderTelemetry
{
    public const string Name = "OpenNvr.Recorder";

    public static readonly ActivitySource ActivitySource = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>(
        "opennvr.recorder.bytes_written", "By", "Bytes of finished chunks written to the recordings volume");

    public static readonly Counter<long> Chunks = Meter.CreateCounter<long>(
        "opennvr.recorder.chunks", "{chunk}", "Finished chunks (tag partial=true for chunks cut short by a crash of ffmpeg)");

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>(
        "opennvr.recorder.reconnects", "{reconnect}", "Connection attempts after a camera dropped or failed");

    public static readonly Counter<long> FfmpegRestarts = Meter.CreateCounter<long>(
        "opennvr.recorder.ffmpeg_restarts", "{restart}", "ffmpeg processes started again for a camera (reason tag)");

    public static readonly Histogram<double> RegistrationLag = Meter.CreateHistogram<double>(
        "opennvr.recorder.registration_lag", "s", "Time from a chunk's end to its registration being acknowledged by Core");

    public static readonly Counter<long> RegistrationsRejected = Meter.CreateCounter<long>(
        "opennvr.recorder.registrations_rejected", "{chunk}", "Chunks Core refused (4xx); kept in the dead-letter file");

    public static readonly Counter<long> FramesPublished = Meter.CreateCounter<long>(
        "opennvr.recorder.frames_published", "{frame}", "Frames published as latest.jpg");

    public static readonly Counter<long> AnnotatedFramesStored = Meter.CreateCounter<long>(
        "opennvr.recorder.annotated_frames_stored", "{image}", "Annotated images Inference on another host stored beside a camera's frames (PUT /frames)");

    public static readonly Counter<long> RetentionDeleted = Meter.CreateCounter<long>(
        "opennvr.recorder.retention_deleted", "{chunk}", "Chunks deleted by retention (reason tag: age, quota, free_space)");

    public static readonly Counter<long> RetentionDeletedBytes = Meter.CreateCounter<long>(
        "opennvr.recorder.retention_deleted_bytes", "By", "Bytes deleted by retention");

    // The AI pipeline (Analytics/). Frame counters are tagged camera and task.
    public static readonly Counter<long> FramesAnalysed = Meter.CreateCounter<long>(
        "opennvr.frames.analysed", "{frame}", "Frames sent to Inference for a policy that got an answer");

    public static readonly Counter<long> FramesSkippedMotion = Meter.CreateCounter<long>(
        "opennvr.frames.skipped_motion", "{frame}", "Frames of a motion-gated policy skipped because nothing moved");

    public static readonly Counter<long> FramesDropped = Meter.CreateCounter<long>(
        "opennvr.frames.dropped", "{frame}",
        "Frames due for analysis that got no answer (reason: queue_full, circuit_open, inference_failed, frame_unreadable)");

    public static readonly Histogram<double> InferenceCallDuration = Meter.CreateHistogram<double>(
        "opennvr.recorder.inference.duration", "ms", "Duration of POST /infer calls from the Recorder (tag outcome)");

    public static readonly Counter<long> EventsEmitted = Meter.CreateCounter<long>(
        "opennvr.recorder.events", "{event}", "AI events written to the event outbox (tags camera, task)");

    // Faces per track (PeopleStage): tagged camera and task (face_recognition or watchlist_check).
    public static readonly Counter<long> FaceAttempts = Meter.CreateCounter<long>(
        "opennvr.people.face.attempts", "{attempt}",
        "Face recognition requests for a tracked person (tag outcome: recognized, unknown, no_face, failed)");

    public static readonly Counter<long> FaceRecognitions = Meter.CreateCounter<long>(
        "opennvr.people.face.recognitions", "{person}", "Tracked people whose face was recognised (once per track)");

    public static readonly Histogram<double> FaceRecognitionDelay = Meter.CreateHistogram<double>(
        "opennvr.people.face.delay", "s", "From a person's track being confirmed to their face being recognised");

    public static readonly Histogram<double> FaceAttemptDuration = Meter.CreateHistogram<double>(
        "opennvr.people.face.attempt.duration", "ms", "Duration of one per-track face request to Inference (tag outcome)");

    public static readonly Counter<long> EventsDropped = Meter.CreateCounter<long>(
        "opennvr.recorder.events_dropped", "{event}", "AI events lost: outbox over its cap (outbox_full) or refused by Core (rejected)");

    // Several hosts may live in one process (tests run two replicas side by side): gauges sum over live sources.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<object, Func<long>> OutboxDepths = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<object, Func<long>> ActiveCameras = new();
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<object, Func<long>> EventOutboxDepths = new();

    static RecorderTelemetry()
    {
        Meter.CreateObservableGauge("opennvr.recorder.outbox_depth", () => OutboxDepths.Values.Sum(f => f()), "{chunk}",
            "Chunk registrations waiting in the local outbox for Core");
        Meter.CreateObservableGauge("opennvr.recorder.cameras", () => ActiveCameras.Values.Sum(f => f()), "{camera}",
            "Cameras this replica records now");
        Meter.CreateObservableGauge("opennvr.recorder.event_outbox_depth", () => EventOutboxDepths.Values.Sum(f => f()), "{event}",
            "AI events waiting in the local outbox for Core");
    }

    public static IDisposable ObserveEventOutboxDepth(object owner, Func<long> depth) => Observe(EventOutboxDepths, owner, depth);

    public static IDisposable ObserveOutboxDepth(object owner, Func<long> depth) => Observe(OutboxDepths, owner, depth);

    public static IDisposable ObserveActiveCameras(object owner, Func<long> count) => Observe(ActiveCameras, owner, count);

    private static IDisposable Observe(System.Collections.Concurrent.ConcurrentDictionary<object, Func<long>> sources, object owner, Func<long> value)
    {
        sources[owner] = value;
        return new Unobserve(() => sources.TryRemove(owner, out _));
    }

    private sealed class Unobserve(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
