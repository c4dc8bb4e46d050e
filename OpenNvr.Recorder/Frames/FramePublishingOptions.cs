using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Recorder.Frames;

/// <summary>
/// The <c>Frames</c> section as the Recorder reads it: the folder it publishes decoded frames into (<c>latest.jpg</c>
/// and the AI pipeline's per-frame copies), which Inference reads as its frame source.
/// </summary>
public sealed class FramePublishingOptions
{
    public const string Section = "Frames";

    public string? Root { get; set; }

    /// <summary>
    /// Annotated images (Inference on another host, <c>PUT /frames/{camera}/{file}</c>) kept per camera folder: after
    /// each one stored, the oldest beyond this number are removed, so the folder stays bounded.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxAnnotatedPerCamera { get; set; } = AnnotatedFrames.DefaultKeep;

    /// <summary>The largest annotated image accepted, in bytes (a 4K JPEG is 1-3 MB).</summary>
    [Range(64 * 1024, 64 * 1024 * 1024)]
    public int MaxAnnotatedBytes { get; set; } = 16 * 1024 * 1024;

    public string ResolveRoot() => Path.GetFullPath(string.IsNullOrWhiteSpace(Root)
        ? Path.Combine(Path.GetTempPath(), "opennvr", "frames")
        : Root);
}
