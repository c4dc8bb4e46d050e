using System.Diagnostics.Metrics;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Live;

/// <summary>Live view's metrics on the Recorder's meter (tags <c>camera</c> and <c>stream</c>).</summary>
public static class LiveTelemetry
{
    public static readonly Counter<long> Fragments = RecorderTelemetry.Meter.CreateCounter<long>(
        "opennvr.live.fragments", "{fragment}", "Live fragments (one per frame) taken from the camera's ffmpeg run");

    public static readonly Histogram<double> CaptureToPublish = RecorderTelemetry.Meter.CreateHistogram<double>(
        "opennvr.live.capture_to_publish", "ms", "From a fragment's estimated capture time to its publication to viewers");

    public static readonly Counter<long> ViewersJoined = RecorderTelemetry.Meter.CreateCounter<long>(
        "opennvr.live.viewers_joined", "{viewer}", "Live viewers (WebSocket) that joined");

    public static readonly Counter<long> ViewersDropped = RecorderTelemetry.Meter.CreateCounter<long>(
        "opennvr.live.viewers_dropped", "{viewer}", "Live viewers dropped because they fell behind (reason tag)");

    public static readonly Counter<long> BytesSent = RecorderTelemetry.Meter.CreateCounter<long>(
        "opennvr.live.bytes_sent", "By", "Live bytes sent to viewers (WebSocket and HLS)");

    public static readonly Counter<long> FeedErrors = RecorderTelemetry.Meter.CreateCounter<long>(
        "opennvr.live.feed_errors", "{error}", "Live outputs of ffmpeg that could not be read (the run's recording is unaffected)");

    public static KeyValuePair<string, object?>[] Tags(int camera, LiveStream stream) =>
        [new("camera", camera), new("stream", stream == LiveStream.Main ? "main" : "sub")];

    // Several hosts may live in one process (tests run replicas side by side): the gauge reports every live hub.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<LiveHub, byte> Hubs = new();

    static LiveTelemetry()
    {
        RecorderTelemetry.Meter.CreateObservableGauge("opennvr.live.viewers",
            () => Hubs.Keys.SelectMany(h => h.Sources).Select(s => new Measurement<int>(s.ViewerCount, Tags(s.CameraId, s.Stream))),
            "{viewer}", "Live viewers (WebSocket) connected now");
    }

    /// <summary>Reports the hub's viewers in <c>opennvr.live.viewers</c> until disposed.</summary>
    public static IDisposable ObserveViewers(LiveHub hub)
    {
        Hubs[hub] = 0;
        return new Unobserve(() => Hubs.TryRemove(hub, out _));
    }

    private sealed class Unobserve(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
