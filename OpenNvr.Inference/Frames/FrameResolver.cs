using System.Globalization;
using Microsoft.Extensions.Options;
using OpenCvSharp;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// The <see cref="IFrameSource"/>: local files under <c>Frames:Root</c> first, the Recorder otherwise. Statuses:
/// 400 bad URI; 403 a symlink that leaves the root; 404 no such frame; 415 not a JPEG/PNG or undecodable; 422 above
/// <c>Inference:MaxFrameBytes</c> or <c>Inference:MaxImagePixels</c>; 502 Recorder unreachable or failing.
/// </summary>
public sealed class FrameResolver(
    IOptions<FrameSourceOptions> frames,
    IOptions<InferenceOptions> options,
    IConfiguration configuration,
    IServiceProvider services,
    InferenceTelemetry telemetry) : IFrameSource
{
    private readonly string? _root = string.IsNullOrWhiteSpace(frames.Value.Root) ? null : ResolveRoot(frames.Value.Root);
    private readonly bool _recorderConfigured = RecorderFrameClient.IsConfigured(configuration);

    public async Task<DecodedFrame> LoadAsync(string uri, CancellationToken cancellationToken)
    {
        using var stage = telemetry.Stage("decode");
        var frame = await ReadBytesAsync(uri, cancellationToken);
        return Decode(frame.Reference, frame.Bytes);
    }

    /// <summary>
    /// Image bytes that came in a request (a photo upload) checked like a frame (JPEG or PNG, at most
    /// <paramref name="maxPixels"/>) and decoded. The caller disposes the result.
    /// </summary>
    public static DecodedFrame Decode(FrameReference reference, byte[] bytes, long maxPixels)
    {
        var header = ImageHeader.TryRead(bytes) ?? throw Unsupported(reference, "it is not a JPEG or PNG image");
        CheckPixels(reference, header, maxPixels);
        return Decode(reference, bytes);
    }

    private static DecodedFrame Decode(FrameReference reference, byte[] bytes)
    {
        Mat image;
        try
        {
            image = Cv2.ImDecode(bytes, ImreadModes.Color);
        }
        catch (OpenCVException ex)
        {
            throw Unsupported(reference, $"it could not be decoded ({ex.Message})");
        }

        if (image.Empty())
        {
            image.Dispose();
            throw Unsupported(reference, "it could not be decoded (corrupt or truncated)");
        }

        return new DecodedFrame(reference, image);
    }

    public async Task<FrameBytes> ReadBytesAsync(string uri, CancellationToken cancellationToken)
    {
        var reference = FrameReference.Parse(uri);
        var bytes = await ReadAsync(reference, cancellationToken);
        var header = ImageHeader.TryRead(bytes) ?? throw Unsupported(reference, "it is not a JPEG or PNG image");
        CheckPixels(reference, header, options.Value.MaxImagePixels);
        return new FrameBytes(reference, bytes, header);
    }

    private static void CheckPixels(FrameReference reference, ImageHeader header, long maxPixels)
    {
        if (header.Pixels > maxPixels)
        {
            throw new InferenceProblemException(StatusCodes.Status422UnprocessableEntity, "Image too large",
                $"The frame {reference} is {header.Width}x{header.Height} ({header.Pixels.ToString(CultureInfo.InvariantCulture)} pixels); at most {maxPixels.ToString(CultureInfo.InvariantCulture)} pixels are accepted (Inference:MaxImagePixels).");
        }
    }

    internal static InferenceProblemException NotFound(FrameReference frame, string where) =>
        new(StatusCodes.Status404NotFound, "Frame not found", $"The frame {frame} was found {where}.");

    internal static InferenceProblemException TooLarge(FrameReference frame, long bytes, long maxBytes) =>
        new(StatusCodes.Status422UnprocessableEntity, "Image too large",
            $"The frame {frame} is at least {bytes.ToString(CultureInfo.InvariantCulture)} bytes; at most {maxBytes.ToString(CultureInfo.InvariantCulture)} are accepted (Inference:MaxFrameBytes).");

    public async Task<FrameReference> WriteAnnotatedAsync(FrameReference frame, string file, byte[] jpeg, CancellationToken cancellationToken)
    {
        var image = new FrameReference(frame.Camera, file);
        // Where the frame was read from: the local folder when it is there (the same rule as reading), else the Recorder.
        if (_root is not null && LocalFolder(frame) is { } folder)
        {
            try
            {
                AnnotatedFrames.Store(folder, file, jpeg, frames.Value.MaxAnnotatedPerCamera);
                return image;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InferenceProblemException(StatusCodes.Status503ServiceUnavailable, "Annotated image not stored",
                    $"The annotated image {image} could not be written beside the frame {frame}: {ex.Message}");
            }
        }

        if (_recorderConfigured)
        {
            await services.GetRequiredService<RecorderAnnotatedFrameWriter>().PutAsync(image, jpeg, cancellationToken);
            return image;
        }

        throw new InferenceProblemException(StatusCodes.Status404NotFound, "Frame not found",
            $"The folder of the frame {frame} is neither under Frames:Root nor on a configured Recorder, so its annotated image has nowhere to go.");
    }

    /// <summary>The camera folder of <paramref name="frame"/> under the root, when it exists (resolved like a frame's path).</summary>
    private string? LocalFolder(FrameReference frame)
    {
        var cameraDir = new DirectoryInfo(Path.Combine(_root!, frame.Camera));
        return cameraDir.Exists ? Resolve(cameraDir, frame) : null;
    }

    private static InferenceProblemException Unsupported(FrameReference frame, string why) =>
        new(StatusCodes.Status415UnsupportedMediaType, "Unsupported image", $"The frame {frame} cannot be used: {why}.");

    private async Task<byte[]> ReadAsync(FrameReference frame, CancellationToken cancellationToken)
    {
        var maxBytes = options.Value.MaxFrameBytes;
        if (_root is not null && LocalPath(frame) is { } path)
        {
            var info = new FileInfo(path);
            if (info.Length > maxBytes)
            {
                throw TooLarge(frame, info.Length, maxBytes);
            }

            try
            {
                var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
                return bytes.Length <= maxBytes ? bytes : throw TooLarge(frame, bytes.Length, maxBytes);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                // Replaced or pruned by the recorder between the check and the read: same as absent.
            }
            catch (UnauthorizedAccessException)
            {
                throw new InferenceProblemException(StatusCodes.Status403Forbidden, "Frame not readable", $"The frame {frame} is not readable by the inference service.");
            }
        }

        if (_recorderConfigured)
        {
            return await services.GetRequiredService<RecorderFrameClient>().GetAsync(frame, maxBytes, cancellationToken);
        }

        throw NotFound(frame, _root is null ? "nowhere (Frames:Root is not set and no Recorder is configured)" : "nowhere under Frames:Root");
    }

    /// <summary>
    /// The frame's local path, or null when it is not there. The names are single validated segments, so only
    /// symlinks could lead elsewhere: the camera folder and the file are resolved and must stay under the root.
    /// </summary>
    private string? LocalPath(FrameReference frame)
    {
        var cameraDir = new DirectoryInfo(Path.Combine(_root!, frame.Camera));
        if (!cameraDir.Exists)
        {
            return null;
        }

        var cameraPath = Resolve(cameraDir, frame);
        var file = new FileInfo(Path.Combine(cameraPath, frame.File));
        if (!file.Exists)
        {
            return null;
        }

        return Resolve(file, frame);
    }

    private string Resolve(FileSystemInfo entry, FrameReference frame)
    {
        var target = entry.LinkTarget is null ? entry.FullName : entry.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        if (target is null || !IsUnderRoot(Path.GetFullPath(target)))
        {
            throw new InferenceProblemException(StatusCodes.Status403Forbidden, "Frame outside the frames root",
                $"The frame {frame} is a link that leads outside Frames:Root.");
        }

        return target;
    }

    private bool IsUnderRoot(string path) =>
        path.StartsWith(_root! + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string ResolveRoot(string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var info = new DirectoryInfo(full);
        // The root itself may legitimately be a link (a mounted volume); compare against where it really is.
        return info.Exists && info.LinkTarget is not null
            ? Path.TrimEndingDirectorySeparator(info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full)
            : full;
    }
}
