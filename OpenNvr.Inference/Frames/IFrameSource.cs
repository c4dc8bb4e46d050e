using OpenCvSharp;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// Turns a frame URI (<c>opennvr://frames/&lt;camera&gt;/&lt;file&gt;</c> or <c>opennvr://&lt;camera&gt;/&lt;file&gt;</c>)
/// into image bytes or a decoded image: from <c>Frames:Root</c> when the file is there, otherwise from the Recorder
/// (<c>GET /frames/&lt;camera&gt;/&lt;file&gt;</c> through service discovery). Every failure is an
/// <see cref="Tasks.InferenceProblemException"/> with a 4xx status (502/503 when the Recorder cannot be reached).
/// </summary>
public interface IFrameSource
{
    /// <summary>Reads and decodes the frame (a <c>decode</c> stage). The caller disposes the result.</summary>
    Task<DecodedFrame> LoadAsync(string uri, CancellationToken cancellationToken);

    /// <summary>Reads the frame's bytes, checked to be a JPEG or PNG within the size limits, without decoding (for cloud tasks).</summary>
    Task<FrameBytes> ReadBytesAsync(string uri, CancellationToken cancellationToken);

    /// <summary>
    /// Stores an annotated image (<paramref name="file"/>, a <see cref="FrameNames.AnnotatedFile"/> name) beside the
    /// frame it was drawn on and returns its reference, which resolves like the frame: into the local camera folder
    /// when the frame is on this host's disk, else on the Recorder (<c>PUT /frames/{camera}/{file}</c>), so that it
    /// also works when Inference and the Recorder run on different hosts. Either way the folder keeps at most
    /// <c>Frames:MaxAnnotatedPerCamera</c> annotated images (<see cref="AnnotatedFrames"/>).
    /// </summary>
    Task<FrameReference> WriteAnnotatedAsync(FrameReference frame, string file, byte[] jpeg, CancellationToken cancellationToken);
}

/// <summary>A decoded frame: 8-bit BGR, 3 channels, in its original size.</summary>
public sealed class DecodedFrame(FrameReference reference, Mat image) : IDisposable
{
    public FrameReference Reference { get; } = reference;

    public Mat Image { get; } = image;

    public int Width => Image.Width;

    public int Height => Image.Height;

    public void Dispose() => Image.Dispose();
}

/// <summary>The undecoded bytes of a frame with its format as read from its header.</summary>
public sealed record FrameBytes(FrameReference Reference, byte[] Bytes, ImageHeader Header);
