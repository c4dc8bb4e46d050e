using System.Text.Json.Serialization;
using OpenNvr.Inference.Annotation;

namespace OpenNvr.Inference.Faces;

/// <summary><c>face_detection</c>: every face with its box, five landmarks, age and gender.</summary>
public sealed class FaceDetectionResponse : IAnnotatedResponse
{
    public required IReadOnlyList<FaceDetectionItem> Faces { get; init; }

    public required int FaceCount { get; init; }

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

public sealed class FaceDetectionItem
{
    /// <summary><c>[x1, y1, x2, y2]</c> in original-frame pixels.</summary>
    public required int[] Bbox { get; init; }

    public required double Confidence { get; init; }

    /// <summary>Five <c>[x, y]</c> points: eye on the image's left, eye on the image's right, nose tip, left and right mouth corner.</summary>
    public required double[][] Landmarks { get; init; }

    /// <summary>Estimated age in years (SSR-Net); null when the age model is not loaded.</summary>
    public required int? Age { get; init; }

    /// <summary><c>M</c> or <c>F</c> (SSR-Net); null when the gender model is not loaded.</summary>
    public required string? Gender { get; init; }
}

/// <summary><c>face_embedding</c>: the L2-normalised embedding of the largest face.</summary>
public sealed class FaceEmbeddingResponse
{
    public required float[] Embedding { get; init; }

    public required int[] FaceBbox { get; init; }

    public required int EmbeddingSize { get; init; }

    public required double LatencyMs { get; init; }
}

/// <summary>
/// <c>face_recognition</c>: on a match <c>recognized</c>, <c>person_id</c>, <c>name</c>, <c>category</c>,
/// <c>similarity</c>, <c>face_bbox</c>; otherwise <c>recognized: false</c> and a <c>message</c>.
/// </summary>
public sealed class FaceRecognitionResponse : IAnnotatedResponse
{
    public required bool Recognized { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PersonId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Name { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Category { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Similarity { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int[]? FaceBbox { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; init; }

    public required double LatencyMs { get; init; }

    /// <summary>
    /// Only with <c>input.options.annotate: true</c>: the frame with this response's boxes and labels drawn, as a frame
    /// URI (<c>opennvr://frames/camera_&lt;id&gt;/annotated_&lt;unix ms&gt;_&lt;id&gt;.jpg</c>) that <c>/infer</c> and the
    /// Recorder's frames route resolve like the frame itself. Absent otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnnotatedImageUri { get; set; }
}

/// <summary><c>face_verify</c>: whether the largest faces of <c>frame1</c> and <c>frame2</c> are the same person.</summary>
public sealed class FaceVerifyResponse
{
    public required bool IsSamePerson { get; init; }

    public required double Similarity { get; init; }

    public required double Threshold { get; init; }

    public required int[] Face1Bbox { get; init; }

    public required int[] Face2Bbox { get; init; }

    public required double LatencyMs { get; init; }
}

/// <summary><c>watchlist_check</c>: identities of category <c>watchlist</c> matching the largest face (none found: empty, <c>face_bbox</c> null).</summary>
public sealed class WatchlistCheckResponse : IAnnotatedResponse
{
    public required bool IsOnWatchlist { get; init; }

    public required IReadOnlyList<WatchlistMatch> Matches { get; init; }

    public required int[]? FaceBbox { get; init; }

    public required double LatencyMs { get; init; }

    /// <summary>
    /// Only with <c>input.options.annotate: true</c>: the frame with this response's boxes and labels drawn, as a frame
    /// URI (<c>opennvr://frames/camera_&lt;id&gt;/annotated_&lt;unix ms&gt;_&lt;id&gt;.jpg</c>) that <c>/infer</c> and the
    /// Recorder's frames route resolve like the frame itself. Absent otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnnotatedImageUri { get; set; }
}

public sealed class WatchlistMatch
{
    public required string PersonId { get; init; }

    public required string Name { get; init; }

    public required string Category { get; init; }

    public required double Similarity { get; init; }
}
