using Microsoft.AspNetCore.Http.HttpResults;
using OpenNvr.Recorder.Frames;

namespace OpenNvr.Recorder.Apis;

/// <summary>
/// <c>GET /frames/{camera}/{file}</c>: published frames for Inference instances on other hosts
/// (<c>opennvr://frames/&lt;camera&gt;/&lt;file&gt;</c>). Names follow <see cref="FrameNames"/>, the rule Inference
/// applies to frame URIs: anything else (traversal, encoded slashes, hidden files) is a 400 problem, a missing frame a
/// 404 problem.
/// Callers send their key in <c>X-Internal-Key</c>: Core <c>ServiceKeys:RecorderCore</c>, Inference
/// <c>ServiceKeys:RecorderInference</c>; frames are camera pictures, not public. Without a configured key the route is
/// closed, except in Development.
/// </summary>
public static class FramesApi
{
    public static IEndpointRouteBuilder MapFramesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/frames/{camera}/{file}", GetFrame)
            .RequireSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, openInDevelopmentWhenUnset: true, ServiceKeys.RecorderCore, ServiceKeys.RecorderInference)
            .WithName("getFrame")
            .WithTags("Frames")
            .WithSummary("A published frame (JPEG or PNG) of a camera, e.g. /frames/camera_1/latest.jpg (the bare id 1 is an alias)")
            .Produces<Stream>(StatusCodes.Status200OK, MediaTypes.Jpeg, MediaTypes.Png);
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
}
