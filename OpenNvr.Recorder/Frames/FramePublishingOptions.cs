namespace OpenNvr.Recorder.Frames;

/// <summary>
/// The <c>Frames</c> section as the Recorder reads it: the folder it publishes decoded frames into (<c>latest.jpg</c>
/// and the AI pipeline's per-frame copies), which Inference reads as its frame source.
/// </summary>
public sealed class FramePublishingOptions
{
    public const string Section = "Frames";

    public string? Root { get; set; }

    public string ResolveRoot() => Path.GetFullPath(string.IsNullOrWhiteSpace(Root)
        ? Path.Combine(Path.GetTempPath(), "opennvr", "frames")
        : Root);
}
