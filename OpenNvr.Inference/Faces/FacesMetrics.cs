using System.Diagnostics.Metrics;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// Meter <c>OpenNvr.Inference.Faces</c>: registrations by outcome, index search time, how long registry changes of
/// other replicas take to reach this one, and the size of the index.
/// </summary>
public sealed class FacesMetrics : IDisposable
{
    public const string MeterName = "OpenNvr.Inference.Faces";

    private readonly Meter _meter;
    private readonly Counter<long> _registrations;
    private readonly Histogram<double> _searchDuration;
    private readonly Histogram<double> _syncLag;

    public FacesMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _registrations = _meter.CreateCounter<long>("opennvr.faces.registrations", unit: "{registration}",
            description: "Face registry changes by outcome (created, added, replaced, deleted).");
        _searchDuration = _meter.CreateHistogram<double>("opennvr.faces.search.duration", unit: "ms",
            description: "Time of one search of the in-memory face index.");
        _syncLag = _meter.CreateHistogram<double>("opennvr.faces.registry.sync_lag", unit: "ms",
            description: "Time from a registry change's commit to its arrival in this replica's index.");
    }

    /// <summary>Reports the index size as the gauges <c>opennvr.faces.identities</c> and <c>opennvr.faces.embeddings</c>.</summary>
    public void Observe(FaceIndex index)
    {
        _meter.CreateObservableGauge("opennvr.faces.identities", () => index.IdentityCount, unit: "{identity}",
            description: "Identities in this replica's face index.");
        _meter.CreateObservableGauge("opennvr.faces.embeddings", () => index.EmbeddingCount, unit: "{embedding}",
            description: "Embeddings in this replica's face index.");
    }

    public void Registration(string outcome) => _registrations.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Search(double milliseconds, string task) => _searchDuration.Record(milliseconds, new KeyValuePair<string, object?>("task", task));

    public void SyncLag(double milliseconds) => _syncLag.Record(Math.Max(0, milliseconds));

    public void Dispose() => _meter.Dispose();
}
