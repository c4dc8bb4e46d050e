using OpenCvSharp;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// The cheap "did anything move" test in front of inference: a frame is decoded at an eighth of its size in grey
/// (libjpeg's DCT scaling does most of the work), shrunk to <see cref="Width"/>x<see cref="Height"/> by area
/// averaging (which also removes compression noise), and compared pixel by pixel with the last frame that was
/// analysed. The score is the share of pixels whose grey level moved by more than the pixel delta.
/// </summary>
public static class MotionGate
{
    public const int Width = 64;
    public const int Height = 36;

    /// <summary>The frame as <see cref="Width"/>x<see cref="Height"/> grey bytes; null when it does not decode.</summary>
    public static byte[]? Thumbnail(byte[] jpeg)
    {
        using var small = Cv2.ImDecode(jpeg, ImreadModes.ReducedGrayscale8);
        if (small.Empty())
        {
            return null;
        }

        using var thumb = new Mat();
        Cv2.Resize(small, thumb, new Size(Width, Height), 0, 0, InterpolationFlags.Area);
        // A continuous single-channel Mat: exactly Width x Height bytes.
        thumb.GetArray(out byte[] data);
        return data;
    }

    /// <summary>Share (0..1) of pixels that changed by more than <paramref name="pixelDelta"/> grey levels.</summary>
    public static double ChangedShare(ReadOnlySpan<byte> previous, ReadOnlySpan<byte> current, int pixelDelta)
    {
        if (previous.Length != current.Length || current.Length == 0)
        {
            return 1;
        }

        var changed = 0;
        for (var i = 0; i < current.Length; i++)
        {
            if (Math.Abs(previous[i] - current[i]) > pixelDelta)
            {
                changed++;
            }
        }

        return (double)changed / current.Length;
    }
}
