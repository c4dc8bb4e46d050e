using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Inference.Detection;

/// <summary>Configuration section <c>Inference:Detector</c>: which detector model runs the detection tasks.</summary>
public sealed class DetectorOptions
{
    public const string Section = "Inference:Detector";

    /// <summary><c>centernet</c> (the bundled model) or <c>yolo</c> (a YOLOv8/YOLO11 ONNX export).</summary>
    [Required, RegularExpression("(?i)^(centernet|yolo)$", ErrorMessage = "must be centernet or yolo.")]
    public string Kind { get; set; } = "centernet";

    /// <summary>Model path, relative to <c>Models:Root</c> or absolute.</summary>
    [Required]
    public string Model { get; set; } = "centernet.onnx";

    /// <summary>Optional text file of class names, one per line, in class-id order (relative to <c>Models:Root</c> or absolute). Default: COCO-80.</summary>
    public string? Labels { get; set; }

    /// <summary>Minimum score of a person for <c>person_detection</c> and <c>person_counting</c>.</summary>
    [Range(0.0, 1.0)]
    public float PersonThreshold { get; set; } = 0.35f;

    /// <summary>
    /// Whether person_counting and person_detection also count faces that lie in no person box (people whose bodies
    /// are cut off or hidden); a request's <c>input.options.fuse_faces</c> overrides it. Needs a face detector.
    /// </summary>
    public bool FuseFaces { get; set; } = true;

    /// <summary>Minimum score of any object for <c>object_detection</c>.</summary>
    [Range(0.0, 1.0)]
    public float ObjectThreshold { get; set; } = 0.35f;

    /// <summary>IoU above which a lower-scoring box of the same class is suppressed.</summary>
    [Range(0.0, 1.0)]
    public float NmsIouThreshold { get; set; } = 0.5f;

    /// <summary>Square input size of a YOLO model whose input shape is dynamic (default 640).</summary>
    [Range(32, 4096)]
    public int InputSize { get; set; } = 640;
}
