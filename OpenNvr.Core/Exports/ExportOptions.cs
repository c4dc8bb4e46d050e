using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Core.Exports;

/// <summary>The <c>Exports</c> section (docs/core.md, "Exports"); validated at start.</summary>
public sealed class ExportOptions
{
    public const string Section = "Exports";

    /// <summary>Where finished exports (one MP4 each) are kept. Default: <c>&lt;temp&gt;/opennvr/exports</c>.</summary>
    public string? Root { get; set; }

    /// <summary>The longest range one export may cover (a bad range is a 400 problem).</summary>
    [Range(1, 7 * 24 * 3600)]
    public double MaxRangeSeconds { get; set; } = 24 * 3600;

    /// <summary>Exports run at the same time at most (the rest wait queued).</summary>
    [Range(1, 64)]
    public int MaxConcurrent { get; set; } = 1;

    /// <summary>One export gives up after this long (ffmpeg is stopped, the export fails).</summary>
    [Range(10, 24 * 3600)]
    public double TimeoutSeconds { get; set; } = 3600;

    [Required(AllowEmptyStrings = false)]
    public string FfmpegPath { get; set; } = "ffmpeg";

    [Required(AllowEmptyStrings = false)]
    public string FfprobePath { get; set; } = "ffprobe";

    public string ResolveRoot() => Path.GetFullPath(string.IsNullOrWhiteSpace(Root) ? Path.Combine(Path.GetTempPath(), "opennvr", "exports") : Root);
}
