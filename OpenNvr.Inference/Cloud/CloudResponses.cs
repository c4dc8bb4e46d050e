namespace OpenNvr.Inference.Cloud;

/// <summary><c>object_detection_detr</c> / <c>object-detection</c>: the objects a Hugging Face detection model found.</summary>
public sealed class CloudDetectionResponse
{
    /// <summary>The task name as requested.</summary>
    public required string Task { get; init; }

    /// <summary>The Hugging Face model id that answered.</summary>
    public required string ModelId { get; init; }

    public required int Count { get; init; }

    /// <summary>Highest confidence first.</summary>
    public required IReadOnlyList<CloudDetection> Detections { get; init; }

    public required long ExecutedAt { get; init; }

    public required double LatencyMs { get; init; }
}

public sealed class CloudDetection
{
    public required string Label { get; init; }

    public required double Confidence { get; init; }

    /// <summary><c>[x, y, width, height]</c> in original-frame pixels.</summary>
    public required int[] Bbox { get; init; }
}

/// <summary><c>image-classification</c>: the model's labels, highest confidence first.</summary>
public sealed class CloudClassificationResponse
{
    public required string Task { get; init; }

    public required string ModelId { get; init; }

    public required IReadOnlyList<CloudLabel> Labels { get; init; }

    public required long ExecutedAt { get; init; }

    public required double LatencyMs { get; init; }
}

public sealed class CloudLabel
{
    public required string Label { get; init; }

    public required double Confidence { get; init; }
}

/// <summary><c>image-to-text</c>: the caption the model generated.</summary>
public sealed class CloudImageToTextResponse
{
    public required string Task { get; init; }

    public required string ModelId { get; init; }

    public required string Text { get; init; }

    public required long ExecutedAt { get; init; }

    public required double LatencyMs { get; init; }
}
