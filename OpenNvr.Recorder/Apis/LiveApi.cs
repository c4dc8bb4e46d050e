using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using OpenNvr.Contracts.Live;
using OpenNvr.Recorder.Live;

namespace OpenNvr.Recorder.Apis;

/// <summary>
/// Live view of the cameras this replica records, for Core to relay (service key <c>X-Internal-Key</c>, as the frames
/// route): <c>/live/{camera}/{stream}/ws</c> (WebSocket of fMP4 fragments, see <see cref="LiveWebSocket"/>) and an
/// LL-HLS view (<c>index.m3u8</c>, <c>init-{epoch}.mp4</c>, <c>seg-{msn}.m4s</c>, <c>part-{msn}.{part}.m4s</c>, see
/// <see cref="LiveHlsWindow"/>). <c>stream</c> is <c>main</c> or <c>sub</c>; a WebSocket asking for <c>sub</c> gets the main
/// stream when the camera has no decoded sub-stream. Not streaming here (not leased to this replica, camera down):
/// 404 problem.
/// </summary>
public static class LiveApi
{
    public static WebApplication UseLiveApi(this WebApplication app)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        var live = app.MapGroup("/live/{camera:int}")
            .RequireSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, openInDevelopmentWhenUnset: true, ServiceKeys.RecorderCore)
            .WithTags("Live")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        live.MapGet("/status", Status).WithSummary("The camera's live streams on this replica");
        live.MapGet("/{stream}/ws", ViewAsync).WithSummary("WebSocket: init segment and one fMP4 fragment per frame, each with its capture time");
        live.MapGet("/{stream}/index.m3u8", PlaylistAsync).WithSummary("LL-HLS live playlist (blocking reload with _HLS_msn and _HLS_part)");
        live.MapGet("/{stream}/init-{epoch:int}.mp4", InitSegment).WithSummary("The init segment of one ffmpeg run");
        live.MapGet("/{stream}/seg-{msn:long}.m4s", SegmentAsync).WithSummary("A complete segment");
        live.MapGet("/{stream}/part-{msn:long}.{part:int}.m4s", PartAsync).WithSummary("A part (blocks until the hinted next part is complete)");
        return app;
    }

    private static Ok<LiveStatusResponse> Status(int camera, LiveHub hub) =>
        TypedResults.Ok(new LiveStatusResponse(camera, [.. new[] { LiveStream.Main, LiveStream.Sub }.Select(kind =>
        {
            var source = hub.Sources.FirstOrDefault(s => s.CameraId == camera && s.Stream == kind);
            var init = source?.Init;
            return new LiveStreamStatus(Name(kind), source?.IsLive == true, init?.Codec, init?.Width, init?.Height, source?.ViewerCount ?? 0, source?.Fragments ?? 0);
        })]));

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ViewAsync(int camera, string stream, HttpContext http, LiveHub hub)
    {
        if (ParseStream(stream) is not { } wanted)
        {
            return BadStream(stream);
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(statusCode: 400, title: "WebSocket required", detail: "This route is a WebSocket: connect with an upgrade request.");
        }

        if (hub.Find(camera, wanted) is not { } source)
        {
            return NotStreaming(camera, wanted);
        }

        var viewer = source.Join(out var refusal);
        if (viewer is null)
        {
            return refusal == LiveJoinRefusal.TooManyViewers
                ? TypedResults.Problem(statusCode: 503, title: "Too many viewers",
                    detail: $"Camera {camera} has {hub.Options.MaxViewersPerStream} live viewers on this stream (Live:MaxViewersPerStream).")
                : NotStreaming(camera, wanted);
        }

        using (viewer)
        {
            try
            {
                using var socket = await http.WebSockets.AcceptWebSocketAsync();
                await LiveWebSocket.ServeAsync(socket, source, viewer, TimeSpan.FromSeconds(hub.Options.IdleCloseSeconds), http.RequestAborted);
            }
            finally
            {
                source.Leave(viewer, "closed");
            }
        }

        return TypedResults.Empty;
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> PlaylistAsync(int camera, string stream, HttpContext http, LiveHub hub,
        [FromQuery(Name = "_HLS_msn")] long? msn, [FromQuery(Name = "_HLS_part")] int? part)
    {
        if (ParseStream(stream) is not { } kind)
        {
            return BadStream(stream);
        }

        if (Live(hub, camera, kind) is not { } source)
        {
            return NotStreaming(camera, kind);
        }

        if (part is not null && msn is null)
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad blocking request", detail: "_HLS_part needs _HLS_msn.");
        }

        if (msn < 0 || part < 0)
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad blocking request", detail: "_HLS_msn and _HLS_part must not be negative.");
        }

        var ct = http.RequestAborted;
        if (!await source.WaitForHlsAsync(w => w.HasCompleteSegment, FirstSegmentWait(hub), ct))
        {
            return TypedResults.Problem(statusCode: 503, title: "Live stream starting", detail: $"Camera {camera} has no complete live segment yet; try again shortly.");
        }

        if (msn is { } wantedMsn)
        {
            // RFC 8216bis 6.2.5.2: a request more than two segments ahead is refused; otherwise hold it (at most three target durations).
            var (last, target) = source.ReadHls(w => (w.LastMsn ?? 0, w.TargetDuration));
            if (wantedMsn > last + 2)
            {
                return TypedResults.Problem(statusCode: 400, title: "Bad blocking request",
                    detail: $"_HLS_msn {wantedMsn} is more than two segments ahead of the last one ({last}).");
            }

            if (!await source.WaitForHlsAsync(w => w.IsAvailable(wantedMsn, part), TimeSpan.FromSeconds(3 * target), ct))
            {
                return TypedResults.Problem(statusCode: 503, title: "Not yet available",
                    detail: $"Segment {wantedMsn}{(part is null ? "" : $" part {part}")} did not become available in time.");
            }
        }

        http.Response.Headers.CacheControl = "no-cache";
        return TypedResults.Text(source.Playlist()!, "application/vnd.apple.mpegurl");
    }

    private static Results<FileContentHttpResult, ProblemHttpResult> InitSegment(int camera, string stream, int epoch, LiveHub hub, HttpContext http)
    {
        if (ParseStream(stream) is not { } kind)
        {
            return BadStream(stream);
        }

        if (hub.Sources.FirstOrDefault(s => s.CameraId == camera && s.Stream == kind)?.ReadHls(w => w.Init(epoch)) is not { } init)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"Camera {camera} has no live init segment {epoch} here.");
        }

        http.Response.Headers.CacheControl = "private, max-age=300";
        return TypedResults.Bytes(init.Bytes, "video/mp4");
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> SegmentAsync(int camera, string stream, long msn, LiveHub hub, HttpContext http)
    {
        if (ParseStream(stream) is not { } kind)
        {
            return BadStream(stream);
        }

        if (hub.Sources.FirstOrDefault(s => s.CameraId == camera && s.Stream == kind) is not { } source)
        {
            return NotStreaming(camera, kind);
        }

        // The open segment (or the next one) is worth waiting for; anything else is there or gone.
        var (last, target) = source.ReadHls(w => (w.LastMsn, w.TargetDuration));
        if (last is { } open && msn >= open && msn <= open + 1)
        {
            await source.WaitForHlsAsync(w => w.IsAvailable(msn, null), TimeSpan.FromSeconds(3 * target), http.RequestAborted);
        }

        return source.ReadHls(w => w.Segment(msn)) is { } bytes
            ? Media(http, bytes, source)
            : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"Segment {msn} of camera {camera} is not in the live window.");
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> PartAsync(int camera, string stream, long msn, int part, LiveHub hub, HttpContext http)
    {
        if (ParseStream(stream) is not { } kind)
        {
            return BadStream(stream);
        }

        if (hub.Sources.FirstOrDefault(s => s.CameraId == camera && s.Stream == kind) is not { } source)
        {
            return NotStreaming(camera, kind);
        }

        // A preload hint names the part being made: hold the request until it is complete (LL-HLS).
        var (next, target) = source.ReadHls(w => (w.NextPart(), w.TargetDuration));
        if (next is { } hint && ((msn == hint.Msn && part >= hint.Part && part <= hint.Part + 1) || (msn == hint.Msn + 1 && part == 0)))
        {
            await source.WaitForHlsAsync(w => w.IsPartSettled(msn, part), TimeSpan.FromSeconds(3 * target), http.RequestAborted);
        }

        return source.ReadHls(w => w.Part(msn, part)) is { } bytes
            ? Media(http, bytes, source)
            : TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"Part {msn}.{part} of camera {camera} is not in the live window.");
    }

    private static FileContentHttpResult Media(HttpContext http, byte[] bytes, LiveSource source)
    {
        // Parts and segments never change once published.
        http.Response.Headers.CacheControl = "private, max-age=60";
        LiveTelemetry.BytesSent.Add(bytes.Length, LiveTelemetry.Tags(source.CameraId, source.Stream));
        return TypedResults.Bytes(bytes, "video/iso.segment");
    }

    private static LiveSource? Live(LiveHub hub, int camera, LiveStream kind) =>
        hub.Sources.FirstOrDefault(s => s.CameraId == camera && s.Stream == kind && s.IsLive);

    private static TimeSpan FirstSegmentWait(LiveHub hub) =>
        TimeSpan.FromSeconds(Math.Max(10, 3 * hub.Options.HlsMinSegmentSeconds));

    private static LiveStream? ParseStream(string stream) => stream switch
    {
        "main" => LiveStream.Main,
        "sub" => LiveStream.Sub,
        _ => null,
    };

    private static string Name(LiveStream stream) => stream == LiveStream.Main ? "main" : "sub";

    private static ProblemHttpResult BadStream(string stream) =>
        TypedResults.Problem(statusCode: 400, title: "Bad stream", detail: string.Create(CultureInfo.InvariantCulture,
            $"stream must be 'main' or 'sub', not '{(stream.Length > 16 ? stream[..16] + "…" : stream)}'."));

    private static ProblemHttpResult NotStreaming(int camera, LiveStream stream) =>
        TypedResults.Problem(statusCode: 404, title: "Not streaming",
            detail: $"Camera {camera} ({Name(stream)} stream) is not streaming on this recorder (not leased here, or the camera is down).");
}
