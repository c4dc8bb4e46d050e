using System.Diagnostics;
using System.Globalization;
using OpenCvSharp;
using OpenNvr.Inference.Annotation;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Faces;

/// <summary>What the face tasks share: frame loading, the pipeline, the 422 for a frame without a face.</summary>
public abstract class FaceTask(IFrameSource frames, FaceAnalyzer analyzer, OnnxModelRegistry models) : IInferenceTask
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract Type ResponseType { get; }

    public virtual bool IsAvailable => analyzer.CanEmbed;

    public TaskModelInfo ModelInfo => new(analyzer.ModelNames(Analysis), "onnxruntime", models.Loaded.FirstOrDefault()?.Device ?? "cpu");

    protected FaceAnalyzer Analyzer => analyzer;

    protected virtual FaceAnalysis Analysis => FaceAnalysis.Embedding | FaceAnalysis.LargestOnly;

    public abstract Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken);

    /// <summary>The analysed faces of <c>input.&lt;field&gt;</c>.</summary>
    protected async Task<IReadOnlyList<AnalyzedFace>> AnalyzeAsync(InferenceRequest request, string field, CancellationToken cancellationToken)
    {
        using var frame = await LoadAsync(request, field, cancellationToken);
        return await AnalyzeAsync(request, field, frame, cancellationToken);
    }

    /// <summary>
    /// The analysed faces of <c>input.&lt;field&gt;</c> once loaded: the one place every face task analyses a frame,
    /// whether it keeps the frame afterwards (to draw on it) or not. For <c>input.frame</c>, within
    /// <c>input.region</c> when given (<see cref="FaceRegion"/>); boxes stay in pixels of the whole frame, so they are drawn
    /// where they are.
    /// </summary>
    protected async Task<IReadOnlyList<AnalyzedFace>> AnalyzeAsync(InferenceRequest request, string field, DecodedFrame frame, CancellationToken cancellationToken)
    {
        var region = field == "frame" ? FaceRegion.Read(request) : null;
        if (region is null)
        {
            return await analyzer.AnalyzeAsync(frame.Image, Analysis, cancellationToken);
        }

        var crop = region.ClipTo(frame.Width, frame.Height);
        // A copy, not a view: the detectors and the alignment expect a continuous image.
        using var part = new Mat(frame.Image, crop).Clone();
        var faces = await analyzer.AnalyzeAsync(part, Analysis, cancellationToken);
        return [.. faces.Select(f => FaceRegion.ToFrame(f, crop))];
    }

    /// <summary>The frame of <c>input.&lt;field&gt;</c>, for a task that draws on it afterwards (the caller disposes it).</summary>
    protected Task<DecodedFrame> LoadAsync(InferenceRequest request, string field, CancellationToken cancellationToken) =>
        frames.LoadAsync(request.GetFrameUri(field), cancellationToken);

    /// <summary>A face as the annotated image shows it.</summary>
    protected static AnnotationBox FaceBox(AnalyzedFace face, string label, BoxStyle style) =>
        AnnotationBox.FromXyxy(face.Box.ToXyxy(), label, style);

    protected static InferenceProblemException NoFace(InferenceRequest request, string field) =>
        new(StatusCodes.Status422UnprocessableEntity, "No face found",
            $"No face was found in input.{field} ({Shorten(request.GetFrameUri(field))}).");

    /// <summary><c>input.threshold</c> in (0, 1], or <paramref name="fallback"/>.</summary>
    protected static float Threshold(InferenceRequest request, float fallback)
    {
        var value = request.GetOptionalNumber("threshold", 0, 1);
        if (value is 0)
        {
            throw InferenceProblemException.BadRequest("input.threshold must be greater than 0 and at most 1.");
        }

        return (float)(value ?? fallback);
    }

    protected static double Round(double value) => Math.Round(value, 4);

    private static string Shorten(string value) => value.Length <= 120 ? value : value[..120] + "...";
}

public sealed class FaceDetectionTask(IFrameSource frames, FaceAnalyzer analyzer, OnnxModelRegistry models, FrameAnnotator annotator) : FaceTask(frames, analyzer, models)
{
    public override string Name => "face_detection";

    public override string Description => "Every face in the frame: [x1, y1, x2, y2] box, confidence, five landmarks, estimated age and gender.";

    public override Type ResponseType => typeof(FaceDetectionResponse);

    public override bool IsAvailable => Analyzer.CanDetect;

    protected override FaceAnalysis Analysis => FaceAnalysis.AgeGender;

    public override async Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        FrameAnnotator.IsRequested(request);
        using var frame = await LoadAsync(request, "frame", cancellationToken);
        var faces = await AnalyzeAsync(request, "frame", frame, cancellationToken);
        var response = new FaceDetectionResponse
        {
            Faces = [.. faces.OrderByDescending(f => f.Box.Score).Select(f => new FaceDetectionItem
            {
                Bbox = f.Box.ToXyxy(),
                Confidence = Round(f.Box.Score),
                Landmarks = [.. f.Landmarks.Select(p => new[] { Math.Round(p.X, 1), Math.Round(p.Y, 1) })],
                Age = f.Age is { } age ? (int)Math.Round(Math.Clamp(age, 0, 100)) : null,
                Gender = f.Male is { } male ? (male >= 0.5 ? "M" : "F") : null,
            })],
            FaceCount = faces.Count,
            ExecutedAt = request.ExecutedAtUnixMs,
            LatencyMs = request.ElapsedMilliseconds,
        };
        var boxes = response.Faces.Select(f => AnnotationBox.FromXyxy(f.Bbox,
            string.Join(' ', new[] { "face", BoxPainter.Score(f.Confidence), f.Gender, f.Age?.ToString(CultureInfo.InvariantCulture) }.OfType<string>()), BoxStyle.Face)).ToList();
        return await annotator.AnnotateAsync(request, frame, response, boxes, cancellationToken);
    }
}

public sealed class FaceEmbeddingTask(IFrameSource frames, FaceAnalyzer analyzer, OnnxModelRegistry models) : FaceTask(frames, analyzer, models)
{
    public override string Name => "face_embedding";

    public override string Description => "The L2-normalised embedding of the largest face (aligned to the ArcFace template), for comparison by cosine similarity.";

    public override Type ResponseType => typeof(FaceEmbeddingResponse);

    public override async Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var faces = await AnalyzeAsync(request, "frame", cancellationToken);
        var face = faces.Count > 0 ? faces[0] : throw NoFace(request, "frame");
        return new FaceEmbeddingResponse
        {
            Embedding = face.Embedding!,
            FaceBbox = face.Box.ToXyxy(),
            EmbeddingSize = face.Embedding!.Length,
            LatencyMs = request.ElapsedMilliseconds,
        };
    }
}

public sealed class FaceRecognitionTask(IFrameSource frames, FaceAnalyzer analyzer, OnnxModelRegistry models, FaceRegistry registry, FacesMetrics metrics, FrameAnnotator annotator)
    : FaceTask(frames, analyzer, models)
{
    public override string Name => "face_recognition";

    public override string Description => "Who the largest face is among the registered identities (cosine similarity at least input.threshold, default Faces:MatchThreshold).";

    public override Type ResponseType => typeof(FaceRecognitionResponse);

    public override async Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var threshold = Threshold(request, Analyzer.Options.MatchThreshold);
        FrameAnnotator.IsRequested(request);
        using var frame = await LoadAsync(request, "frame", cancellationToken);
        var faces = await AnalyzeAsync(request, "frame", frame, cancellationToken);
        var response = Recognize(request, faces, threshold);
        AnnotationBox[] boxes = faces.Count == 0 ? []
            : response.Recognized
                ? [FaceBox(faces[0], $"{response.Name} {BoxPainter.Score(response.Similarity ?? 0)}",
                    response.Category == FaceCategories.Watchlist ? BoxStyle.WatchlistHit : BoxStyle.KnownFace)]
                : [FaceBox(faces[0], "unknown", BoxStyle.Face)];
        return await annotator.AnnotateAsync(request, frame, response, boxes, cancellationToken);
    }

    private FaceRecognitionResponse Recognize(InferenceRequest request, IReadOnlyList<AnalyzedFace> faces, float threshold)
    {
        if (faces.Count == 0)
        {
            return new FaceRecognitionResponse { Recognized = false, Message = "No face found in the frame.", LatencyMs = request.ElapsedMilliseconds };
        }

        var face = faces[0];
        var started = Stopwatch.GetTimestamp();
        var matches = registry.Index.Search(face.Embedding, threshold, limit: 1);
        metrics.Search(Stopwatch.GetElapsedTime(started).TotalMilliseconds, Name);
        if (matches.Count == 0)
        {
            return new FaceRecognitionResponse
            {
                Recognized = false,
                Message = registry.Index.IdentityCount == 0
                    ? "No identity is registered."
                    : $"The face matches no registered identity at similarity {threshold.ToString("0.###", CultureInfo.InvariantCulture)} or above.",
                LatencyMs = request.ElapsedMilliseconds,
            };
        }

        var match = matches[0];
        return new FaceRecognitionResponse
        {
            Recognized = true,
            PersonId = match.Identity.PersonId,
            Name = match.Identity.Name,
            Category = match.Identity.Category,
            Similarity = Round(match.Similarity),
            FaceBbox = face.Box.ToXyxy(),
            LatencyMs = request.ElapsedMilliseconds,
        };
    }
}

public sealed class FaceVerifyTask(IFrameSource frames, FaceAnalyzer analyzer, OnnxModelRegistry models) : FaceTask(frames, analyzer, models)
{
    public override string Name => "face_verify";

    public override string Description => "Whether the largest faces of input.frame1 and input.frame2 are the same person (cosine similarity at least input.threshold, default Faces:MatchThreshold).";

    public override Type ResponseType => typeof(FaceVerifyResponse);

    public override async Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var threshold = Threshold(request, Analyzer.Options.MatchThreshold);
        // Both URIs are validated before either frame is read.
        request.GetFrameUri("frame1");
        request.GetFrameUri("frame2");
        var first = await AnalyzeAsync(request, "frame1", cancellationToken);
        var face1 = first.Count > 0 ? first[0] : throw NoFace(request, "frame1");
        var second = await AnalyzeAsync(request, "frame2", cancellationToken);
        var face2 = second.Count > 0 ? second[0] : throw NoFace(request, "frame2");
        var similarity = FaceIndex.Dot(face1.Embedding, face2.Embedding);
        return new FaceVerifyResponse
        {
            IsSamePerson = similarity >= threshold,
            Similarity = Round(similarity),
            Threshold = Round(threshold),
            Face1Bbox = face1.Box.ToXyxy(),
            Face2Bbox = face2.Box.ToXyxy(),
            LatencyMs = request.ElapsedMilliseconds,
        };
    }
}

public sealed class WatchlistCheckTask(IFrameSource frames, FaceAnalyzer analyzer, OnnxModelRegistry models, FaceRegistry registry, FacesMetrics metrics, FrameAnnotator annotator)
    : FaceTask(frames, analyzer, models)
{
    public override string Name => "watchlist_check";

    public override string Description => "Whether the largest face matches identities of category 'watchlist' (cosine similarity at least input.threshold, default Faces:WatchlistThreshold).";

    public override Type ResponseType => typeof(WatchlistCheckResponse);

    public override async Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var threshold = Threshold(request, Analyzer.Options.WatchlistThreshold);
        FrameAnnotator.IsRequested(request);
        using var frame = await LoadAsync(request, "frame", cancellationToken);
        var faces = await AnalyzeAsync(request, "frame", frame, cancellationToken);
        var response = Check(request, faces, threshold);
        AnnotationBox[] boxes = faces.Count == 0 ? []
            : response.Matches is [var best, ..]
                ? [FaceBox(faces[0], $"WATCHLIST {best.Name} {BoxPainter.Score(best.Similarity)}", BoxStyle.WatchlistHit)]
                : [FaceBox(faces[0], "no watchlist match", BoxStyle.Face)];
        return await annotator.AnnotateAsync(request, frame, response, boxes, cancellationToken);
    }

    private WatchlistCheckResponse Check(InferenceRequest request, IReadOnlyList<AnalyzedFace> faces, float threshold)
    {
        if (faces.Count == 0)
        {
            return new WatchlistCheckResponse { IsOnWatchlist = false, Matches = [], FaceBbox = null, LatencyMs = request.ElapsedMilliseconds };
        }

        var face = faces[0];
        var started = Stopwatch.GetTimestamp();
        var matches = registry.Index.Search(face.Embedding, threshold, FaceCategories.Watchlist, limit: 10);
        metrics.Search(Stopwatch.GetElapsedTime(started).TotalMilliseconds, Name);
        return new WatchlistCheckResponse
        {
            IsOnWatchlist = matches.Count > 0,
            Matches = [.. matches.Select(m => new WatchlistMatch
            {
                PersonId = m.Identity.PersonId, Name = m.Identity.Name, Category = m.Identity.Category, Similarity = Round(m.Similarity),
            })],
            FaceBbox = face.Box.ToXyxy(),
            LatencyMs = request.ElapsedMilliseconds,
        };
    }
}
