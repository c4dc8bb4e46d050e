using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// Configuration section <c>Faces</c>: which face models run and the thresholds of the face tasks. The defaults are
/// the bundled models (<c>fr_*.onnx</c>); InsightFace packs (SCRFD detector, ArcFace recogniser) are selected with
/// <see cref="Detector"/> = <c>scrfd</c> and <see cref="Embedder"/> = <c>arcface</c> plus their model paths.
/// </summary>
public sealed class FacesOptions
{
    public const string Section = "Faces";

    /// <summary><c>ultraface</c> (default: the bundled <c>fr_detect.onnx</c>) or <c>scrfd</c> (an InsightFace <c>det_*.onnx</c>).</summary>
    [Required, RegularExpression("(?i)^(ultraface|scrfd)$", ErrorMessage = "must be ultraface or scrfd.")]
    public string Detector { get; set; } = "ultraface";

    /// <summary>Detector model path, relative to <c>Models:Root</c> or absolute. Default: <c>fr_detect.onnx</c> (ultraface) or <c>det_10g.onnx</c> (scrfd).</summary>
    public string? DetectorModel { get; set; }

    /// <summary><c>bundled</c> (default: <c>fr_feature.onnx</c>, input <c>(v-127)/128</c>) or <c>arcface</c> (InsightFace <c>w600k_r50.onnx</c> style, <c>(v-127.5)/127.5</c>).</summary>
    [Required, RegularExpression("(?i)^(bundled|arcface)$", ErrorMessage = "must be bundled or arcface.")]
    public string Embedder { get; set; } = "bundled";

    /// <summary>Embedder model path. Default: <c>fr_feature.onnx</c> (bundled) or <c>w600k_r50.onnx</c> (arcface).</summary>
    public string? EmbedderModel { get; set; }

    /// <summary>68-point landmark model, used when the detector gives no landmarks of its own (UltraFace).</summary>
    public string LandmarkModel { get; set; } = "fr_landmark.onnx";

    /// <summary>SSR-Net age model; age is null in responses when it is missing.</summary>
    public string AgeModel { get; set; } = "fr_age.onnx";

    /// <summary>SSR-Net gender model; gender is null in responses when it is missing.</summary>
    public string GenderModel { get; set; } = "fr_gender.onnx";

    /// <summary>Minimum detector score of a face.</summary>
    [Range(0.0, 1.0)]
    public float DetectionThreshold { get; set; } = 0.7f;

    /// <summary>IoU above which a lower-scoring face box is suppressed.</summary>
    [Range(0.0, 1.0)]
    public float NmsIouThreshold { get; set; } = 0.4f;

    /// <summary>Faces smaller than this (shorter side, pixels of the original frame) are ignored: too small to recognise.</summary>
    [Range(1, 4096)]
    public int MinFaceSize { get; set; } = 12;

    /// <summary>Most faces analysed per frame (largest first); the rest are dropped.</summary>
    [Range(1, 1000)]
    public int MaxFacesPerFrame { get; set; } = 50;

    /// <summary>
    /// Cosine similarity at or above which two faces are the same person (<c>face_verify</c>, and the default of
    /// <c>face_recognition</c>). 0.40 for the bundled embedder: measured on the 24 photos of bald_guys.jpg, same
    /// person 0.44 or more, different people 0.37 or less. InsightFace ArcFace models usually want 0.30-0.35.
    /// </summary>
    [Range(0.0, 1.0)]
    public float MatchThreshold { get; set; } = 0.40f;

    /// <summary>Cosine similarity at or above which a face is reported on the watchlist.</summary>
    [Range(0.0, 1.0)]
    public float WatchlistThreshold { get; set; } = 0.40f;

    /// <summary>Seconds between registry version checks, the fallback when a LISTEN/NOTIFY message is lost.</summary>
    [Range(0.2, 3600)]
    public double RegistryPollSeconds { get; set; } = 5;

    /// <summary>Most faces one identity may hold (each registration of the same person adds one).</summary>
    [Range(1, 1000)]
    public int MaxEmbeddingsPerIdentity { get; set; } = 20;

    public string ResolvedDetectorModel => DetectorModel ?? (IsScrfd ? "det_10g.onnx" : "fr_detect.onnx");

    public string ResolvedEmbedderModel => EmbedderModel ?? (IsArcFace ? "w600k_r50.onnx" : "fr_feature.onnx");

    public bool IsScrfd => string.Equals(Detector, "scrfd", StringComparison.OrdinalIgnoreCase);

    public bool IsArcFace => string.Equals(Embedder, "arcface", StringComparison.OrdinalIgnoreCase);
}
