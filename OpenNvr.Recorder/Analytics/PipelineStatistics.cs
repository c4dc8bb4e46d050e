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
    private long _queued;
    private long _finished;
    private long _faceCalls;

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

    /// <summary>Per-track face requests to Inference (faces per track; included in <see cref="InferenceCalls"/>).</summary>
    public long FaceCalls => Interlocked.Read(ref _faceCalls);

    /// <summary>
    /// Frames taken for analysis that are still queued or being analysed: 0 once a released camera's last frames
    /// have had their answer (or were dropped), so a test can tell that nothing of it is on its way to Inference.
    /// </summary>
    public long Pending => Interlocked.Read(ref _queued) - Interlocked.Read(ref _finished);

    internal void AddDue() => Interlocked.Increment(ref _due);

    internal void AddSkippedMotion() => Interlocked.Increment(ref _skippedMotion);

    internal void AddInferenceCall() => Interlocked.Increment(ref _inferenceCalls);

    internal void AddAnalysed() => Interlocked.Increment(ref _analysed);

    internal void AddDropped() => Interlocked.Increment(ref _dropped);

    internal void AddFaceCall()
    {
        Interlocked.Increment(ref _faceCalls);
        Interlocked.Increment(ref _inferenceCalls);
    }

    internal void AddEvent() => Interlocked.Increment(ref _events);

    internal void AddQueued() => Interlocked.Increment(ref _queued);

    /// <summary>A queued frame left the pipeline: analysed, failed or dropped from the queue.</summary>
    internal void AddFinished() => Interlocked.Increment(ref _finished);

    public override string ToString() =>
        $"due {Due}, skipped by motion {SkippedMotion}, inference calls {InferenceCalls}, analysed {Analysed}, dropped {Dropped}, events {Events}, face calls {FaceCalls}, pending {Pending}";
}
