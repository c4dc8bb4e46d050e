using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OpenNvr.Core.Telemetry;

/// <summary>Spans and metrics of Core (collected by the service defaults through the OpenNvr.* wildcard).</summary>
public static class CoreTelemetry
{
    public const string Name = "OpenNvr.Core";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>From frame capture at the Recorder to the event row in nvrdb: the AI pipeline's end-to-end latency.</summary>
    public static readonly Histogram<double> FrameLatency = Meter.CreateHistogram<double>(
        "opennvr.frame.latency", unit: "ms", description: "Frame capture to event stored in nvrdb");

    public static readonly Counter<long> Logins = Meter.CreateCounter<long>(
        "opennvr.core.logins", unit: "{login}", description: "Login attempts by result");

    public static readonly Counter<long> EventsIngested = Meter.CreateCounter<long>(
        "opennvr.core.events.ingested", unit: "{event}", description: "AI events stored");

    public static readonly Histogram<double> EventsInsertDuration = Meter.CreateHistogram<double>(
        "opennvr.core.events.insert.duration", unit: "ms", description: "Time to store one ingest batch");

    public static readonly Counter<long> RecordingsRegistered = Meter.CreateCounter<long>(
        "opennvr.core.recordings.registered", unit: "{chunk}", description: "Chunks registered by result (inserted, duplicate)");

    public static readonly Counter<long> Heartbeats = Meter.CreateCounter<long>(
        "opennvr.core.recorder.heartbeats", unit: "{heartbeat}", description: "Recorder heartbeats received");

    public static readonly Counter<long> LeasesAssigned = Meter.CreateCounter<long>(
        "opennvr.core.leases.assigned", unit: "{lease}", description: "Camera leases handed to a recorder");

    public static readonly Counter<long> LeaseHandOffs = Meter.CreateCounter<long>(
        "opennvr.core.leases.handoffs", unit: "{lease}", description: "Camera leases moved between live recorders to balance the load, by stage (started, completed)");

    public static readonly Histogram<double> LeaseHandOffDuration = Meter.CreateHistogram<double>(
        "opennvr.core.leases.handoff.duration", unit: "ms", description: "From a hand-off's start to the old holder's confirmation that it stopped the camera");
}
