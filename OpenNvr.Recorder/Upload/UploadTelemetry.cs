using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Upload;

/// <summary>The upload path's metrics, on the Recorder's meter.</summary>
public static class UploadTelemetry
{
    /// <summary>Seal (chunk end, or snapshot queued) to verified upload; tag <c>kind</c>.</summary>
    public static readonly Histogram<double> Lag = RecorderTelemetry.Meter.CreateHistogram<double>(
        "opennvr.recorder.upload_lag", "s", "Time from a file being sealed to its verified upload to the recording store");

    /// <summary>Files leaving the queue; tags <c>kind</c> and <c>outcome</c> (uploaded, in_place, already_stored, missing, dropped_free_space, invalid_key).</summary>
    public static readonly Counter<long> Uploads = RecorderTelemetry.Meter.CreateCounter<long>(
        "opennvr.recorder.uploads", "{file}", "Files that left the upload queue, by outcome");

    public static readonly Counter<long> Evicted = RecorderTelemetry.Meter.CreateCounter<long>(
        "opennvr.recorder.cache_evicted", "{file}", "Local copies of uploaded files evicted from the hot cache");

    private static readonly ConcurrentDictionary<object, (Func<long> Depth, Func<long> Bytes)> Queues = new();
    private static readonly ConcurrentDictionary<object, Func<long>> Caches = new();

    static UploadTelemetry()
    {
        RecorderTelemetry.Meter.CreateObservableGauge("opennvr.recorder.upload_queue_depth", () => Queues.Values.Sum(q => q.Depth()), "{file}",
            "Files waiting locally for their upload to the recording store");
        RecorderTelemetry.Meter.CreateObservableGauge("opennvr.recorder.upload_queue_bytes", () => Queues.Values.Sum(q => q.Bytes()), "By",
            "Bytes waiting locally for their upload to the recording store");
        RecorderTelemetry.Meter.CreateObservableGauge("opennvr.recorder.local_cache_bytes", () => Caches.Values.Sum(c => c()), "By",
            "Bytes of uploaded files kept locally as hot cache");
    }

    public static IDisposable ObserveQueue(object owner, Func<long> depth, Func<long> bytes)
    {
        Queues[owner] = (depth, bytes);
        return new Unobserve(() => Queues.TryRemove(owner, out _));
    }

    public static IDisposable ObserveCache(object owner, Func<long> bytes)
    {
        Caches[owner] = bytes;
        return new Unobserve(() => Caches.TryRemove(owner, out _));
    }

    private sealed class Unobserve(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
