using Microsoft.Extensions.Options;
using OpenNvr.Inference.Annotation;
using OpenNvr.Inference.Detection;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Frames;

namespace OpenNvr.Inference.Tasks;

/// <summary>
/// What the detection tasks share: load the frame, run the configured detector, round the numbers, and on request
/// (<c>input.options.annotate</c>) draw the response's boxes on the frame (<see cref="FrameAnnotator"/>).
/// </summary>
public abstract class DetectionTask(IFrameSource frames, IObjectDetector detector, FrameAnnotator annotator) : IInferenceTask
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract Type ResponseType { get; }

    public bool IsAvailable => detector.IsAvailable;

    public TaskModelInfo ModelInfo => detector.ModelInfo;

    public async Task<object> RunAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        var annotate = FrameAnnotator.IsRequested(request);
        var uri = request.GetFrameUri();
        using var frame = await frames.LoadAsync(uri, cancellationToken);
        var detections = await detector.DetectAsync(frame.Image, MinConfidence, cancellationToken);
        var response = CreateResponse(request, detections, frame.Image);
        return annotate && response is IAnnotatedResponse annotated
            ? await annotator.AnnotateAsync(request, frame, annotated, AnnotationBoxes(response), cancellationToken)
            : response;
    }

    /// <summary>What the annotated image shows: the boxes of <paramref name="response"/>, as the JSON reports them.</summary>
    protected abstract IReadOnlyList<AnnotationBox> AnnotationBoxes(object response);

    /// <summary>A person's box as drawn: a body box, or (face fusion) a person counted from a face alone, dashed.</summary>
    protected static AnnotationBox PersonBox(int[] ltwh, double confidence, string? source) => source == "face"
        ? AnnotationBox.FromLtwh(ltwh, $"person (face) {BoxPainter.Score(confidence)}", BoxStyle.FusedFromFace)
        : AnnotationBox.FromLtwh(ltwh, $"person {BoxPainter.Score(confidence)}", BoxStyle.Body);

    /// <summary>The response; tasks that look at the frame again (face fusion) override this one.</summary>
    protected virtual object CreateResponse(InferenceRequest request, IReadOnlyList<DetectedObject> detections, OpenCvSharp.Mat image) =>
        CreateResponse(request, detections);

    protected abstract float MinConfidence { get; }

    protected abstract object CreateResponse(InferenceRequest request, IReadOnlyList<DetectedObject> detections);

    protected static double Round(float confidence) => Math.Round(confidence, 4);
}

public sealed class PersonDetectionTask(IFrameSource frames, IObjectDetector detector, IOptions<DetectorOptions> options, FaceAnalyzer faces, FrameAnnotator annotator)
    : DetectionTask(frames, detector, annotator)
{
    public override string Name => "person_detection";

    public override string Description => "The most confident person in the frame: label, confidence and [left, top, width, height] box.";

    public override Type ResponseType => typeof(PersonDetectionResponse);

    protected override float MinConfidence => options.Value.PersonThreshold;

    protected override object CreateResponse(InferenceRequest request, IReadOnlyList<DetectedObject> detections) =>
        throw new InvalidOperationException("person_detection answers from the frame (face fusion).");

    protected override object CreateResponse(InferenceRequest request, IReadOnlyList<DetectedObject> detections, OpenCvSharp.Mat image)
    {
        // Detections come highest confidence first: the best body, else (fusion on) the best face of someone whose body was missed.
        var bodies = detections.Where(d => d.ClassId == CocoLabels.Person).ToList();
        var best = bodies.Count > 0 || !PersonFusion.Enabled(request, options.Value, faces)
            ? bodies.Take(1).Select(b => new FusedPerson(b.X1, b.Y1, b.X2, b.Y2, b.Confidence, PersonSource.Body, null)).FirstOrDefault()
            : PersonFusion.Fuse(bodies, image, faces).FirstOrDefault();
        return new PersonDetectionResponse
        {
            Label = "person",
            Confidence = best is null ? 0.0 : Round(best.Confidence),
            Bbox = best?.ToLtwh() ?? [0, 0, 0, 0],
            Source = best is null ? null : PersonFusion.SourceName(best.Source),
            ExecutedAt = request.ExecutedAtUnixMs,
            LatencyMs = request.ElapsedMilliseconds,
        };
    }

    protected override IReadOnlyList<AnnotationBox> AnnotationBoxes(object response) =>
        response is PersonDetectionResponse { Source: not null } best ? [PersonBox(best.Bbox, best.Confidence, best.Source)] : [];
}

public sealed class PersonCountingTask(IFrameSource frames, IObjectDetector detector, IOptions<DetectorOptions> options, FaceAnalyzer faces, FrameAnnotator annotator)
    : DetectionTask(frames, detector, annotator)
{
    public override string Name => "person_counting";

    public override string Description => "Counts the people in the frame, with each person's [left, top, width, height] box and confidence.";

    public override Type ResponseType => typeof(PersonCountingResponse);

    protected override float MinConfidence => options.Value.PersonThreshold;

    protected override object CreateResponse(InferenceRequest request, IReadOnlyList<DetectedObject> detections) =>
        throw new InvalidOperationException("person_counting answers from the frame (face fusion).");

    protected override object CreateResponse(InferenceRequest request, IReadOnlyList<DetectedObject> detections, OpenCvSharp.Mat image)
    {
        var bodies = detections.Where(d => d.ClassId == CocoLabels.Person).ToList();
        var fuse = PersonFusion.Enabled(request, options.Value, faces);
        var persons = fuse
            ? PersonFusion.Fuse(bodies, image, faces)
            : [.. bodies.Select(b => new FusedPerson(b.X1, b.Y1, b.X2, b.Y2, b.Confidence, PersonSource.Body, null))];
        return new PersonCountingResponse
        {
            Task = Name,
            Count = persons.Count,
            Confidence = persons.Count == 0 ? 0.0 : Math.Round(persons.Average(d => d.Confidence), 4),
            Detections = [.. persons.Select(d => new PersonDetection
            {
                Bbox = d.ToLtwh(), Confidence = Round(d.Confidence), TrackId = null, Source = PersonFusion.SourceName(d.Source),
            })],
            FacesFused = fuse,
            ExecutedAt = request.ExecutedAtUnixMs,
            LatencyMs = request.ElapsedMilliseconds,
        };
    }

    protected override IReadOnlyList<AnnotationBox> AnnotationBoxes(object response) =>
        [.. ((PersonCountingResponse)response).Detections.Select(d => PersonBox(d.Bbox, d.Confidence, d.Source))];
}

public sealed class ObjectDetectionTask(IFrameSource frames, IObjectDetector detector, IOptions<DetectorOptions> options, FrameAnnotator annotator)
    : DetectionTask(frames, detector, annotator)
{
    public override string Name => "object_detection";

    public override string Description => "Every object of the local detector's classes (COCO-80 by default): label, confidence and [x, y, width, height] box.";

    public override Type ResponseType => typeof(ObjectDetectionResponse);

    protected override float MinConfidence => options.Value.ObjectThreshold;

    protected override object CreateResponse(InferenceRequest request, IReadOnlyList<DetectedObject> detections) =>
        new ObjectDetectionResponse
        {
            Task = Name,
            Count = detections.Count,
            Detections = [.. detections.Select(d => new ObjectDetection { Label = d.Label, Confidence = Round(d.Confidence), Bbox = d.ToLtwh() })],
            ExecutedAt = request.ExecutedAtUnixMs,
            LatencyMs = request.ElapsedMilliseconds,
        };

    protected override IReadOnlyList<AnnotationBox> AnnotationBoxes(object response) =>
        [.. ((ObjectDetectionResponse)response).Detections.Select(d => AnnotationBox.FromLtwh(d.Bbox, $"{d.Label} {BoxPainter.Score(d.Confidence)}",
            d.Label == "person" ? BoxStyle.Body : BoxStyle.Object))];
}
