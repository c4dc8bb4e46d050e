using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Detection;

/// <summary>
/// What every ONNX detector shares: a bounded number of concurrent runs (extra callers wait asynchronously, so a
/// burst cannot oversubscribe the cores or allocate unbounded buffers), a pool of per-call buffers reused across
/// requests, and the stage measurements.
/// </summary>
public abstract class OnnxDetector<TBuffers> : IObjectDetector, IDisposable
    where TBuffers : class, IDisposable
{
    private readonly ConcurrentBag<TBuffers> _pool = [];
    private readonly SemaphoreSlim _runs;
    private readonly InferenceTelemetry _telemetry;
    private readonly RunOptions _runOptions = new();

    protected OnnxDetector(OnnxModel model, IReadOnlyList<string> labels, int maxConcurrentRuns, InferenceTelemetry telemetry)
    {
        Model = model;
        Labels = labels;
        _telemetry = telemetry;
        _runs = new SemaphoreSlim(maxConcurrentRuns, maxConcurrentRuns);
    }

    public bool IsAvailable => true;

    public TaskModelInfo ModelInfo => Model.Info;

    public IReadOnlyList<string> Labels { get; }

    protected OnnxModel Model { get; }

    public async Task<IReadOnlyList<DetectedObject>> DetectAsync(Mat frame, float minConfidence, CancellationToken cancellationToken)
    {
        if (frame.Empty() || frame.Type() != MatType.CV_8UC3)
        {
            throw new ArgumentException("Expected a non-empty 8-bit BGR frame.", nameof(frame));
        }

        await _runs.WaitAsync(cancellationToken);
        var buffers = _pool.TryTake(out var pooled) ? pooled : CreateBuffers();
        try
        {
            using (_telemetry.Stage("preprocess"))
            {
                Preprocess(frame, buffers);
            }

            using (_telemetry.Stage("model"))
            {
                Run(buffers, _runOptions);
            }

            using (_telemetry.Stage("postprocess"))
            {
                return Postprocess(buffers, frame.Width, frame.Height, minConfidence);
            }
        }
        finally
        {
            _pool.Add(buffers);
            _runs.Release();
        }
    }

    /// <summary>The input tensor a frame becomes, copied out (lets tests check resizing, padding and channel order).</summary>
    internal float[] PreprocessToArray(Mat frame)
    {
        using var buffers = CreateBuffers();
        Preprocess(frame, buffers);
        return InputTensor(buffers).ToArray();
    }

    public void Dispose()
    {
        while (_pool.TryTake(out var buffers))
        {
            buffers.Dispose();
        }

        _runOptions.Dispose();
        _runs.Dispose();
        GC.SuppressFinalize(this);
    }

    protected abstract TBuffers CreateBuffers();

    protected abstract ReadOnlySpan<float> InputTensor(TBuffers buffers);

    /// <summary>Fills the input tensor of <paramref name="buffers"/> from the BGR frame (OpenCV operations only).</summary>
    protected abstract void Preprocess(Mat frame, TBuffers buffers);

    /// <summary>Runs the session on the buffers' input and output tensors.</summary>
    protected abstract void Run(TBuffers buffers, RunOptions runOptions);

    /// <summary>Decodes the output into detections in frame pixels, thresholded and NMS'd.</summary>
    protected abstract IReadOnlyList<DetectedObject> Postprocess(TBuffers buffers, int frameWidth, int frameHeight, float minConfidence);

    protected static float Clamp(float value, float max) => Math.Clamp(value, 0f, max);
}
