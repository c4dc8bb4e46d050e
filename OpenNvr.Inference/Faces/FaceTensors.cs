using OpenCvSharp;

namespace OpenNvr.Inference.Faces;

/// <summary>Copies 8-bit images into planar (NCHW) float tensors with the normalisation each model was trained with.</summary>
public static class FaceTensors
{
    /// <summary>
    /// Writes a continuous 8-bit BGR image as planar RGB (or BGR when <paramref name="toRgb"/> is false), each value
    /// <c>(v - mean[c]) * scale[c]</c> with mean and scale given in the destination's channel order.
    /// </summary>
    public static void FillChw(Mat bgr, Span<float> destination, ReadOnlySpan<float> mean, ReadOnlySpan<float> scale, bool toRgb = true)
    {
        if (bgr.Type() != MatType.CV_8UC3 || !bgr.IsContinuous())
        {
            throw new ArgumentException("Expected a continuous 8-bit BGR image.", nameof(bgr));
        }

        var pixels = bgr.Rows * bgr.Cols;
        if (destination.Length < pixels * 3)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values; {pixels * 3} are needed.", nameof(destination));
        }

        var source = bgr.AsSpan<byte>();
        var c0 = destination[..pixels];
        var c1 = destination.Slice(pixels, pixels);
        var c2 = destination.Slice(2 * pixels, pixels);
        // Source channel feeding destination plane 0 and 2: BGR order in memory.
        var first = toRgb ? 2 : 0;
        var last = toRgb ? 0 : 2;
        float m0 = mean[0], m1 = mean[1], m2 = mean[2], s0 = scale[0], s1 = scale[1], s2 = scale[2];
        for (var i = 0; i < pixels; i++)
        {
            var p = i * 3;
            c0[i] = (source[p + first] - m0) * s0;
            c1[i] = (source[p + 1] - m1) * s1;
            c2[i] = (source[p + last] - m2) * s2;
        }
    }

    public static void FillChw(Mat bgr, Span<float> destination, float mean, float scale, bool toRgb = true) =>
        FillChw(bgr, destination, [mean, mean, mean], [scale, scale, scale], toRgb);

    /// <summary>
    /// The square region with top-left (<paramref name="x"/>, <paramref name="y"/>) and side <paramref name="side"/>
    /// resampled to <paramref name="size"/> x <paramref name="size"/>; parts outside the frame repeat its border, so a
    /// face at the edge keeps its place in the crop.
    /// </summary>
    public static Mat CropSquare(Mat frame, float x, float y, float side, int size)
    {
        var s = size / side;
        using var transform = new Mat(2, 3, MatType.CV_64FC1);
        transform.Set(0, 0, (double)s);
        transform.Set(0, 1, 0.0);
        transform.Set(0, 2, (double)(-x * s));
        transform.Set(1, 0, 0.0);
        transform.Set(1, 1, (double)s);
        transform.Set(1, 2, (double)(-y * s));
        var crop = new Mat();
        // Area-like quality when shrinking a large face a lot: blur-free linear is fine for 64-pixel model inputs.
        Cv2.WarpAffine(frame, crop, transform, new Size(size, size), InterpolationFlags.Linear, BorderTypes.Replicate);
        return crop;
    }

    public static float[] L2Normalise(ReadOnlySpan<float> vector)
    {
        var result = vector.ToArray();
        double sum = 0;
        foreach (var v in result)
        {
            sum += v * v;
        }

        var norm = (float)Math.Sqrt(sum);
        if (norm > 0 && float.IsFinite(norm))
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] /= norm;
            }
        }

        return result;
    }
}
