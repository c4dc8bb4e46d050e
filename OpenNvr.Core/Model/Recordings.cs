using System.Text.Json;

namespace OpenNvr.Core.Model;

/// <summary>One finished MP4 chunk written by a Recorder, stored under the key <see cref="Path"/> in the recording store.</summary>
public sealed class Recording
{
    public long Id { get; set; }
    public int CameraId { get; set; }
    public required string Path { get; set; }
    public DateTimeOffset StartAt { get; set; }
    public DateTimeOffset EndAt { get; set; }
    public double DurationS { get; set; }
    public long SizeBytes { get; set; }
    public string? Codec { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public bool IsEvidence { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>An AI result, stored permanently.</summary>
public sealed class AiEvent
{
    public long Id { get; set; }
    public int CameraId { get; set; }
    public required string Task { get; set; }
    public string? Label { get; set; }
    public int? Count { get; set; }
    public double? Confidence { get; set; }
    public JsonDocument? Bbox { get; set; }
    public string? SnapshotPath { get; set; }
    public DateTimeOffset ExecutedAt { get; set; }
    public DateTimeOffset? CapturedAt { get; set; }
    public double? LatencyMs { get; set; }
    public double? PipelineLatencyMs { get; set; }
    public string? TraceId { get; set; }
    public JsonDocument? Payload { get; set; }
    public DateTimeOffset InsertedAt { get; set; }

    /// <summary>person.entered, zone.left, ... on events about people (null on frame-level events).</summary>
    public string? EventType { get; set; }

    /// <summary>The person's track on the camera, where the event concerns one person.</summary>
    public long? TrackId { get; set; }
}
