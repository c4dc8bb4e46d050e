using System.Diagnostics;
using OpenCvSharp;

namespace OpenNvr.Tests.Tracking;

/// <summary>A person cut out of a bundled CCTV frame: the file under testdata/persons and the box around them.</summary>
public sealed record PersonCrop(string File, int X1, int Y1, int X2, int Y2);

/// <summary>Where a scripted person's feet are at a time (seconds from the clip's start, frame pixels).</summary>
public readonly record struct Waypoint(double Seconds, double FeetX, double FeetY);

/// <summary>A person walking along straight legs between waypoints; in view from the first waypoint to the last.</summary>
public sealed record ScriptedPerson(string Name, PersonCrop Crop, IReadOnlyList<Waypoint> Path)
{
    public double Enters => Path[0].Seconds;

    public double Leaves => Path[^1].Seconds;

    /// <summary>The feet at <paramref name="seconds"/>, or null when the person is not in view then.</summary>
    public (double X, double Y)? FeetAt(double seconds)
    {
        if (seconds < Enters || seconds > Leaves)
        {
            return null;
        }

        for (var i = 1; i < Path.Count; i++)
        {
            if (seconds <= Path[i].Seconds)
            {
                var (a, b) = (Path[i - 1], Path[i]);
                var f = b.Seconds == a.Seconds ? 1 : (seconds - a.Seconds) / (b.Seconds - a.Seconds);
                return (a.FeetX + f * (b.FeetX - a.FeetX), a.FeetY + f * (b.FeetY - a.FeetY));
            }
        }

        return (Path[^1].FeetX, Path[^1].FeetY);
    }

    /// <summary>First time in [from, to] at which the feet's x passes <paramref name="x"/> (null: never), to a millisecond.</summary>
    public double? TimeAtX(double x, double from, double to)
    {
        double? previous = null;
        for (var t = from; t <= to; t += 0.001)
        {
            if (FeetAt(t) is not { } feet)
            {
                previous = null;
                continue;
            }

            if (previous is { } p && Math.Sign(p - x) != Math.Sign(feet.X - x))
            {
                return t;
            }

            previous = feet.X;
        }

        return null;
    }
}

/// <summary>
/// Builds a test clip with known ground truth: real people cut from the bundled CCTV frames (testdata/persons) by
/// difference with the scene's background, pasted along scripted paths over that background, encoded to H.264 with
/// ffmpeg. The background is the per-pixel median of the demo clip (testdata/video/vtest.mp4): walkers cover any
/// pixel in few of its frames, so the median is the empty scene. Made at test time (a few seconds), not committed.
/// </summary>
public static class GroundTruthClip
{
    public const int Width = 768;
    public const int Height = 576;
    public const int FramesPerSecond = 10;

    /// <summary>The per-pixel median of <paramref name="samples"/> frames spread over the video.</summary>
    public static Mat MedianBackground(string video, int samples = 25)
    {
        using var capture = new VideoCapture(video);
        Assert.True(capture.IsOpened(), $"cannot open {video}");
        var total = (int)capture.Get(VideoCaptureProperties.FrameCount);
        var wanted = Enumerable.Range(0, samples).Select(i => (int)((long)i * (total - 1) / (samples - 1))).ToHashSet();
        var frames = new List<byte[]>();
        using var frame = new Mat();
        for (var index = 0; index < total && capture.Grab(); index++)
        {
            // Only the sampled frames are converted to BGR.
            if (wanted.Contains(index) && capture.Retrieve(frame) && !frame.Empty())
            {
                Assert.Equal(new Size(Width, Height), frame.Size());
                frame.GetArray(out Vec3b[] pixels);
                frames.Add(System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
            }
        }

        Assert.True(frames.Count >= samples * 9 / 10, $"read {frames.Count} of {samples} sample frames");
        var median = new byte[Width * Height * 3];
        var column = new byte[frames.Count];
        for (var i = 0; i < median.Length; i++)
        {
            for (var f = 0; f < frames.Count; f++)
            {
                column[f] = frames[f][i];
            }

            Array.Sort(column);
            median[i] = column[column.Length / 2];
        }

        var background = new Mat(Height, Width, MatType.CV_8UC3);
        background.SetArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Vec3b>(median).ToArray());
        return background;
    }

    /// <summary>
    /// The person in <paramref name="crop"/> with an alpha mask: pixels that differ from the background at the same
    /// place (the crop comes from the same scene), cleaned by morphology and feathered; and the feet (bottom centre of
    /// the mask) relative to the crop.
    /// </summary>
    public static CutOut Cut(PersonCrop crop, Mat background)
    {
        using var source = Cv2.ImRead(Path.Combine(Infrastructure.RepositoryPaths.TestData("persons", crop.File)));
        Assert.False(source.Empty(), crop.File);
        var rect = new Rect(crop.X1, crop.Y1, crop.X2 - crop.X1, crop.Y2 - crop.Y1);
        var person = source[rect].Clone();
        using var diff = new Mat();
        Cv2.Absdiff(person, background[rect], diff);
        using var grey = new Mat();
        Cv2.CvtColor(diff, grey, ColorConversionCodes.BGR2GRAY);
        using var mask = new Mat();
        Cv2.Threshold(grey, mask, 28, 255, ThresholdTypes.Binary);
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(5, 5));
        Cv2.MorphologyEx(mask, mask, MorphTypes.Close, kernel);
        Cv2.MorphologyEx(mask, mask, MorphTypes.Open, Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(3, 3)));

        // Keep the largest blob: the person (specks of compression noise go).
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        var count = Cv2.ConnectedComponentsWithStats(mask, labels, stats, centroids);
        Assert.True(count > 1, $"no person found in {crop}");
        var best = Enumerable.Range(1, count - 1).MaxBy(l => stats.At<int>(l, (int)ConnectedComponentsTypes.Area));
        using var blob = new Mat();
        Cv2.Compare(labels, new Scalar(best), blob, CmpTypes.EQ);
        var box = Cv2.BoundingRect(blob);

        var alpha = new Mat();
        blob.ConvertTo(alpha, MatType.CV_32FC1, 1 / 255.0);
        Cv2.GaussianBlur(alpha, alpha, new Size(3, 3), 0);
        return new CutOut(person, alpha, box.X + box.Width / 2.0, box.Y + box.Height, box.Height);
    }

    /// <summary>Renders the scene at <see cref="FramesPerSecond"/> for <paramref name="seconds"/> and encodes it to H.264 at <paramref name="mp4"/>.</summary>
    public static void Render(Mat background, IReadOnlyList<(ScriptedPerson Person, CutOut Cut)> people, double seconds, string mp4)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                     "-s", $"{Width}x{Height}", "-r", FramesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "pipe:0",
                     "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "20", "-bf", "0", "-pix_fmt", "yuv420p", mp4 })
        {
            start.ArgumentList.Add(arg);
        }

        using var ffmpeg = Process.Start(start)!;
        var errors = ffmpeg.StandardError.ReadToEndAsync();
        var frames = (int)Math.Round(seconds * FramesPerSecond);
        var buffer = new byte[Width * Height * 3];
        using (var input = ffmpeg.StandardInput.BaseStream)
        using (var canvas = new Mat())
        {
            for (var i = 0; i < frames; i++)
            {
                background.CopyTo(canvas);
                var t = i / (double)FramesPerSecond;
                // Farther people (feet higher in the image) first, so nearer ones are drawn over them.
                foreach (var (person, cut) in people.Where(p => p.Person.FeetAt(t) is not null).OrderBy(p => p.Person.FeetAt(t)!.Value.Y))
                {
                    var feet = person.FeetAt(t)!.Value;
                    Paste(canvas, cut, feet.X, feet.Y);
                }

                System.Runtime.InteropServices.Marshal.Copy(canvas.Data, buffer, 0, buffer.Length);
                input.Write(buffer);
            }
        }

        ffmpeg.WaitForExit();
        Assert.True(ffmpeg.ExitCode == 0, "ffmpeg could not encode the clip: " + errors.Result);
    }

    private static void Paste(Mat canvas, CutOut cut, double feetX, double feetY)
    {
        var left = (int)Math.Round(feetX - cut.FeetX);
        var top = (int)Math.Round(feetY - cut.FeetY);
        var target = new Rect(left, top, cut.Image.Width, cut.Image.Height);
        var visible = target & new Rect(0, 0, canvas.Width, canvas.Height);
        if (visible.Width <= 0 || visible.Height <= 0)
        {
            return;
        }

        var inCut = new Rect(visible.X - left, visible.Y - top, visible.Width, visible.Height);
        using var region = canvas[visible];
        using var weights = cut.Alpha[inCut];
        using var inverse = new Mat();
        Cv2.Subtract(Scalar.All(1.0), weights, inverse);
        using var blended = new Mat();
        Cv2.BlendLinear(cut.Image[inCut], region, weights, inverse, blended);
        blended.CopyTo(region);
    }
}

/// <summary>A person image, its alpha (0..1) and where its feet are inside it.</summary>
public sealed record CutOut(Mat Image, Mat Alpha, double FeetX, double FeetY, int PersonHeight) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        Alpha.Dispose();
    }
}
