namespace OpenNvr.Inference.Detection;

/// <summary>Configuration section <c>Inference:Detector</c>: which detector model runs the detection tasks.</summary>
public sealed class DetectorOptions
{
    public const string Section = "Inference:Detector";

    /// <summary><c>centernet</c> (the bundled model) or <c>yolo</c> (a YOLOv8/YOLO11 ONNX export).</summary>
    public string Kind { get; set; } = "centernet";

    /// <summary>Model path, relative to <c>Models:Root</c> or absolute.</summary>
    public string Model { get; set; } = "centernet.onnx";

    /// <summary>Optional text file of class names, one per line, in class-id order (relative to <c>Models:Root</c> or absolute). Default: COCO-80.</summary>
    public string? Labels { get; set; }

    /// <summary>Minimum score of a person for <c>person_detection</c> and <c>person_counting</c>.</summary>
    public float PersonThreshold { get; set; } = 0.35f;

    /// <summary>Minimum score of any object for <c>object_detection</c>.</summary>
    public float ObjectThreshold { get; set; } = 0.35f;

    /// <summary>IoU above which a lower-scoring box of the same class is suppressed.</summary>
    public float NmsIouThreshold { get; set; } = 0.5f;

    /// <summary>Square input size of a YOLO model whose input shape is dynamic (default 640).</summary>
    public int InputSize { get; set; } = 640;
}
