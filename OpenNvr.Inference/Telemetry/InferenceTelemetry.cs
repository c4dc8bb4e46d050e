using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OpenNvr.Inference.Telemetry;

/// <summary>
/// Traces and metrics of inference: one <c>infer</c> span per request (a child of ASP.NET Core's request span) with
/// child spans per stage (<c>decode</c>, <c>preprocess</c>, <c>model</c>, <c>postprocess</c>), and the histogram
/// <c>opennvr.inference.duration</c> (ms) tagged <c>task</c> and <c>stage</c> (the stages plus <c>total</c>).
/// </summary>
public sealed class InferenceTelemetry : IDisposable
{
    public const string SourceName = "OpenNvr.Inference";
    public const string DurationInstrument = "opennvr.inference.duration";
    public const string AnnotatedImagesInstrument = "opennvr.inference.annotated_images";

    public static readonly ActivitySource ActivitySource = new(SourceName);

    // The task of the request being served flows with the async call, so that stages measured deep inside shared
    // services (frame decoding, detectors) are tagged with the task without every signature carrying it.
    private static readonly AsyncLocal<string?> CurrentTask = new();

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _annotatedImages;

    public InferenceTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(SourceName);
        _duration = _meter.CreateHistogram<double>(DurationInstrument, unit: "ms",
            description: "Time spent per inference stage (decode, preprocess, model, postprocess, annotate) and in total per task.");
        _annotatedImages = _meter.CreateCounter<long>(AnnotatedImagesInstrument, unit: "{image}",
            description: "Annotated images written (input.options.annotate), tagged task.");
    }

    /// <summary>Starts the request's span and makes <paramref name="task"/> the tag of the stages measured under it.</summary>
    public Activity? StartInfer(string task)
    {
        CurrentTask.Value = task;
        var activity = ActivitySource.StartActivity("infer " + task, ActivityKind.Internal);
        activity?.SetTag("opennvr.task", task);
        return activity;
    }

    /// <summary>Measures one stage: a child span plus a histogram sample when disposed.</summary>
    public StageScope Stage(string stage) => new(this, stage, ActivitySource.StartActivity(stage, ActivityKind.Internal));

    public void Record(string stage, double milliseconds, string? task = null) =>
        _duration.Record(milliseconds, new KeyValuePair<string, object?>("task", task ?? CurrentTask.Value ?? "none"),
            new KeyValuePair<string, object?>("stage", stage));

    /// <summary>One annotated image written for <paramref name="task"/>.</summary>
    public void CountAnnotated(string task) => _annotatedImages.Add(1, new KeyValuePair<string, object?>("task", task));

    public void Dispose() => _meter.Dispose();

    public readonly struct StageScope : IDisposable
    {
        private readonly InferenceTelemetry _owner;
        private readonly string _stage;
        private readonly Activity? _activity;
        private readonly long _start;

        internal StageScope(InferenceTelemetry owner, string stage, Activity? activity)
        {
            _owner = owner;
            _stage = stage;
            _activity = activity;
            _start = Stopwatch.GetTimestamp();
        }

        public void Dispose()
        {
            _owner.Record(_stage, Stopwatch.GetElapsedTime(_start).TotalMilliseconds);
            _activity?.Dispose();
        }
    }
}
