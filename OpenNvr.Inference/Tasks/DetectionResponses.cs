using System.Text.Json.Serialization;
using OpenNvr.Inference.Annotation;

namespace OpenNvr.Inference.Tasks;

/// <summary><c>person_detection</c>: the best person, or confidence 0 and bbox <c>[0,0,0,0]</c> when none.</summary>
public sealed class PersonDetectionResponse : IAnnotatedResponse
{
    public required string Label { get; init; }

    public required double Confidence { get; init; }

    /// <summary><c>[left, top, width, height]</c> in original-frame pixels.</summary>
    public required int[] Bbox { get; init; }

    /// <summary><c>body</c> (the person detector's box) or <c>face</c> (a face in no body box: a person the body detector missed); null when none.</summary>
    public string? Source { get; init; }

    public required long ExecutedAt { get; init; }

    public required double LatencyMs { get; init; }

    /// <summary>
    /// Only with <c>input.options.annotate: true</c>: the frame with this response's boxes and labels drawn, as a frame
    /// URI (<c>opennvr://frames/camera_&lt;id&gt;/annotated_&lt;unix ms&gt;_&lt;id&gt;.jpg</c>) that <c>/infer</c> and the
    /// Recorder's frames route resolve like the frame itself. Absent otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnnotatedImageUri { get; set; }
}

/// <summary><c>person_counting</c>: every person found, their number and mean confidence.</summary>
public sealed class PersonCountingResponse : IAnnotatedResponse
{
    public required string Task { get; init; }

    public required int Count { get; init; }

    /// <summary>Mean confidence of the detections (0 when none).</summary>
    public required double Confidence { get; init; }

    public required IReadOnlyList<PersonDetection> Detections { get; init; }

    /// <summary>Whether faces were fused with the body boxes (<c>input.options.fuse_faces</c>, <c>Inference:Detector:FuseFaces</c>).</summary>
    public bool FacesFused { get; init; }

    public required long ExecutedAt { get; init; }

    public required double LatencyMs { get; init; }

    /// <summary>
    /// Only with <c>input.options.annotate: true</c>: the frame with this response's boxes and labels drawn, as a frame
    /// URI (<c>opennvr://frames/camera_&lt;id&gt;/annotated_&lt;unix ms&gt;_&lt;id&gt;.jpg</c>) that <c>/infer</c> and the
    /// Recorder's frames route resolve like the frame itself. Absent otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnnotatedImageUri { get; set; }
}

public sealed class PersonDetection
{
    /// <summary><c>[left, top, width, height]</c> in original-frame pixels.</summary>
    public required int[] Bbox { get; init; }

    public required double Confidence { get; init; }

    /// <summary>Always null: the adapter is stateless, tracking happens downstream.</summary>
    public required int? TrackId { get; init; }

    /// <summary><c>body</c> (the person detector's box) or <c>face</c> (the face of a person the body detector missed).</summary>
    public string Source { get; init; } = "body";
}

/// <summary><c>object_detection</c>: every object of every class the detector knows.</summary>
public sealed class ObjectDetectionResponse : IAnnotatedResponse
{
    public required string Task { get; init; }

    public required int Count { get; init; }

    public required IReadOnlyList<ObjectDetection> Detections { get; init; }

    public required long ExecutedAt { get; init; }

    public required double LatencyMs { get; init; }

    /// <summary>
    /// Only with <c>input.options.annotate: true</c>: the frame with this response's boxes and labels drawn, as a frame
    /// URI (<c>opennvr://frames/camera_&lt;id&gt;/annotated_&lt;unix ms&gt;_&lt;id&gt;.jpg</c>) that <c>/infer</c> and the
    /// Recorder's frames route resolve like the frame itself. Absent otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnnotatedImageUri { get; set; }
}

public sealed class ObjectDetection
{
    public required string Label { get; init; }

    public required double Confidence { get; init; }

    /// <summary><c>[x, y, width, height]</c> in original-frame pixels.</summary>
    public required int[] Bbox { get; init; }
}
