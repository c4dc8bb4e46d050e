using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenCvSharp;
using OpenNvr.Inference.Detection;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// The bundled models loaded in-process through Inference's own classes (no web host): the CenterNet person
/// detector and the UltraFace face detector with the service's default settings.
/// </summary>
public sealed class LocalModels : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly OnnxModelRegistry _registry;

    public LocalModels()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _registry = new OnnxModelRegistry(Options.Create(new InferenceOptions()), Options.Create(new ModelsOptions { Root = RepositoryPaths.Models() }),
            NullLogger<OnnxModelRegistry>.Instance);
        Detector = new CenterNetDetector(_registry.Get("centernet.onnx")!, CocoLabels.All, Defaults.NmsIouThreshold, 1,
            new InferenceTelemetry(_services.GetRequiredService<IMeterFactory>()));
        FaceDetector = new UltraFaceDetector(_registry.Get(Faces.ResolvedDetectorModel)!);
    }

    public static DetectorOptions Defaults { get; } = new();

    public static FacesOptions Faces { get; } = new();

    public CenterNetDetector Detector { get; }

    public UltraFaceDetector FaceDetector { get; }

    /// <summary>Person boxes at Inference's default person threshold, highest confidence first.</summary>
    public IReadOnlyList<DetectedObject> People(Mat image, float? threshold = null) =>
        [.. Detector.DetectAsync(image, threshold ?? Defaults.PersonThreshold, CancellationToken.None).GetAwaiter().GetResult()
            .Where(d => d.ClassId == CocoLabels.Person)];

    /// <summary>Faces as the face tasks see them: default score threshold, NMS and minimum size.</summary>
    public IReadOnlyList<DetectedFace> FacesIn(Mat image) =>
        [.. FaceDetector.Detect(image, Faces.DetectionThreshold, Faces.NmsIouThreshold).Where(f => Math.Min(f.Width, f.Height) >= Faces.MinFaceSize)];

    public void Dispose()
    {
        Detector.Dispose();
        _registry.Dispose();
        _services.Dispose();
    }
}
