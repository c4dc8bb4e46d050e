using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// The bundled 68-point landmark model (<c>fr_landmark.onnx</c>): input <c>[1,1,64,64]</c> grey <c>v/256</c> of the
/// square crop the bundled detector's package uses (side = box height, centred on the box), output <c>[1,136]</c>
/// x,y pairs normalised to that crop. Reduced to the five ArcFace points: eye centres (means of points 36-41 and
/// 42-47), nose tip (30), mouth corners (48, 54).
/// </summary>
public sealed class FaceLandmarker
{
    public const int InputSize = 64;
    public const int PointCount = 68;

    private readonly OnnxModel _model;
    private readonly string _inputName;
    // One per model for the process lifetime: RunOptions is a native object and may be shared by concurrent runs.
    private readonly RunOptions _runOptions = new();
    private readonly string[] _outputNames;

    public FaceLandmarker(OnnxModel model)
    {
        _model = model;
        var (inputName, input) = model.Session.InputMetadata.Single();
        var (outputName, output) = model.Session.OutputMetadata.First();
        if (!input.Dimensions.SequenceEqual([1, 1, InputSize, InputSize]) || output.Dimensions[^1] != PointCount * 2)
        {
            throw new InvalidOperationException($"{model.Name} does not have the landmark layout (input [1,1,64,64], output [1,136]).");
        }

        _inputName = inputName;
        _outputNames = [outputName];
    }

    public string ModelName => _model.Name;

    /// <summary>The square crop the model expects for a detector box: side = box height, centred on the box.</summary>
    public static (float X, float Y, float Side) CropOf(DetectedFace face)
    {
        var side = face.Height;
        return ((face.X1 + face.X2 - side) / 2, (face.Y1 + face.Y2 - side) / 2, side);
    }

    /// <summary>The 68 landmarks in frame pixels.</summary>
    public Point2f[] Detect68(Mat frame, DetectedFace face)
    {
        var (x, y, side) = CropOf(face);
        var input = new float[InputSize * InputSize];
        using (var crop = FaceTensors.CropSquare(frame, x, y, side, InputSize))
        using (var grey = new Mat())
        {
            Cv2.CvtColor(crop, grey, ColorConversionCodes.BGR2GRAY);
            var pixels = grey.AsSpan<byte>();
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = pixels[i] / 256f;
            }
        }

        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 1, InputSize, InputSize]);
        using var outputs = _model.Session.Run(_runOptions, [_inputName], [inputValue], _outputNames);
        var normalised = outputs[0].GetTensorDataAsSpan<float>();
        var points = new Point2f[PointCount];
        for (var i = 0; i < PointCount; i++)
        {
            points[i] = new Point2f(x + normalised[2 * i] * side, y + normalised[2 * i + 1] * side);
        }

        return points;
    }

    /// <summary>The five ArcFace points from the 68 (iBUG 300-W numbering).</summary>
    public static Point2f[] ToFivePoints(ReadOnlySpan<Point2f> points68) =>
    [
        Mean(points68[36..42]),
        Mean(points68[42..48]),
        points68[30],
        points68[48],
        points68[54],
    ];

    private static Point2f Mean(ReadOnlySpan<Point2f> points)
    {
        float x = 0, y = 0;
        foreach (var p in points)
        {
            x += p.X;
            y += p.Y;
        }

        return new Point2f(x / points.Length, y / points.Length);
    }
}
