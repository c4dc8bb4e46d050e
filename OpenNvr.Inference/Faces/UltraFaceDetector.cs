using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// The bundled UltraFace RFB-320 (<c>fr_detect.onnx</c>): input <c>[1,3,240,320]</c> RGB <c>(v-127)/128</c> of the
/// frame stretched to 320x240; outputs <c>scores [1,N,2]</c> (column 1 = face) and <c>boxes [1,N,4]</c> already decoded
/// to normalised <c>x1,y1,x2,y2</c>. It gives no landmarks.
/// </summary>
public sealed class UltraFaceDetector : IFaceDetector
{
    public const int InputWidth = 320;
    public const int InputHeight = 240;

    private readonly OnnxModel _model;
    private readonly string _inputName;
    // One per model for the process lifetime: RunOptions is a native object and may be shared by concurrent runs.
    private readonly RunOptions _runOptions = new();
    private readonly string[] _outputNames;

    public UltraFaceDetector(OnnxModel model)
    {
        _model = model;
        var (inputName, input) = model.Session.InputMetadata.Single();
        if (!input.Dimensions.SequenceEqual([1, 3, InputHeight, InputWidth])
            || !model.Session.OutputMetadata.TryGetValue("scores", out var scores) || scores.Dimensions[^1] != 2
            || !model.Session.OutputMetadata.TryGetValue("boxes", out var boxes) || boxes.Dimensions[^1] != 4)
        {
            throw new InvalidOperationException(
                $"{model.Name} does not have the UltraFace layout (input [1,3,240,320], outputs scores [1,N,2] and boxes [1,N,4]).");
        }

        _inputName = inputName;
        _outputNames = ["scores", "boxes"];
    }

    public string Kind => "ultraface";

    public string ModelName => _model.Name;

    public bool ProvidesLandmarks => false;

    public IReadOnlyList<DetectedFace> Detect(Mat frame, float minScore, float nmsIouThreshold)
    {
        var input = new float[3 * InputHeight * InputWidth];
        using (var resized = new Mat())
        {
            Cv2.Resize(frame, resized, new Size(InputWidth, InputHeight), interpolation: InterpolationFlags.Linear);
            FaceTensors.FillChw(resized, input, 127f, 1f / 128f);
        }

        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, InputHeight, InputWidth]);
        using var outputs = _model.Session.Run(_runOptions, [_inputName], [inputValue], _outputNames);
        return Decode(outputs[0].GetTensorDataAsSpan<float>(), outputs[1].GetTensorDataAsSpan<float>(),
            frame.Width, frame.Height, minScore, nmsIouThreshold);
    }

    /// <summary>Boxes of the face rows (column 1 of <paramref name="scores"/>) scaled to the frame, clipped, NMS'd.</summary>
    public static List<DetectedFace> Decode(ReadOnlySpan<float> scores, ReadOnlySpan<float> boxes, int frameWidth, int frameHeight, float minScore, float nmsIouThreshold)
    {
        var candidates = new List<DetectedFace>();
        var count = scores.Length / 2;
        for (var i = 0; i < count; i++)
        {
            var score = scores[i * 2 + 1];
            if (!(score >= minScore))
            {
                continue;
            }

            var box = boxes.Slice(i * 4, 4);
            var x1 = Math.Clamp(box[0] * frameWidth, 0, frameWidth);
            var y1 = Math.Clamp(box[1] * frameHeight, 0, frameHeight);
            var x2 = Math.Clamp(box[2] * frameWidth, 0, frameWidth);
            var y2 = Math.Clamp(box[3] * frameHeight, 0, frameHeight);
            if (x2 - x1 >= 1 && y2 - y1 >= 1)
            {
                candidates.Add(new DetectedFace(x1, y1, x2, y2, score));
            }
        }

        return DetectedFace.Suppress(candidates, nmsIouThreshold);
    }
}
