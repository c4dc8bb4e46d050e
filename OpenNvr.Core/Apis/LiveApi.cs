using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using OpenNvr.Contracts.Live;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Live;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis;

/// <summary>A stream of a camera as its Recorder reports it (<c>stream</c>: main or sub).</summary>
public sealed record LiveStreamDto(string Stream, bool Live, string? Codec, int? Width, int? Height, int Viewers);

public sealed record LiveStatusDto(int CameraId, IReadOnlyList<LiveStreamDto> Streams);

/// <summary>
/// Live view through Core, with the same authentication and grants as playback (Bearer header or a media token of the
/// camera in <c>?token=</c>; a camera one cannot see is 404): <c>GET /api/v1/cameras/{id}/live.m3u8</c> (LL-HLS, parts
/// of at most 1 s, <c>EXT-X-PROGRAM-DATE-TIME</c> = capture time; media URIs end in <c>.mp4</c>/<c>.m4s</c> and carry the
/// token, so any player opens it), its media under <c>live/</c>, and <c>GET /api/v1/cameras/{id}/live/ws?stream=main|sub</c>,
/// the console's lower-latency WebSocket of fMP4 fragments with capture times. All relayed from the Recorder that holds
/// the camera's lease.
/// </summary>
public static partial class LiveApi
{
    private static readonly System.Text.Json.JsonSerializerOptions RecorderJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapLiveApi(this IEndpointRouteBuilder app)
    {
        var live = app.MapGroup("/api/v1/cameras/{id:int}").WithTags("Live")
            .RequireAuthorization(AuthPolicies.Media)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        live.MapGet("/live.m3u8", PlaylistAsync).WithName("getLivePlaylist")
            .WithSummary("Live HLS playlist (LL-HLS; blocking reload with _HLS_msn/_HLS_part); Bearer header or ?token=<media token>");
        live.MapGet("/live/status", StatusAsync).WithName("getLiveStatus")
            .WithSummary("Which of the camera's streams are live now (players ask before connecting); never an error for a camera one can see");
        live.MapGet("/live/{file}", MediaAsync).WithName("getLiveMedia")
            .WithSummary("A live init segment (init-N.mp4), segment (seg-N.m4s) or part (part-N.M.m4s)");
        live.MapGet("/live/ws", ViewAsync).WithName("openLiveWebSocket")
            .WithSummary("WebSocket: the camera's live fMP4 fragments with capture times (stream=main, or sub for the grid)");
        return app;
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> PlaylistAsync(int id, HttpContext http, NvrDbContext db, RecorderLiveRelay relay,
        TokenService tokens, [FromQuery(Name = "_HLS_msn")] long? msn, [FromQuery(Name = "_HLS_part")] int? part, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return CameraNotFound(id);
        }

        if (await relay.HolderAsync(db, id, ct) is not { } holder)
        {
            return NotStreaming(id);
        }

        switch (await relay.GetAsync(holder, id, "main", "index.m3u8", msn, msn is null ? null : part, ct))
        {
            case LiveFetch.Ok ok:
                using (ok.Response)
                {
                    var playlist = await ok.Response.Content.ReadAsStringAsync(ct);
                    http.Response.Headers.CacheControl = "no-cache";
                    return TypedResults.Text(WithToken(playlist, MediaToken(http, tokens, id)), "application/vnd.apple.mpegurl", Encoding.UTF8);
                }

            case LiveFetch.Failed failed:
                return TypedResults.Problem(statusCode: failed.Status, detail: failed.Detail);
            default:
                throw new UnreachableException();
        }
    }

    private static async Task<Results<Ok<LiveStatusDto>, ProblemHttpResult>> StatusAsync(int id, HttpContext http, NvrDbContext db, RecorderLiveRelay relay, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return CameraNotFound(id);
        }

        http.Response.Headers.CacheControl = "no-store";
        if (await relay.HolderAsync(db, id, ct) is { } holder && await relay.StatusAsync(holder, id, ct) is LiveFetch.Ok ok)
        {
            using (ok.Response)
            {
                var status = await ok.Response.Content.ReadFromJsonAsync<LiveStatusResponse>(RecorderJson, ct);
                if (status is not null)
                {
                    return TypedResults.Ok(new LiveStatusDto(id, [.. status.Streams.Select(s => new LiveStreamDto(s.Stream, s.Live, s.Codec, s.Width, s.Height, s.Viewers))]));
                }
            }
        }

        // No Recorder holds it, or its Recorder does not answer: nothing is live (players wait and ask again).
        return TypedResults.Ok(new LiveStatusDto(id, []));
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> MediaAsync(int id, string file, HttpContext http, NvrDbContext db,
        RecorderLiveRelay relay, CancellationToken ct)
    {
        if (!MediaFile().IsMatch(file))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad request", detail: "A live file is init-<n>.mp4, seg-<n>.m4s or part-<n>.<m>.m4s.");
        }

        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return CameraNotFound(id);
        }

        if (await relay.HolderAsync(db, id, ct) is not { } holder)
        {
            return NotStreaming(id);
        }

        switch (await relay.GetAsync(holder, id, "main", file, null, null, ct))
        {
            case LiveFetch.Ok ok:
                http.Response.RegisterForDispose(ok.Response);
                http.Response.Headers.CacheControl = ok.Response.Headers.CacheControl?.ToString() ?? "private, max-age=60";
                var type = file.EndsWith(".mp4", StringComparison.Ordinal) ? "video/mp4" : "video/iso.segment";
                return TypedResults.Stream(await ok.Response.Content.ReadAsStreamAsync(ct), type);
            case LiveFetch.Failed failed:
                return TypedResults.Problem(statusCode: failed.Status, detail: failed.Detail);
            default:
                throw new UnreachableException();
        }
    }

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ViewAsync(int id, HttpContext http, NvrDbContext db, RecorderLiveRelay relay,
        [FromQuery] string? stream, CancellationToken ct)
    {
        stream ??= "main";
        if (stream is not ("main" or "sub"))
        {
            return TypedResults.Problem(statusCode: 400, title: "Bad request", detail: "stream must be 'main' or 'sub'.");
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(statusCode: 400, title: "WebSocket required", detail: "This route is a WebSocket: connect with an upgrade request.");
        }

        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return CameraNotFound(id);
        }

        if (await relay.HolderAsync(db, id, ct) is not { } holder)
        {
            return NotStreaming(id);
        }

        var (recorder, status, detail) = await relay.ConnectAsync(holder, id, stream, ct);
        if (recorder is null)
        {
            return TypedResults.Problem(statusCode: status, detail: detail);
        }

        using (recorder)
        {
            using var viewer = await http.WebSockets.AcceptWebSocketAsync();
            await RecorderLiveRelay.PumpAsync(recorder, viewer, id, http.RequestAborted);
        }

        return TypedResults.Empty;
    }

    /// <summary>
    /// The media token the playlist's URIs carry: the one the request came with (a token is never minted from a
    /// token), else a new one for the signed-in user.
    /// </summary>
    private static string MediaToken(HttpContext http, TokenService tokens, int cameraId)
    {
        if (http.User.MediaCamera() is not null && http.Request.Query["token"].FirstOrDefault() is { Length: > 0 } presented)
        {
            return presented;
        }

        // An API token client sends its Authorization header to the media routes: its URIs carry no token.
        return http.User.ApiTokenId() is not null ? "" : tokens.CreateMediaToken(http.User, cameraId).Token;
    }

    /// <summary>Points every URI of the Recorder's playlist (lines and URI="..." attributes) at Core's live/ route with the token.</summary>
    public static string WithToken(string playlist, string token)
    {
        var suffix = token.Length == 0 ? "" : "?token=" + Uri.EscapeDataString(token);
        var output = new StringBuilder(playlist.Length + 256);
        foreach (var line in playlist.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            output.Append(line.StartsWith('#')
                ? UriAttribute().Replace(line, match => $"URI=\"live/{match.Groups["uri"].Value}{suffix}\"")
                : $"live/{line}{suffix}").Append('\n');
        }

        return output.ToString();
    }

    private static ProblemHttpResult CameraNotFound(int id) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"Camera {id} does not exist.");

    private static ProblemHttpResult NotStreaming(int id) =>
        TypedResults.Problem(statusCode: 404, title: "Not found",
            detail: $"No recorder holds camera {id} now (disabled, not recording, or no Recorder is running), so there is no live view.");

    [GeneratedRegex(@"^(init-\d{1,9}\.mp4|seg-\d{1,18}\.m4s|part-\d{1,18}\.\d{1,4}\.m4s)$")]
    private static partial Regex MediaFile();

    [GeneratedRegex("URI=\"(?<uri>[^\"]+)\"")]
    private static partial Regex UriAttribute();
}
