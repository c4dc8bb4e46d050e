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
