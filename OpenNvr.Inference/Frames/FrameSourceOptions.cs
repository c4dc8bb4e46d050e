using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// The <c>Frames</c> section as Inference reads it: the local folder that <c>opennvr://frames/...</c> URIs resolve
/// against first (the Recorder publishes frames into it; frames not found there are fetched from the Recorder).
/// </summary>
public sealed class FrameSourceOptions
{
    public const string Section = "Frames";

    /// <summary>The folder the recorder publishes frames into (<c>&lt;root&gt;/&lt;camera&gt;/&lt;file&gt;</c>).</summary>
    public string? Root { get; set; }

    /// <summary>
    /// Annotated images (<c>input.options.annotate</c>) kept per camera folder when Inference writes them to
    /// <see cref="Root"/> itself: after each one, the oldest beyond this number are removed. (Written through the
    /// Recorder, the Recorder's own <c>Frames:MaxAnnotatedPerCamera</c> bounds them.)
    /// </summary>
    [Range(1, 10_000)]
    public int MaxAnnotatedPerCamera { get; set; } = AnnotatedFrames.DefaultKeep;
}
