using Microsoft.Extensions.Options;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Detection;

/// <summary>Builds the configured detector (<c>Inference:Detector</c>) at start-up.</summary>
public static partial class ObjectDetectorFactory
{
    public static IObjectDetector Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<DetectorOptions>>().Value;
        var inference = services.GetRequiredService<IOptions<InferenceOptions>>().Value;
        var registry = services.GetRequiredService<OnnxModelRegistry>();
        var telemetry = services.GetRequiredService<InferenceTelemetry>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ObjectDetectorFactory));
        var maxRuns = inference.MaxConcurrentRuns > 0 ? inference.MaxConcurrentRuns : Environment.ProcessorCount;

        var model = registry.Get(options.Model);
        if (model is null)
        {
            return new UnavailableDetector(Path.GetFileName(options.Model));
        }

        try
        {
            IObjectDetector detector = options.Kind.ToLowerInvariant() switch
            {
                "centernet" => new CenterNetDetector(model, ReadLabels(options, registry) ?? CocoLabels.All, options.NmsIouThreshold, maxRuns, telemetry),
                "yolo" or "yolov8" or "yolo11" => new YoloDetector(model, ReadLabels(options, registry), options.InputSize, options.NmsIouThreshold, maxRuns, telemetry),
                _ => throw new InvalidOperationException($"Unknown detector kind '{options.Kind}' (Inference:Detector:Kind): use centernet or yolo."),
            };
            WarmUp(detector);
            LogDetectorReady(logger, options.Kind, model.Name, model.Device, detector.Labels.Count);
            return detector;
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            LogDetectorFailed(logger, ex, options.Kind, model.Name);
            return new UnavailableDetector(model.Name);
        }
    }

    private static IReadOnlyList<string>? ReadLabels(DetectorOptions options, OnnxModelRegistry registry)
    {
        if (string.IsNullOrWhiteSpace(options.Labels))
        {
            return null;
        }

        var path = Path.GetFullPath(Path.Combine(registry.Root, options.Labels));
        return [.. File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0)];
    }

    // The first run of a session allocates its arenas and is several times slower: pay that at start-up.
    private static void WarmUp(IObjectDetector detector)
    {
        using var frame = new Mat(64, 64, MatType.CV_8UC3, Scalar.All(127));
        detector.DetectAsync(frame, 1.1f, CancellationToken.None).GetAwaiter().GetResult();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Detector {Kind} ready with {Model} on {Device} ({Classes} classes)")]
    private static partial void LogDetectorReady(ILogger logger, string kind, string model, string device, int classes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Detector {Kind} could not use {Model}")]
    private static partial void LogDetectorFailed(ILogger logger, Exception exception, string kind, string model);

    private sealed class UnavailableDetector(string model) : IObjectDetector
    {
        public bool IsAvailable => false;

        public TaskModelInfo ModelInfo { get; } = new(model, "onnxruntime", "none");

        public IReadOnlyList<string> Labels => [];

        public Task<IReadOnlyList<DetectedObject>> DetectAsync(Mat frame, float minConfidence, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"The detector model {model} is not loaded.");
    }
}
