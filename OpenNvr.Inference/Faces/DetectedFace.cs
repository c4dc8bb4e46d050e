using OpenCvSharp;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// A face found by a detector: its box in pixels of the original frame (corners, clipped to the frame), the
/// detector's score and, when the detector gives them (SCRFD), five landmarks in the ArcFace order: the eye on the
/// image's left, the eye on the image's right, the nose tip, the left and the right mouth corner.
/// </summary>
public sealed record DetectedFace(float X1, float Y1, float X2, float Y2, float Score, Point2f[]? Landmarks = null)
{
    public float Width => X2 - X1;

    public float Height => Y2 - Y1;

    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>The contract's <c>[x1, y1, x2, y2]</c> in whole pixels.</summary>
    public int[] ToXyxy() => [(int)MathF.Round(X1), (int)MathF.Round(Y1), (int)MathF.Round(X2), (int)MathF.Round(Y2)];

    public float IntersectionOverUnion(DetectedFace other)
    {
        var w = MathF.Min(X2, other.X2) - MathF.Max(X1, other.X1);
        var h = MathF.Min(Y2, other.Y2) - MathF.Max(Y1, other.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var intersection = w * h;
        return intersection / (Area + other.Area - intersection);
    }

    /// <summary>Greedy NMS, highest score first; returns the kept faces highest score first.</summary>
    public static List<DetectedFace> Suppress(List<DetectedFace> candidates, float iouThreshold)
    {
        candidates.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        var kept = new List<DetectedFace>();
        foreach (var candidate in candidates)
        {
            if (!kept.Exists(k => k.IntersectionOverUnion(candidate) > iouThreshold))
            {
                kept.Add(candidate);
            }
        }

        return kept;
    }
}

/// <summary>A face detector backend (<c>Faces:Detector</c>). Implementations are thread-safe singletons.</summary>
public interface IFaceDetector
{
    /// <summary>e.g. <c>ultraface</c> or <c>scrfd</c>.</summary>
    string Kind { get; }

    /// <summary>The model file, for <c>model_info</c>.</summary>
    string ModelName { get; }

    /// <summary>Whether <see cref="DetectedFace.Landmarks"/> is filled (otherwise a landmark model supplies them).</summary>
    bool ProvidesLandmarks { get; }

    /// <summary>Faces in an 8-bit BGR frame scoring at least <paramref name="minScore"/>, NMS'd, highest score first.</summary>
    IReadOnlyList<DetectedFace> Detect(Mat frame, float minScore, float nmsIouThreshold);
}

/// <summary>A face embedding backend (<c>Faces:Embedder</c>): aligned 112x112 face in, L2-normalised vector out.</summary>
public interface IFaceEmbedder
{
    /// <summary>e.g. <c>bundled</c> or <c>arcface</c>: stored with every embedding, since vectors of different models cannot be compared.</summary>
    string Kind { get; }

    string ModelName { get; }

    int Dimensions { get; }

    /// <summary>The L2-normalised embedding of an aligned 8-bit BGR face of <see cref="FaceAlignment.Size"/> x <see cref="FaceAlignment.Size"/>.</summary>
    float[] Embed(Mat alignedFace);
}
