using Microsoft.Extensions.Options;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Telemetry;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// Builds the <see cref="FaceAnalyzer"/> from <c>Faces:*</c> at start-up. A missing or unsuitable model is logged
/// and leaves its part out: the tasks that need it are then not offered, the others still are.
/// </summary>
public static partial class FaceAnalyzerFactory
{
    public static FaceAnalyzer Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<FacesOptions>>().Value;
        var inference = services.GetRequiredService<IOptions<InferenceOptions>>().Value;
        var registry = services.GetRequiredService<OnnxModelRegistry>();
        var telemetry = services.GetRequiredService<InferenceTelemetry>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(FaceAnalyzerFactory));
        var maxRuns = inference.MaxConcurrentRuns > 0 ? inference.MaxConcurrentRuns : Environment.ProcessorCount;

        if (!options.IsScrfd && !string.Equals(options.Detector, "ultraface", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Unknown face detector '{options.Detector}' (Faces:Detector): use ultraface or scrfd.");
        }

        if (!options.IsArcFace && !string.Equals(options.Embedder, "bundled", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Unknown face embedder '{options.Embedder}' (Faces:Embedder): use bundled or arcface.");
        }

        var detector = Build<IFaceDetector>(registry, options.ResolvedDetectorModel, logger,
            m => options.IsScrfd ? new ScrfdDetector(m) : new UltraFaceDetector(m));
        var landmarker = detector is { ProvidesLandmarks: true }
            ? null
            : Build(registry, options.LandmarkModel, logger, m => new FaceLandmarker(m));
        var embedder = Build<IFaceEmbedder>(registry, options.ResolvedEmbedderModel, logger,
            m => options.IsArcFace ? new ArcFaceEmbedder(m) : new BundledFaceEmbedder(m));
        var attributes = new AgeGenderEstimator(
            Build(registry, options.AgeModel, logger, m => m),
            Build(registry, options.GenderModel, logger, m => m));

        var analyzer = new FaceAnalyzer(detector, landmarker, embedder, attributes, options, telemetry, maxRuns);
        if (analyzer.CanDetect)
        {
            WarmUp(analyzer);
        }

        LogFacesReady(logger, options.Detector, detector?.ModelName ?? "none", options.Embedder, embedder?.ModelName ?? "none",
            analyzer.CanDetect, analyzer.CanEmbed, attributes.HasAge, attributes.HasGender);
        return analyzer;
    }

    private static T? Build<T>(OnnxModelRegistry registry, string path, ILogger logger, Func<OnnxModel, T> create)
        where T : class
    {
        var model = registry.Get(path);
        if (model is null)
        {
            return null;
        }

        try
        {
            return create(model);
        }
        catch (InvalidOperationException ex)
        {
            LogModelUnsuitable(logger, ex, model.Name);
            return null;
        }
    }

    // First runs allocate ORT arenas: pay that at start-up rather than on the first request.
    private static void WarmUp(FaceAnalyzer analyzer)
    {
        using var frame = new OpenCvSharp.Mat(120, 160, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(127));
        analyzer.Detect(frame);
        if (analyzer.CanEmbed)
        {
            analyzer.Embed(frame, FaceAlignment.ArcFaceTemplate);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Faces: detector {Detector} ({DetectorModel}), embedder {Embedder} ({EmbedderModel}); detect {CanDetect}, embed {CanEmbed}, age {HasAge}, gender {HasGender}")]
    private static partial void LogFacesReady(ILogger logger, string detector, string detectorModel, string embedder, string embedderModel, bool canDetect, bool canEmbed, bool hasAge, bool hasGender);

    [LoggerMessage(Level = LogLevel.Error, Message = "Face model {Model} cannot be used")]
    private static partial void LogModelUnsuitable(ILogger logger, Exception exception, string model);
}
