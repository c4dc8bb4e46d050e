namespace OpenNvr.Recorder.Upload;

/// <summary>Log messages of the upload path (event ids 140-159).</summary>
internal static partial class UploadLog
{
    [LoggerMessage(140, LogLevel.Warning, "Recording store unavailable ({Depth} files, {Bytes} bytes waiting locally; recording goes on): {Error}")]
    public static partial void StoreUnavailable(ILogger logger, long depth, long bytes, string error);

    [LoggerMessage(141, LogLevel.Debug, "Uploaded {Count} files ({Bytes} bytes); {Depth} waiting")]
    public static partial void Uploaded(ILogger logger, int count, long bytes, long depth);

    [LoggerMessage(142, LogLevel.Error, "{Kind} {Key} cannot be uploaded ({Reason}); recorded in the upload queue's rejected.jsonl")]
    public static partial void DeadLettered(ILogger logger, string kind, string key, string reason);

    [LoggerMessage(143, LogLevel.Error, "Free space {Free} bytes under the floor {Floor} with the store away: dropped the oldest waiting {Kind} {Key} ({Bytes} bytes)")]
    public static partial void DroppedForFreeSpace(ILogger logger, long free, long floor, string kind, string key, long bytes);

    [LoggerMessage(144, LogLevel.Debug, "Evicted {Files} local copies ({Bytes} bytes) from the hot cache ({Reason})")]
    public static partial void Evicted(ILogger logger, int files, long bytes, string reason);

    [LoggerMessage(145, LogLevel.Information, "Recording store available again after {Seconds:F1} s; {Depth} files waiting")]
    public static partial void StoreBack(ILogger logger, double seconds, long depth);
}
