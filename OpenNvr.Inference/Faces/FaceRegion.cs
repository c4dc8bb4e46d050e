using System.Globalization;
using System.Text.Json;
using OpenCvSharp;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// <c>input.region</c> of the single-frame face tasks: <c>[x1, y1, x2, y2]</c> in pixels of the frame. The face
/// pipeline then runs on that part of the frame only, and the boxes it answers are still in pixels of the whole
/// frame. Why a region rather than the whole frame: the Recorder asks about one tracked person at a time, and the
/// "largest face" of a whole frame is often someone else's; and the detector scales its input to a fixed size
/// (UltraFace 320x240), so a CCTV face of 20 px in a 1280x720 frame shrinks to 5 px and is lost, while in the
/// region around that person's head it is seen at several times the size.
/// </summary>
public sealed record FaceRegion(double X1, double Y1, double X2, double Y2)
{
    public const string Field = "region";

    /// <summary>The region of the request (400 when malformed), or null when it names none.</summary>
    public static FaceRegion? Read(InferenceRequest request)
    {
        var value = request.GetInputProperty(Field);
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        const string shape = "input.region must be [x1, y1, x2, y2]: four finite numbers (frame pixels) with x2 > x1 and y2 > y1";
        if (value.Value.ValueKind != JsonValueKind.Array || value.Value.GetArrayLength() != 4)
        {
            throw InferenceProblemException.BadRequest($"{shape}, not {InferenceRequest.Describe(value.Value)}" +
                (value.Value.ValueKind == JsonValueKind.Array ? $" of {value.Value.GetArrayLength().ToString(CultureInfo.InvariantCulture)} items." : "."));
        }

        var v = new double[4];
        var i = 0;
        foreach (var item in value.Value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out v[i]) || !double.IsFinite(v[i]))
            {
                throw InferenceProblemException.BadRequest($"{shape}; item {i.ToString(CultureInfo.InvariantCulture)} is {InferenceRequest.Describe(item)}.");
            }

            i++;
        }

        if (v[2] <= v[0] || v[3] <= v[1])
        {
            throw InferenceProblemException.BadRequest($"{shape}; [{string.Join(", ", v.Select(x => x.ToString(CultureInfo.InvariantCulture)))}] is empty.");
        }

        return new FaceRegion(v[0], v[1], v[2], v[3]);
    }

    /// <summary>The region clipped to a frame of <paramref name="width"/>x<paramref name="height"/>; 400 when it lies outside it.</summary>
    public Rect ClipTo(int width, int height)
    {
        var x1 = (int)Math.Floor(Math.Clamp(X1, 0, width));
        var y1 = (int)Math.Floor(Math.Clamp(Y1, 0, height));
        var x2 = (int)Math.Ceiling(Math.Clamp(X2, 0, width));
        var y2 = (int)Math.Ceiling(Math.Clamp(Y2, 0, height));
        if (x2 - x1 < 1 || y2 - y1 < 1)
        {
            throw InferenceProblemException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                $"input.region [{X1}, {Y1}, {X2}, {Y2}] lies outside the frame ({width}x{height})."));
        }

        return new Rect(x1, y1, x2 - x1, y2 - y1);
    }

    /// <summary>A face found in the region's crop, moved back into the frame's pixels.</summary>
    public static AnalyzedFace ToFrame(AnalyzedFace face, Rect crop)
    {
        var (dx, dy) = (crop.X, crop.Y);
        var box = face.Box;
        return face with
        {
            Box = box with
            {
                X1 = box.X1 + dx, Y1 = box.Y1 + dy, X2 = box.X2 + dx, Y2 = box.Y2 + dy,
                Landmarks = box.Landmarks is { } marks ? [.. marks.Select(p => new Point2f(p.X + dx, p.Y + dy))] : null,
            },
            Landmarks = [.. face.Landmarks.Select(p => new Point2f(p.X + dx, p.Y + dy))],
        };
    }
}
