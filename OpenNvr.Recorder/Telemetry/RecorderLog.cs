namespace OpenNvr.Recorder;

/// <summary>Structured log messages of the Recorder (never a stream URL: it may carry credentials).</summary>
internal static partial class RecorderLog
{
    [LoggerMessage(1, LogLevel.Information, "Camera {CameraId}: leased to this replica, recording starts")]
    public static partial void CameraAcquired(ILogger logger, int cameraId);

    [LoggerMessage(2, LogLevel.Information, "Camera {CameraId}: no longer leased to this replica (or its stream changed), recording stops")]
    public static partial void CameraReleased(ILogger logger, int cameraId);

    [LoggerMessage(3, LogLevel.Warning, "Camera {CameraId}: segment {FileName} is in ffmpeg's list but not on disk")]
    public static partial void ChunkFileMissing(ILogger logger, int cameraId, string fileName);

    [LoggerMessage(4, LogLevel.Debug, "Camera {CameraId}: chunk {Path} finished ({DurationS:F3} s, {SizeBytes} bytes, partial {Partial})")]
    public static partial void ChunkFinished(ILogger logger, int cameraId, string path, double durationS, long sizeBytes, bool partial);

    [LoggerMessage(5, LogLevel.Error, "Camera {CameraId}: Core refused chunk {Path} ({Status}): {Detail}; kept in .outbox/rejected.jsonl")]
    public static partial void ChunkRejected(ILogger logger, int cameraId, string path, int status, string detail);

    [LoggerMessage(6, LogLevel.Debug, "Registered chunks: {Inserted} new, {Duplicates} already known; {Depth} waiting")]
    public static partial void ChunksRegistered(ILogger logger, int inserted, int duplicates, long depth);

    [LoggerMessage(7, LogLevel.Warning, "Core unreachable for chunk registration ({Depth} waiting in the outbox): {Error}")]
    public static partial void CoreUnreachableForRegistration(ILogger logger, long depth, string error);

    [LoggerMessage(8, LogLevel.Warning, "Camera {CameraId}: frame decoder failed: {Error}")]
    public static partial void DecoderFailed(ILogger logger, int cameraId, string error);

    [LoggerMessage(9, LogLevel.Warning, "Camera {CameraId}: retention could not delete {Path}: {Error}")]
    public static partial void DeleteFailed(ILogger logger, int cameraId, string path, string error);

    [LoggerMessage(10, LogLevel.Information, "Camera {CameraId}: chunk {Path} left by a crashed ffmpeg holds no frame; deleted")]
    public static partial void EmptyPartialDeleted(ILogger logger, int cameraId, string path);

    [LoggerMessage(11, LogLevel.Information, "Camera {CameraId}: ffmpeg exited with code {ExitCode} after {Chunks} chunks {LastError}")]
    public static partial void FfmpegExited(ILogger logger, int cameraId, int exitCode, int chunks, string lastError);

    [LoggerMessage(12, LogLevel.Information, "Camera {CameraId}: ffmpeg started (pid {Pid})")]
    public static partial void FfmpegStarted(ILogger logger, int cameraId, int pid);

    [LoggerMessage(13, LogLevel.Warning, "Free space {Available} bytes is under the floor {Floor} bytes and no chunk can be deleted (evidence only)")]
    public static partial void FreeSpaceFloorUnreachable(ILogger logger, long available, long floor);

    [LoggerMessage(14, LogLevel.Warning, "Heartbeat to Core failed (recording continues with the current cameras): {Error}")]
    public static partial void HeartbeatFailed(ILogger logger, string error);

    [LoggerMessage(15, LogLevel.Warning, "Killed {Count} ffmpeg processes left behind by a crashed Recorder on this machine")]
    public static partial void OrphansKilled(ILogger logger, int count);

    [LoggerMessage(16, LogLevel.Warning, "Camera {CameraId}: reconciliation failed: {Error}")]
    public static partial void ReconcileFailed(ILogger logger, int cameraId, string error);

    [LoggerMessage(17, LogLevel.Information, "Camera {CameraId}: {Count} chunks on disk queued for registration by reconciliation")]
    public static partial void Reconciled(ILogger logger, int cameraId, int count);

    [LoggerMessage(18, LogLevel.Warning, "Camera {CameraId}: attempt {Attempt} in {DelayS:F1} s: {Reason}")]
    public static partial void Reconnecting(ILogger logger, int cameraId, int attempt, double delayS, string reason);

    [LoggerMessage(19, LogLevel.Warning, "Retention pass failed (repaired on the next pass): {Error}")]
    public static partial void RetentionFailed(ILogger logger, string error);

    [LoggerMessage(20, LogLevel.Information, "Retention deleted {Age} chunks by age, {Quota} by quota, {FreeSpace} for free space, {Orphans} unindexed files ({Bytes} bytes)")]
    public static partial void RetentionPass(ILogger logger, int age, int quota, int freeSpace, int orphans, long bytes);

    [LoggerMessage(21, LogLevel.Warning, "Camera {CameraId}: no new video data for {Seconds:F0} s: killing ffmpeg")]
    public static partial void Stalled(ILogger logger, int cameraId, double seconds);

    [LoggerMessage(22, LogLevel.Debug, "Camera {CameraId}: state not sent (Core away, retried): {Error}")]
    public static partial void StateNotSent(ILogger logger, int cameraId, string error);

    [LoggerMessage(23, LogLevel.Warning, "Camera {CameraId}: Core refused the state report: {Detail}")]
    public static partial void StateRejected(ILogger logger, int cameraId, string detail);

    [LoggerMessage(24, LogLevel.Error, "Camera {CameraId}: supervisor error; retrying")]
    public static partial void SupervisorError(ILogger logger, Exception exception, int cameraId);

    [LoggerMessage(25, LogLevel.Information, "Camera {CameraId}: cut {Bytes} bytes of a torn fragment off {Path}")]
    public static partial void TornFragmentCut(ILogger logger, int cameraId, string path, long bytes);

    [LoggerMessage(26, LogLevel.Warning, "Core unreachable for AI events ({Depth} waiting in the event outbox): {Error}")]
    public static partial void CoreUnreachableForEvents(ILogger logger, long depth, string error);

    [LoggerMessage(27, LogLevel.Error, "Camera {CameraId}: Core refused a {Task} event ({Status}): {Detail}; kept in the event outbox's rejected.jsonl")]
    public static partial void EventRejected(ILogger logger, int cameraId, string task, int status, string detail);

    [LoggerMessage(28, LogLevel.Warning, "Camera {CameraId}: {Task} analysis failed ({Reason}): {Error}")]
    public static partial void AnalysisFailed(ILogger logger, int cameraId, string task, string reason, string error);

    [LoggerMessage(29, LogLevel.Information, "Camera {CameraId}: {Task} analysis works again after {Failures} failed frames")]
    public static partial void AnalysisRecovered(ILogger logger, int cameraId, string task, long failures);

    [LoggerMessage(30, LogLevel.Debug, "Camera {CameraId}: {Task} event (count {Count}, label {Label}) queued for Core")]
    public static partial void EventQueued(ILogger logger, int cameraId, string task, int? count, string? label);

    [LoggerMessage(31, LogLevel.Warning, "Camera {CameraId}: frame pipeline error: {Error}")]
    public static partial void PipelineError(ILogger logger, int cameraId, string error);

    [LoggerMessage(132, LogLevel.Information, "Camera {CameraId}: person {TrackId} recognised as {PersonId} ({Category}, similarity {Similarity}) at attempt {Attempt}")]
    public static partial void FaceRecognised(ILogger logger, int cameraId, long trackId, string personId, string? category, double similarity, int attempt);

    [LoggerMessage(133, LogLevel.Warning, "Camera {CameraId}: face request for person {TrackId} failed: {Error}")]
    public static partial void FaceAttemptFailed(ILogger logger, int cameraId, long trackId, string error);
}
