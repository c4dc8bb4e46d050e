using OpenNvr.Recorder.Frames;

namespace OpenNvr.Recorder.Apis;

/// <summary>
/// <c>GET /frames/{camera}/{file}</c>: published frames for Inference instances on other hosts
/// (<c>opennvr://frames/&lt;camera&gt;/&lt;file&gt;</c>). Names follow <see cref="FrameNames"/>, the rule Inference
/// applies to frame URIs: anything else (traversal, encoded slashes, hidden files) is a 400 problem, a missing frame a
/// 404 problem.
/// When <c>Internal:ApiKey</c> is configured (always under the app host) callers must send it in
/// <c>X-Internal-Key</c> (Inference does): frames are camera pictures, not public.
/// </summary>
public static class FramesApi
{
    public static IEndpointRouteBuilder MapFramesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/frames/{camera}/{file}", GetFrame)
            .RequireSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, SharedKeyEndpointExtensions.InternalKeySetting, openWhenUnset: true)
            .WithTags("Frames")
            .WithSummary("A published frame (JPEG) of a camera, e.g. /frames/1/latest.jpg")
            .Produces(StatusCodes.Status200OK, contentType: MediaTypes.Jpeg)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static IResult GetFrame(string camera, string file, FramePublisher frames, HttpContext http)
    {
        if (!FrameNames.IsCameraFolder(camera))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad frame path", detail: $"camera must be {FrameNames.CameraRule}.");
        }

        if (!FrameNames.IsFrameFile(file))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad frame path", detail: $"file must be {FrameNames.FileRule}.");
        }

        var root = frames.Root;
        var path = Path.GetFullPath(Path.Combine(root, camera, file));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad frame path", detail: "The frame path escapes the frames root.");
        }

        // Read whole: latest.jpg is replaced by rename, so the bytes read are one complete frame.
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return TypedResults.Problem(statusCode: 404, title: "Frame not found", detail: $"No frame '{file}' has been published for camera '{camera}'.");
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.File(bytes, MediaTypes.OfImageFile(file), lastModified: File.GetLastWriteTimeUtc(path));
    }
}
