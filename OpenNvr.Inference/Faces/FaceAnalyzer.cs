using OpenCvSharp;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Faces;

/// <summary>What to compute for each face besides its box and landmarks.</summary>
[Flags]
public enum FaceAnalysis
{
    None = 0,
    Embedding = 1,
    AgeGender = 2,
    /// <summary>Only the largest face (by box area) is analysed.</summary>
    LargestOnly = 4,
}

/// <summary>A face with its five landmarks and whatever else was asked for.</summary>
public sealed record AnalyzedFace(DetectedFace Box, Point2f[] Landmarks, float[]? Embedding, double? Age, double? Male);

/// <summary>
/// The face pipeline: detect, five landmarks (from the detector, or the 68-point model), similarity alignment onto
/// the ArcFace template, embedding, and age/gender. Each step is a span and a sample of
/// <c>opennvr.inference.duration</c> (stages <c>face.detect</c>, <c>face.landmarks</c>, <c>face.align</c>,
/// <c>face.embed</c>, <c>face.attributes</c>). Model runs are bounded (<c>Inference:MaxConcurrentRuns</c>).
/// </summary>
public sealed class FaceAnalyzer : IDisposable
{
    private readonly IFaceDetector? _detector;
    private readonly FaceLandmarker? _landmarker;
    private readonly IFaceEmbedder? _embedder;
    private readonly AgeGenderEstimator _attributes;
    private readonly FacesOptions _options;
    private readonly InferenceTelemetry _telemetry;
    private readonly SemaphoreSlim _runs;

    public FaceAnalyzer(IFaceDetector? detector, FaceLandmarker? landmarker, IFaceEmbedder? embedder, AgeGenderEstimator attributes,
        FacesOptions options, InferenceTelemetry telemetry, int maxConcurrentRuns)
    {
        _detector = detector;
        _landmarker = landmarker;
        _embedder = embedder;
        _attributes = attributes;
        _options = options;
        _telemetry = telemetry;
        _runs = new SemaphoreSlim(maxConcurrentRuns, maxConcurrentRuns);
    }

    /// <summary>Faces can be found with their landmarks (<c>face_detection</c>).</summary>
    public bool CanDetect => _detector is not null && (_detector.ProvidesLandmarks || _landmarker is not null);

    /// <summary>Faces can be embedded (recognition, verification, the registry).</summary>
    public bool CanEmbed => CanDetect && _embedder is not null;

    public IFaceEmbedder? Embedder => _embedder;

    public FacesOptions Options => _options;

    /// <summary>Model files in use, for <c>model_info</c>: detector, landmarks, then what <paramref name="analysis"/> adds.</summary>
    public string ModelNames(FaceAnalysis analysis)
    {
        var names = new List<string?> { _detector?.ModelName, _detector?.ProvidesLandmarks == true ? null : _landmarker?.ModelName };
        if (analysis.HasFlag(FaceAnalysis.Embedding))
        {
            names.Add(_embedder?.ModelName);
        }

        if (analysis.HasFlag(FaceAnalysis.AgeGender))
        {
            names.Add(_attributes.AgeModelName);
            names.Add(_attributes.GenderModelName);
        }

        return string.Join("+", names.Where(n => n is not null));
    }

    public async Task<IReadOnlyList<AnalyzedFace>> AnalyzeAsync(Mat frame, FaceAnalysis analysis, CancellationToken cancellationToken)
    {
        if (!CanDetect || (analysis.HasFlag(FaceAnalysis.Embedding) && !CanEmbed))
        {
            throw new InvalidOperationException("The face models are not loaded.");
        }

        await _runs.WaitAsync(cancellationToken);
        try
        {
            return Analyze(frame, analysis);
        }
        finally
        {
            _runs.Release();
        }
    }

    /// <summary>The synchronous pipeline (callers bound concurrency; the bench calls it directly).</summary>
    public IReadOnlyList<AnalyzedFace> Analyze(Mat frame, FaceAnalysis analysis)
    {
        if (frame.Empty() || frame.Type() != MatType.CV_8UC3)
        {
            throw new ArgumentException("Expected a non-empty 8-bit BGR frame.", nameof(frame));
        }

        var faces = Detect(frame);
        if (analysis.HasFlag(FaceAnalysis.LargestOnly) && faces.Count > 1)
        {
            faces = [faces[0]];
        }

        var results = new List<AnalyzedFace>(faces.Count);
        foreach (var face in faces)
        {
            Point2f[] landmarks;
            using (_telemetry.Stage("face.landmarks"))
            {
                landmarks = face.Landmarks ?? FaceLandmarker.ToFivePoints(_landmarker!.Detect68(frame, face));
            }

            float[]? embedding = null;
            if (analysis.HasFlag(FaceAnalysis.Embedding))
            {
                embedding = Embed(frame, landmarks);
            }

            double? age = null, male = null;
            if (analysis.HasFlag(FaceAnalysis.AgeGender))
            {
                using (_telemetry.Stage("face.attributes"))
                {
                    (age, male) = _attributes.Estimate(frame, face);
                }
            }

            results.Add(new AnalyzedFace(face, landmarks, embedding, age, male));
        }

        return results;
    }

    /// <summary>Detected faces at least <see cref="FacesOptions.MinFaceSize"/>, largest first, at most <see cref="FacesOptions.MaxFacesPerFrame"/>.</summary>
    public List<DetectedFace> Detect(Mat frame)
    {
        using (_telemetry.Stage("face.detect"))
        {
            return [.. _detector!.Detect(frame, _options.DetectionThreshold, _options.NmsIouThreshold)
                .Where(f => Math.Min(f.Width, f.Height) >= _options.MinFaceSize)
                .OrderByDescending(f => f.Area)
                .Take(_options.MaxFacesPerFrame)];
        }
    }

    public float[] Embed(Mat frame, ReadOnlySpan<Point2f> landmarks)
    {
        Mat aligned;
        using (_telemetry.Stage("face.align"))
        {
            aligned = FaceAlignment.Align(frame, landmarks);
        }

        using (aligned)
        using (_telemetry.Stage("face.embed"))
        {
            return _embedder!.Embed(aligned);
        }
    }

    public void Dispose() => _runs.Dispose();
}
