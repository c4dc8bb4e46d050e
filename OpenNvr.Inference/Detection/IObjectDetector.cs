using OpenCvSharp;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Detection;

/// <summary>
/// An object detector backend (CenterNet, YOLO layout, ...), chosen by <c>Inference:Detector:Kind</c>. Thread-safe:
/// one instance serves all requests; buffers are pooled per concurrent call.
/// </summary>
public interface IObjectDetector
{
    /// <summary>False when the model did not load; the detection tasks are then unavailable.</summary>
    bool IsAvailable { get; }

    TaskModelInfo ModelInfo { get; }

    /// <summary>Class names by class id.</summary>
    IReadOnlyList<string> Labels { get; }

    /// <summary>
    /// Detects objects in a BGR frame: detections scoring at least <paramref name="minConfidence"/>, after
    /// class-aware NMS, boxes in original-frame pixels, highest confidence first. Records the <c>preprocess</c>,
    /// <c>model</c> and <c>postprocess</c> stages.
    /// </summary>
    Task<IReadOnlyList<DetectedObject>> DetectAsync(Mat frame, float minConfidence, CancellationToken cancellationToken);
}
