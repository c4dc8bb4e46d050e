using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Apis;

/// <summary>
/// <c>GET /frames/{camera}/{file}</c>: published frames for Inference instances on other hosts
/// (<c>opennvr://frames/&lt;camera&gt;/&lt;file&gt;</c>). Names follow <see cref="FrameNames"/>, the rule Inference
/// applies to frame URIs: anything else (traversal, encoded slashes, hidden files) is a 400 problem, a missing frame a
/// 404 problem.
/// Callers send their key in <c>X-Internal-Key</c>: Core <c>ServiceKeys:RecorderCore</c>, Inference
/// <c>ServiceKeys:RecorderInference</c>; frames are camera pictures, not public. Without a configured key the route is
/// closed, except in Development.
/// <para><c>PUT /frames/{camera}/{file}</c> stores an annotated image that Inference drew on one of this Recorder's
/// frames (<c>input.options.annotate</c>) when Inference runs on another host: the image then lives beside the frame,
/// so its <c>opennvr://frames/…</c> URI resolves through the same route as the frame itself, for Inference and for
/// Core. Only Inference's key may write (closed without one, also in Development: the route writes); only annotated names (<see cref="FrameNames.AnnotatedFile"/>) are accepted, so
/// nothing the Recorder publishes can be overwritten; only into a camera folder that exists (no folder is created);
/// at most <c>Frames:MaxAnnotatedPerCamera</c> stay per folder, the oldest removed (<see cref="AnnotatedFrames"/>).</para>
/// </summary>
public static partial class FramesApi
{
    public static IEndpointRouteBuilder MapFramesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/frames/{camera}/{file}", GetFrame)
            .RequireSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, openInDevelopmentWhenUnset: true, ServiceKeys.RecorderCore, ServiceKeys.RecorderInference)
            .WithName("getFrame")
            .WithTags("Frames")
            .WithSummary("A published frame (JPEG or PNG) of a camera, e.g. /frames/camera_1/latest.jpg (the bare id 1 is an alias)")
            .Produces<Stream>(StatusCodes.Status200OK, MediaTypes.Jpeg, MediaTypes.Png);
        app.MapPut("/frames/{camera}/{file}", PutAnnotatedAsync)
            .RequireSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, openInDevelopmentWhenUnset: false, ServiceKeys.RecorderInference)
            .WithName("putAnnotatedFrame")
            .WithTags("Frames")
            .WithSummary("Stores an annotated image (annotated_<unix ms>_<32 hex>.jpg, a JPEG body) that Inference drew on a frame of this camera; the oldest beyond Frames:MaxAnnotatedPerCamera are removed");
        // No .Accepts(image/jpeg): routing would answer 415 to a request without that content type before the key
        // check runs (a caller without the key must learn nothing but 401); the body is checked as a JPEG instead.
        return app;
    }

    private static Results<FileContentHttpResult, BadRequestProblem, NotFoundProblem> GetFrame(string camera, string file, FramePublisher frames, HttpContext http)
    {
        if (!FrameNames.IsCameraFolder(camera))
        {
            return new BadRequestProblem($"camera must be {FrameNames.CameraRule}.", "Bad frame path");
        }

        if (!FrameNames.IsFrameFile(file))
        {
            return new BadRequestProblem($"file must be {FrameNames.FileRule}.", "Bad frame path");
        }

        var root = frames.Root;
        camera = FrameNames.PublishedFolder(camera);
        var path = Path.GetFullPath(Path.Combine(root, camera, file));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return new BadRequestProblem("The frame path escapes the frames root.", "Bad frame path");
        }

        // Read whole: latest.jpg is replaced by rename, so the bytes read are one complete frame.
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new NotFoundProblem($"No frame '{file}' has been published for camera '{camera}'.", "Frame not found");
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.File(bytes, MediaTypes.OfImageFile(file), lastModified: File.GetLastWriteTimeUtc(path));
    }

    private static async Task<Results<Created, BadRequestProblem, PayloadTooLargeProblem, NotFoundProblem, ConflictProblem>> PutAnnotatedAsync(string camera, string file,
        FramePublisher frames, IOptions<FramePublishingOptions> options, HttpContext http, ILoggerFactory loggers)
    {
        if (!FrameNames.IsCameraFolder(camera))
        {
            return new BadRequestProblem($"camera must be {FrameNames.CameraRule}.", "Bad frame path");
        }

        if (!FrameNames.IsAnnotatedFile(file))
        {
            return new BadRequestProblem("file must be an annotated image's name: annotated_<unix ms, 13 digits>_<32 lowercase hex>.jpg.", "Bad frame path");
        }

        var folder = Path.Combine(frames.Root, FrameNames.PublishedFolder(camera));
        if (!Directory.Exists(folder))
        {
            return new NotFoundProblem($"No frame has been published for camera '{camera}' here: an annotated image goes beside its frame.", "Camera folder not found");
        }

        using var activity = RecorderTelemetry.ActivitySource.StartActivity("frames.store_annotated");
        activity?.SetTag("frame.camera", camera);
        var maxBytes = options.Value.MaxAnnotatedBytes;
        if (http.Request.ContentLength > maxBytes)
        {
            return TooLarge(http.Request.ContentLength.Value, maxBytes);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        byte[] jpeg;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return TooLarge(buffer.Length + read, maxBytes);
                }

                buffer.Write(chunk, 0, read);
            }

            jpeg = buffer.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(maxBytes + 1, maxBytes);
        }

        if (ImageHeader.TryRead(jpeg) is not { Format: ImageFormat.Jpeg })
        {
            return new BadRequestProblem("The body must be a JPEG image (an annotated frame).", "Not a JPEG");
        }

        int removed;
        try
        {
            removed = AnnotatedFrames.Store(folder, file, jpeg, options.Value.MaxAnnotatedPerCamera);
        }
        catch (IOException) when (File.Exists(Path.Combine(folder, file)))
        {
            return new ConflictProblem($"An annotated image '{file}' exists already for camera '{camera}'; names are never reused.");
        }

        RecorderTelemetry.AnnotatedFramesStored.Add(1, new KeyValuePair<string, object?>("camera", camera));
        LogAnnotatedStored(loggers.CreateLogger(typeof(FramesApi)), camera, file, jpeg.Length, removed);
        return TypedResults.Created($"/frames/{camera}/{file}");
    }

    private static PayloadTooLargeProblem TooLarge(long bytes, long maxBytes) =>
        new($"The image is at least {bytes.ToString(CultureInfo.InvariantCulture)} bytes; at most {maxBytes.ToString(CultureInfo.InvariantCulture)} are accepted (Frames:MaxAnnotatedBytes).");

    [LoggerMessage(Level = LogLevel.Debug, Message = "Annotated image {File} of camera {Camera} stored ({Bytes} bytes); {Removed} older ones removed")]
    private static partial void LogAnnotatedStored(ILogger logger, string camera, string file, int bytes, int removed);
}
