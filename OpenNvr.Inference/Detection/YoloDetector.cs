using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Detection;

/// <summary>
/// The Ultralytics YOLOv8/YOLO11 ONNX export layout: input <c>[1,3,S,S]</c> NCHW RGB 0..1 letterboxed (aspect kept,
/// grey 114 padding, centred); output <c>[1,4+nc,N]</c>, per candidate <c>cx,cy,w,h</c> in input pixels then nc class
/// scores (no objectness, no NMS in the graph). Decoding takes the best class per candidate, inverts the letterbox
/// and applies class-aware NMS.
/// </summary>
public sealed class YoloDetector : OnnxDetector<YoloDetector.Buffers>
{
    private const byte PadValue = 114;

    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly int _size;
    private readonly int _classes;
    private readonly int _candidates;
    private readonly float _nmsIouThreshold;

    public YoloDetector(OnnxModel model, IReadOnlyList<string>? labels, int defaultInputSize, float nmsIouThreshold, int maxConcurrentRuns, InferenceTelemetry telemetry)
        : base(model, ResolveLabels(model, labels), maxConcurrentRuns, telemetry)
    {
        var (inputName, input) = model.Session.InputMetadata.Single();
        var (outputName, output) = model.Session.OutputMetadata.First();
        var inDims = input.Dimensions;
        if (inDims.Length != 4 || inDims[1] != 3 || inDims[2] != inDims[3] && inDims[2] > 0 && inDims[3] > 0)
        {
            throw new InvalidOperationException($"{model.Name} does not have the YOLO input layout [1,3,S,S]: [{string.Join(",", inDims)}].");
        }

        var outDims = output.Dimensions;
        if (outDims.Length != 3 || outDims[1] <= 4 || outDims[2] <= 0)
        {
            throw new InvalidOperationException($"{model.Name} does not have the YOLO output layout [1,4+nc,N] with a fixed N: [{string.Join(",", outDims)}].");
        }

        _inputNames = [inputName];
        _outputNames = [outputName];
        _size = inDims[2] > 0 ? inDims[2] : defaultInputSize;
        _classes = outDims[1] - 4;
        _candidates = outDims[2];
        _nmsIouThreshold = nmsIouThreshold;
    }

    public int InputSize => _size;

    /// <summary>The letterbox of a frame: scale and the left/top padding in input pixels (Ultralytics' rounding).</summary>
    public static (float Scale, int PadLeft, int PadTop, int ResizedWidth, int ResizedHeight) Letterbox(int frameWidth, int frameHeight, int size)
    {
        var scale = Math.Min(size / (float)frameWidth, size / (float)frameHeight);
        var width = (int)MathF.Round(frameWidth * scale);
        var height = (int)MathF.Round(frameHeight * scale);
        var padLeft = (int)MathF.Round((size - width) / 2f - 0.1f);
        var padTop = (int)MathF.Round((size - height) / 2f - 0.1f);
        return (scale, padLeft, padTop, width, height);
    }

    protected override Buffers CreateBuffers() => new(_size, (4 + _classes) * _candidates, [1, 4 + _classes, _candidates]);

    protected override ReadOnlySpan<float> InputTensor(Buffers buffers) => buffers.Input;

    protected override void Preprocess(Mat frame, Buffers buffers)
    {
        var (_, padLeft, padTop, width, height) = Letterbox(frame.Width, frame.Height, _size);
        Cv2.Resize(frame, buffers.Resized, new Size(width, height), interpolation: InterpolationFlags.Linear);
        Cv2.CopyMakeBorder(buffers.Resized, buffers.Padded, padTop, _size - height - padTop, padLeft, _size - width - padLeft,
            BorderTypes.Constant, new Scalar(PadValue, PadValue, PadValue));
        buffers.Padded.ConvertTo(buffers.Scaled, MatType.CV_32FC3, 1.0 / 255);
        // Interleaved BGR to planar RGB, written straight into the pinned input tensor's three planes.
        Cv2.MixChannels([buffers.Scaled], buffers.Planes, [0, 2, 1, 1, 2, 0]);
    }

    protected override void Run(Buffers buffers, RunOptions runOptions) =>
        Model.Session.Run(runOptions, _inputNames, buffers.InputValues, _outputNames, buffers.OutputValues);

    protected override IReadOnlyList<DetectedObject> Postprocess(Buffers buffers, int frameWidth, int frameHeight, float minConfidence)
    {
        var (scale, padLeft, padTop, _, _) = Letterbox(frameWidth, frameHeight, _size);
        return Decode(buffers.Output, _classes, _candidates, Labels, scale, padLeft, padTop, frameWidth, frameHeight, minConfidence, _nmsIouThreshold);
    }

    /// <summary>Decodes a <c>[4+nc,N]</c> (channel-major) output into frame-pixel detections.</summary>
    public static List<DetectedObject> Decode(ReadOnlySpan<float> output, int classes, int candidates, IReadOnlyList<string> labels,
        float scale, int padLeft, int padTop, int frameWidth, int frameHeight, float minConfidence, float nmsIouThreshold)
    {
        var found = new List<DetectedObject>();
        for (var n = 0; n < candidates; n++)
        {
            var best = -1;
            var bestScore = minConfidence;
            for (var c = 0; c < classes; c++)
            {
                var score = output[(4 + c) * candidates + n];
                if (score >= bestScore)
                {
                    bestScore = score;
                    best = c;
                }
            }

            if (best < 0)
            {
                continue;
            }

            var cx = output[n];
            var cy = output[candidates + n];
            var w = output[2 * candidates + n];
            var h = output[3 * candidates + n];
            var x1 = Clamp((cx - w / 2 - padLeft) / scale, frameWidth);
            var y1 = Clamp((cy - h / 2 - padTop) / scale, frameHeight);
            var x2 = Clamp((cx + w / 2 - padLeft) / scale, frameWidth);
            var y2 = Clamp((cy + h / 2 - padTop) / scale, frameHeight);
            if (x2 - x1 >= 1 && y2 - y1 >= 1)
            {
                found.Add(new DetectedObject(best, labels[best], bestScore, x1, y1, x2, y2));
            }
        }

        return NonMaximumSuppression.Apply(found, nmsIouThreshold);
    }

    private static IReadOnlyList<string> ResolveLabels(OnnxModel model, IReadOnlyList<string>? labels)
    {
        var classes = model.Session.OutputMetadata.First().Value.Dimensions is [_, var channels, _] ? channels - 4 : 0;
        if (labels is not null)
        {
            return labels.Count == classes ? labels
                : throw new InvalidOperationException($"{model.Name} has {classes} classes but the labels file lists {labels.Count}.");
        }

        return classes == CocoLabels.All.Count ? CocoLabels.All : [.. Enumerable.Range(0, Math.Max(classes, 0)).Select(i => $"class_{i}")];
    }

    /// <summary>One concurrent call's buffers: the pinned planar input wrapped by three Mats and an ORT value, the output.</summary>
    public sealed class Buffers : IDisposable
    {
        internal float[] Input => _input;

        private readonly float[] _input;

        internal Buffers(int size, int outputLength, long[] outputShape)
        {
            _input = GC.AllocateArray<float>(3 * size * size, pinned: true);
            Output = GC.AllocateArray<float>(outputLength, pinned: true);
            // The array lives on the pinned object heap, so these plane addresses stay valid for the Mats' lifetime.
            var address = Marshal.UnsafeAddrOfPinnedArrayElement(_input, 0);
            var planeBytes = size * size * sizeof(float);
            Planes = [.. Enumerable.Range(0, 3).Select(c => Mat.FromPixelData(size, size, MatType.CV_32FC1, address + c * planeBytes))];

            InputValues = [OrtValue.CreateTensorValueFromMemory(_input, [1, 3, size, size])];
            OutputValues = [OrtValue.CreateTensorValueFromMemory(Output, outputShape)];
        }

        public Mat Resized { get; } = new();

        public Mat Padded { get; } = new();

        public Mat Scaled { get; } = new();

        public Mat[] Planes { get; }

        public float[] Output { get; }

        public OrtValue[] InputValues { get; }

        public OrtValue[] OutputValues { get; }

        public void Dispose()
        {
            Resized.Dispose();
            Padded.Dispose();
            Scaled.Dispose();
            foreach (var plane in Planes)
            {
                plane.Dispose();
            }

            foreach (var value in InputValues.Concat(OutputValues))
            {
                value.Dispose();
            }
        }
    }
}
