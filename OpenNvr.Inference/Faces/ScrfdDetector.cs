using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// InsightFace SCRFD (<c>det_500m.onnx</c>, <c>det_10g.onnx</c> of the buffalo packs): the frame is scaled to fit
/// 640x640 keeping its aspect ratio and placed at the top-left of a black square; input RGB <c>(v-127.5)/128</c>.
/// Per stride 8, 16 and 32 the model outputs scores <c>[N,1]</c>, box distances <c>[N,4]</c> and, in the packs with
/// keypoints, five landmarks <c>[N,10]</c>, for N = (640/stride)² x 2 anchors; distances and keypoint offsets are in
/// units of the stride from the anchor centre (distance decoding: <c>x1 = cx - l</c>, <c>y1 = cy - t</c>,
/// <c>x2 = cx + r</c>, <c>y2 = cy + b</c>).
/// </summary>
public sealed class ScrfdDetector : IFaceDetector
{
    public const int DefaultInputSize = 640;
    public const int AnchorsPerLocation = 2;
    private static readonly int[] Strides = [8, 16, 32];

    private readonly OnnxModel _model;
    private readonly string _inputName;
    // One per model for the process lifetime: RunOptions is a native object and may be shared by concurrent runs.
    private readonly RunOptions _runOptions = new();
    private readonly int _inputSize;
    private readonly string[] _outputNames;
    // Output index of the scores, boxes and keypoints of each stride (keypoints -1 when the model has none).
    private readonly (int Scores, int Boxes, int Keypoints)[] _strideOutputs;

    public ScrfdDetector(OnnxModel model)
    {
        _model = model;
        var (inputName, input) = model.Session.InputMetadata.Single();
        _inputName = inputName;
        _inputSize = input.Dimensions.Length == 4 && input.Dimensions[2] > 0 ? input.Dimensions[2] : DefaultInputSize;
        if (input.Dimensions.Length != 4 || (input.Dimensions[3] > 0 && input.Dimensions[3] != _inputSize))
        {
            throw new InvalidOperationException($"{model.Name} does not have a square NCHW input (got [{string.Join(",", input.Dimensions)}]).");
        }

        _outputNames = [.. model.Session.OutputMetadata.Keys];
        var lastDims = model.Session.OutputMetadata.Values.Select(o => o.Dimensions[^1]).ToArray();
        _strideOutputs = MapOutputs(lastDims, model.Name);
    }

    public string Kind => "scrfd";

    public string ModelName => _model.Name;

    public bool ProvidesLandmarks => _strideOutputs[0].Keypoints >= 0;

    public IReadOnlyList<DetectedFace> Detect(Mat frame, float minScore, float nmsIouThreshold)
    {
        var (scale, width, height) = Letterbox(frame.Width, frame.Height, _inputSize);
        var input = new float[3 * _inputSize * _inputSize];
        using (var canvas = new Mat(_inputSize, _inputSize, MatType.CV_8UC3, Scalar.All(0)))
        {
            using var region = canvas[new Rect(0, 0, width, height)];
            Cv2.Resize(frame, region, region.Size(), interpolation: InterpolationFlags.Linear);
            FaceTensors.FillChw(canvas, input, 127.5f, 1f / 128f);
        }

        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, [1, 3, _inputSize, _inputSize]);
        using var outputs = _model.Session.Run(_runOptions, [_inputName], [inputValue], _outputNames);
        var candidates = new List<DetectedFace>();
        for (var s = 0; s < Strides.Length; s++)
        {
            var (scores, boxes, keypoints) = _strideOutputs[s];
            DecodeStride(outputs[scores].GetTensorDataAsSpan<float>(), outputs[boxes].GetTensorDataAsSpan<float>(),
                keypoints >= 0 ? outputs[keypoints].GetTensorDataAsSpan<float>() : [],
                Strides[s], _inputSize, scale, minScore, candidates);
        }

        var kept = DetectedFace.Suppress(candidates, nmsIouThreshold);
        return [.. kept.Select(f => Clip(f, frame.Width, frame.Height))];
    }

    /// <summary>
    /// How a frame fits the square input keeping its aspect ratio, as InsightFace computes it: the longer side becomes
    /// the input size, the other is truncated to whole pixels, and <c>det_scale</c> is the resized height over the
    /// frame height.
    /// </summary>
    public static (float Scale, int Width, int Height) Letterbox(int frameWidth, int frameHeight, int inputSize)
    {
        var ratio = frameHeight / (double)frameWidth;
        var (width, height) = ratio > 1
            ? ((int)(inputSize / ratio), inputSize)
            : (inputSize, (int)(inputSize * ratio));
        width = Math.Clamp(width, 1, inputSize);
        height = Math.Clamp(height, 1, inputSize);
        return (height / (float)frameHeight, width, height);
    }

    /// <summary>
    /// Decodes one stride's outputs: anchor <c>k</c> sits at location <c>k / 2</c> of a row-major
    /// (input/stride)² grid, centre <c>(x * stride, y * stride)</c>; boxes and keypoints are divided by
    /// <paramref name="scale"/> to return to frame pixels.
    /// </summary>
    public static void DecodeStride(ReadOnlySpan<float> scores, ReadOnlySpan<float> distances, ReadOnlySpan<float> keypoints,
        int stride, int inputSize, float scale, float minScore, List<DetectedFace> into)
    {
        var gridWidth = inputSize / stride;
        for (var k = 0; k < scores.Length; k++)
        {
            var score = scores[k];
            if (!(score >= minScore))
            {
                continue;
            }

            var location = k / AnchorsPerLocation;
            var cx = location % gridWidth * stride;
            var cy = location / gridWidth * stride;
            var d = distances.Slice(k * 4, 4);
            Point2f[]? points = null;
            if (!keypoints.IsEmpty)
            {
                var p = keypoints.Slice(k * 10, 10);
                points = new Point2f[5];
                for (var i = 0; i < 5; i++)
                {
                    points[i] = new Point2f((cx + p[2 * i] * stride) / scale, (cy + p[2 * i + 1] * stride) / scale);
                }
            }

            into.Add(new DetectedFace(
                (cx - d[0] * stride) / scale, (cy - d[1] * stride) / scale,
                (cx + d[2] * stride) / scale, (cy + d[3] * stride) / scale,
                score, points));
        }
    }

    /// <summary>
    /// Which outputs hold what, from their shapes alone: score outputs end in 1, boxes in 4, keypoints in 10, and
    /// within each kind the order of the outputs is stride 8, 16, 32 (as InsightFace exports them).
    /// </summary>
    internal static (int Scores, int Boxes, int Keypoints)[] MapOutputs(IReadOnlyList<int> lastDimensions, string modelName)
    {
        var scores = Indexes(lastDimensions, 1);
        var boxes = Indexes(lastDimensions, 4);
        var keypoints = Indexes(lastDimensions, 10);
        if (scores.Count != Strides.Length || boxes.Count != Strides.Length || keypoints.Count is not (0 or 3))
        {
            throw new InvalidOperationException(
                $"{modelName} does not have the SCRFD layout: expected 3 score outputs [N,1], 3 box outputs [N,4] and 0 or 3 keypoint outputs [N,10]; got last dimensions [{string.Join(",", lastDimensions)}].");
        }

        return [.. Enumerable.Range(0, Strides.Length).Select(s => (scores[s], boxes[s], keypoints.Count > 0 ? keypoints[s] : -1))];
    }

    private static List<int> Indexes(IReadOnlyList<int> dims, int value) =>
        [.. Enumerable.Range(0, dims.Count).Where(i => dims[i] == value)];

    private static DetectedFace Clip(DetectedFace face, int width, int height) => face with
    {
        X1 = Math.Clamp(face.X1, 0, width),
        Y1 = Math.Clamp(face.Y1, 0, height),
        X2 = Math.Clamp(face.X2, 0, width),
        Y2 = Math.Clamp(face.Y2, 0, height),
    };
}
