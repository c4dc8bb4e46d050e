namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Per-camera counts of this replica's pipeline since start (the same events as the metrics, readable in-process:
/// tests and the bench use them where several hosts share one process and one static meter).
/// </summary>
public sealed class PipelineStatistics
{
    private long _due;
    private long _skippedMotion;
    private long _inferenceCalls;
    private long _analysed;
    private long _dropped;
    private long _events;

    /// <summary>Policy runs that were due (interval elapsed).</summary>
    public long Due => Interlocked.Read(ref _due);

    public long SkippedMotion => Interlocked.Read(ref _skippedMotion);

    /// <summary>POST /infer calls attempted (circuit-open rejections included: they are made and fail fast).</summary>
    public long InferenceCalls => Interlocked.Read(ref _inferenceCalls);

    /// <summary>Frames Inference answered for.</summary>
    public long Analysed => Interlocked.Read(ref _analysed);

    /// <summary>Frames that got no answer: queue full, circuit open, Inference failed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public long Events => Interlocked.Read(ref _events);

    internal void AddDue() => Interlocked.Increment(ref _due);

    internal void AddSkippedMotion() => Interlocked.Increment(ref _skippedMotion);

    internal void AddInferenceCall() => Interlocked.Increment(ref _inferenceCalls);

    internal void AddAnalysed() => Interlocked.Increment(ref _analysed);

    internal void AddDropped() => Interlocked.Increment(ref _dropped);

    internal void AddEvent() => Interlocked.Increment(ref _events);

    public override string ToString() =>
        $"due {Due}, skipped by motion {SkippedMotion}, inference calls {InferenceCalls}, analysed {Analysed}, dropped {Dropped}, events {Events}";
}
