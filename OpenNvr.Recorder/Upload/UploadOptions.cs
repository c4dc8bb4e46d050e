using System.ComponentModel.DataAnnotations;
using OpenNvr.Recorder.Recording;

namespace OpenNvr.Recorder.Upload;

/// <summary>The upload keys of the <c>Recorder</c> section (README, "Recording storage").</summary>
public sealed class UploadOptions
{
    public const string Section = RecorderOptions.Section;

    /// <summary>Files uploaded at the same time (a batch is registered with Core in order once all of it is stored).</summary>
    [Range(1, 32)]
    public int UploadConcurrency { get; set; } = 4;

    /// <summary>Files taken from the queue per round.</summary>
    [Range(1, 1000)]
    public int UploadBatchSize { get; set; } = 16;

    /// <summary>Local copies of uploaded files kept as hot cache, in bytes (0: evict at once after a verified upload).</summary>
    [Range(0, long.MaxValue)]
    public long LocalCacheMaxBytes { get; set; } = 1L << 30;

    /// <summary>On shutdown, files sealed by the stopping supervisors get this long to reach the store (the rest waits in the queue).</summary>
    [Range(0, 60)]
    public double UploadDrainSeconds { get; set; } = 3;
}
