using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Frames;

/// <summary>A frame published as <c>&lt;Frames:Root&gt;/&lt;camera&gt;/latest.jpg</c>.</summary>
public sealed record PublishedFrame(int CameraId, string Path, DateTimeOffset CapturedAt);

/// <summary>Where the AI pipeline hooks on: every frame the decoders publish.</summary>
public interface IFramePublisher
{
    event Action<PublishedFrame>? FramePublished;
}

/// <summary>
/// Publishes decoded frames atomically: the JPEG is written to a temporary file in the same folder, then renamed over
/// <c>latest.jpg</c>, so a reader (Inference, GET /frames) never sees a half-written image.
/// </summary>
public sealed class FramePublisher(FramePublishingOptions options, TimeProvider clock) : IFramePublisher
{
    public event Action<PublishedFrame>? FramePublished;

    public string Root { get; } = options.ResolveRoot();

    public PublishedFrame Publish(int cameraId, ReadOnlySpan<byte> jpeg)
    {
        var capturedAt = clock.GetUtcNow();
        var dir = Path.Combine(Root, FrameNames.CameraFolder(cameraId));
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, FrameNames.LatestFile);
        var temp = Path.Combine(dir, $".latest-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.tmp");
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(jpeg);
        }

        File.Move(temp, target, overwrite: true);
        var frame = new PublishedFrame(cameraId, target, capturedAt);
        RecorderTelemetry.FramesPublished.Add(1, new KeyValuePair<string, object?>("camera", cameraId));
        FramePublished?.Invoke(frame);
        return frame;
    }
}

/// <summary>Splits ffmpeg's <c>image2pipe</c> MJPEG output into JPEG images on their SOI (FFD8) and EOI (FFD9) markers.</summary>
public sealed class JpegSplitter
{
    private const int MaxFrameBytes = 32 * 1024 * 1024;
    private readonly MemoryStream _buffer = new();

    /// <summary>Feeds bytes; calls <paramref name="onFrame"/> for every complete JPEG.</summary>
    public void Feed(ReadOnlySpan<byte> data, Action<ReadOnlyMemory<byte>> onFrame)
    {
        _buffer.Write(data);
        var bytes = _buffer.GetBuffer().AsMemory(0, (int)_buffer.Length);
        var consumed = 0;
        while (true)
        {
            var span = bytes.Span[consumed..];
            var soi = span.IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD8]);
            if (soi < 0)
            {
                consumed = Math.Max(consumed, bytes.Length - 1);
                break;
            }

            // Entropy-coded data stuffs every 0xFF with 0x00, so FFD9 only appears as the real end marker
            // (ffmpeg's MJPEG encoder writes no embedded thumbnails).
            var eoi = span[(soi + 2)..].IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]);
            if (eoi < 0)
            {
                consumed += soi;
                break;
            }

            var length = soi + 2 + eoi + 2;
            onFrame(bytes.Slice(consumed + soi, length - soi));
            consumed += length;
        }

        var rest = bytes.Length - consumed;
        if (rest > MaxFrameBytes)
        {
            rest = 0; // garbage without markers: drop it rather than grow forever
        }

        var remaining = bytes.Slice(bytes.Length - rest).ToArray();
        _buffer.SetLength(0);
        _buffer.Write(remaining);
    }
}
