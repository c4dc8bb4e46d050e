using OpenCvSharp;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// Aligns a face for the embedding models: the least-squares similarity transform (rotation, uniform scale,
/// translation; Umeyama 1991, closed form in 2-D) that maps its five landmarks onto the standard ArcFace 112x112
/// template, then an affine warp of the frame to 112x112.
/// </summary>
public static class FaceAlignment
{
    public const int Size = 112;

    /// <summary>Eye on the image's left, eye on the image's right, nose tip, left and right mouth corner (InsightFace <c>arcface_dst</c>).</summary>
    public static readonly Point2f[] ArcFaceTemplate =
    [
        new(38.2946f, 51.6963f),
        new(73.5318f, 51.5014f),
        new(56.0252f, 71.7366f),
        new(41.5493f, 92.3655f),
        new(70.7299f, 92.2041f),
    ];

    /// <summary>
    /// The 2x3 matrix <c>[[a, -b, tx], [b, a, ty]]</c> minimising the squared distances from the transformed
    /// <paramref name="source"/> points to <paramref name="destination"/> (no reflection).
    /// </summary>
    public static double[] EstimateSimilarity(ReadOnlySpan<Point2f> source, ReadOnlySpan<Point2f> destination)
    {
        if (source.Length != destination.Length || source.Length < 2)
        {
            throw new ArgumentException("Need at least two corresponding points.");
        }

        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        for (var i = 0; i < source.Length; i++)
        {
            msx += source[i].X;
            msy += source[i].Y;
            mdx += destination[i].X;
            mdy += destination[i].Y;
        }

        var n = source.Length;
        msx /= n;
        msy /= n;
        mdx /= n;
        mdy /= n;

        // With centred points, the optimal a = Σ(s·d)/Σ|s|², b = Σ(s×d)/Σ|s|².
        double dot = 0, cross = 0, variance = 0;
        for (var i = 0; i < n; i++)
        {
            var sx = source[i].X - msx;
            var sy = source[i].Y - msy;
            var dx = destination[i].X - mdx;
            var dy = destination[i].Y - mdy;
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
            variance += sx * sx + sy * sy;
        }

        if (variance < 1e-9)
        {
            throw new ArgumentException("The source points coincide.");
        }

        var a = dot / variance;
        var b = cross / variance;
        return [a, -b, mdx - (a * msx - b * msy), b, a, mdy - (b * msx + a * msy)];
    }

    /// <summary>The aligned 112x112 BGR face (the caller disposes it).</summary>
    public static Mat Align(Mat frame, ReadOnlySpan<Point2f> landmarks)
    {
        var m = EstimateSimilarity(landmarks, ArcFaceTemplate);
        using var transform = new Mat(2, 3, MatType.CV_64FC1);
        for (var i = 0; i < 6; i++)
        {
            transform.Set(i / 3, i % 3, m[i]);
        }

        var aligned = new Mat();
        Cv2.WarpAffine(frame, aligned, transform, new OpenCvSharp.Size(Size, Size), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        return aligned;
    }
}
