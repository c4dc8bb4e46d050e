using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Detection;

/// <summary>
/// The bundled CenterNet (MobileNetV3, COCO-80): input <c>[1,512,512,3]</c> NHWC RGB 0..255, the frame stretched to
/// 512x512; output <c>[1,100,6]</c> rows of <c>x1,y1,x2,y2</c> (512 space), score, class.
/// </summary>
public sealed class CenterNetDetector : OnnxDetector<CenterNetDetector.Buffers>
{
    public const int InputSize = 512;
    private const int Channels = 3;
    private const int RowLength = 6;

    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly int _maxDetections;
    private readonly float _nmsIouThreshold;

    public CenterNetDetector(OnnxModel model, IReadOnlyList<string> labels, float nmsIouThreshold, int maxConcurrentRuns, InferenceTelemetry telemetry)
        : base(model, labels, maxConcurrentRuns, telemetry)
    {
        var (inputName, input) = model.Session.InputMetadata.Single();
        var (outputName, output) = model.Session.OutputMetadata.First();
        if (!input.Dimensions.SequenceEqual([1, InputSize, InputSize, Channels]) || output.Dimensions.Length != 3 || output.Dimensions[2] != RowLength || output.Dimensions[1] <= 0)
        {
            throw new InvalidOperationException(
                $"{model.Name} does not have the CenterNet layout: input [{string.Join(",", input.Dimensions)}] (expected [1,512,512,3]), output [{string.Join(",", output.Dimensions)}] (expected [1,N,6]).");
        }

        _inputNames = [inputName];
        _outputNames = [outputName];
        _maxDetections = output.Dimensions[1];
        _nmsIouThreshold = nmsIouThreshold;
    }

    protected override Buffers CreateBuffers() => new(_maxDetections);

    protected override ReadOnlySpan<float> InputTensor(Buffers buffers) => buffers.Input;

    protected override void Preprocess(Mat frame, Buffers buffers)
    {
        Cv2.Resize(frame, buffers.Resized, new Size(InputSize, InputSize), interpolation: InterpolationFlags.Linear);
        Cv2.CvtColor(buffers.Resized, buffers.Rgb, ColorConversionCodes.BGR2RGB);
        // Writes straight into the pinned array the input tensor wraps: no copy into the tensor afterwards.
        buffers.Rgb.ConvertTo(buffers.InputMat, MatType.CV_32FC3);
    }

    protected override void Run(Buffers buffers, RunOptions runOptions) =>
        Model.Session.Run(runOptions, _inputNames, buffers.InputValues, _outputNames, buffers.OutputValues);

    protected override IReadOnlyList<DetectedObject> Postprocess(Buffers buffers, int frameWidth, int frameHeight, float minConfidence)
    {
        var rows = buffers.Output.AsSpan();
        var scaleX = frameWidth / (float)InputSize;
        var scaleY = frameHeight / (float)InputSize;
        var candidates = new List<DetectedObject>();
        for (var i = 0; i < _maxDetections; i++)
        {
            var row = rows.Slice(i * RowLength, RowLength);
            var score = row[4];
            var classId = (int)MathF.Round(row[5]);
            if (!(score >= minConfidence) || classId < 0 || classId >= Labels.Count)
            {
                continue;
            }

            var x1 = Clamp(row[0] * scaleX, frameWidth);
            var y1 = Clamp(row[1] * scaleY, frameHeight);
            var x2 = Clamp(row[2] * scaleX, frameWidth);
            var y2 = Clamp(row[3] * scaleY, frameHeight);
            if (x2 - x1 >= 1 && y2 - y1 >= 1)
            {
                candidates.Add(new DetectedObject(classId, Labels[classId], score, x1, y1, x2, y2));
            }
        }

        return NonMaximumSuppression.Apply(candidates, _nmsIouThreshold);
    }

    /// <summary>One concurrent call's buffers: pinned input/output arrays wrapped by ORT values and an OpenCV Mat.</summary>
    public sealed class Buffers : IDisposable
    {
        internal float[] Input => _input;

        private readonly float[] _input = GC.AllocateArray<float>(InputSize * InputSize * Channels, pinned: true);

        internal Buffers(int maxDetections)
        {
            Output = GC.AllocateArray<float>(maxDetections * RowLength, pinned: true);
            // The array lives on the pinned object heap, so this address stays valid for the Mat's lifetime.
            InputMat = Mat.FromPixelData(InputSize, InputSize, MatType.CV_32FC3, Marshal.UnsafeAddrOfPinnedArrayElement(_input, 0));

            InputValues = [OrtValue.CreateTensorValueFromMemory(_input, [1, InputSize, InputSize, Channels])];
            OutputValues = [OrtValue.CreateTensorValueFromMemory(Output, [1, maxDetections, RowLength])];
        }

        public Mat Resized { get; } = new();

        public Mat Rgb { get; } = new();

        public Mat InputMat { get; }

        public float[] Output { get; }

        public OrtValue[] InputValues { get; }

        public OrtValue[] OutputValues { get; }

        public void Dispose()
        {
            Resized.Dispose();
            Rgb.Dispose();
            InputMat.Dispose();
            foreach (var value in InputValues.Concat(OutputValues))
            {
                value.Dispose();
            }
        }
    }
}
