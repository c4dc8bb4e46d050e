using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OpenNvr.Core.WebConsole;

/// <summary>Spans and metrics of the routes that exist for the web console (live frames, faces proxy, URL test).</summary>
public static class WebConsoleTelemetry
{
    public const string Name = "OpenNvr.Core.WebConsole";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> FramesProxied = Meter.CreateCounter<long>(
        "opennvr.core.console.frames", unit: "{frame}", description: "Live frames proxied from a Recorder by result (ok, no_recorder, no_frame, unreachable)");

    public static readonly Histogram<double> FrameFetchDuration = Meter.CreateHistogram<double>(
        "opennvr.core.console.frame.duration", unit: "ms", description: "Time to fetch one live frame from its Recorder");

    public static readonly Counter<long> FacesCalls = Meter.CreateCounter<long>(
        "opennvr.core.console.faces.calls", unit: "{call}", description: "Face registry calls proxied to Inference by operation and status");

    public static readonly Histogram<double> StreamProbeDuration = Meter.CreateHistogram<double>(
        "opennvr.core.console.stream_probe.duration", unit: "ms", description: "ffprobe of a camera URL (settings page's URL test)");
}

internal static partial class WebConsoleLog
{
    [LoggerMessage(101, LogLevel.Warning, "Recorder {RecorderId} at {BaseUrl} did not answer the frame of camera {CameraId}: {Reason}")]
    public static partial void RecorderUnreachable(ILogger logger, string recorderId, string baseUrl, int cameraId, string reason);

    [LoggerMessage(102, LogLevel.Warning, "Inference did not answer the faces call {Operation}: {Reason}")]
    public static partial void InferenceUnreachable(ILogger logger, string operation, string reason);

    [LoggerMessage(103, LogLevel.Information, "Stream URL test of {MaskedUrl}: ok={Ok} in {ElapsedMs} ms")]
    public static partial void StreamProbed(ILogger logger, string maskedUrl, bool ok, long elapsedMs);
}
