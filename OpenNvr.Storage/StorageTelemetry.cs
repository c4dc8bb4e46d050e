using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OpenNvr.Storage;

/// <summary>Activity source and meter <c>OpenNvr.Storage</c> (collected by the service defaults' <c>OpenNvr.*</c> wildcard).</summary>
public static class StorageTelemetry
{
    public const string Name = "OpenNvr.Storage";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Duration of one store operation, tags <c>operation</c>, <c>provider</c>, <c>outcome</c> (ok, missing, error).</summary>
    public static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>(
        "opennvr.storage.operation.duration", unit: "s", description: "Duration of one recording store operation");

    /// <summary>Bytes written to the store by verified uploads (in-place files count as 0).</summary>
    public static readonly Counter<long> BytesUploaded = Meter.CreateCounter<long>(
        "opennvr.storage.uploaded", unit: "By", description: "Bytes uploaded to the recording store and verified");

    /// <summary>Bytes handed out by ranged reads (as requested; a reader may stop early).</summary>
    public static readonly Counter<long> BytesRead = Meter.CreateCounter<long>(
        "opennvr.storage.read", unit: "By", description: "Bytes requested from the recording store by ranged reads");
}
