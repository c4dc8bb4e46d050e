using System.Diagnostics.Metrics;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Exports;

/// <summary>Metrics of clip exports (meter <c>OpenNvr.Core</c>; spans on <see cref="CoreTelemetry.ActivitySource"/>).</summary>
public static class ExportTelemetry
{
    private static readonly Meter Meter = new(CoreTelemetry.Name);

    public static readonly Counter<long> Exports = Meter.CreateCounter<long>(
        "opennvr.core.exports", "{export}", "Exports finished, by outcome (done, failed, cancelled)");

    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "opennvr.core.export.duration", "s", "Wall time to make one export");

    public static readonly Histogram<double> VideoSeconds = Meter.CreateHistogram<double>(
        "opennvr.core.export.video", "s", "Seconds of video in one export");

    public static readonly Counter<long> Bytes = Meter.CreateCounter<long>(
        "opennvr.core.export.bytes", "By", "Bytes of finished exports");
}

internal static partial class ExportLog
{
    [LoggerMessage(300, LogLevel.Information, "Export {Name}: {Seconds:F1} s of video from {Pieces} chunks ({Gaps} gaps) in {ElapsedS:F2} s, {SizeBytes} bytes")]
    public static partial void Finished(ILogger logger, string name, double seconds, int pieces, int gaps, double elapsedS, long sizeBytes);

    [LoggerMessage(301, LogLevel.Warning, "Export {Name} failed: {Error}")]
    public static partial void Failed(ILogger logger, string name, string error);
}
