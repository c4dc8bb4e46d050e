using Microsoft.AspNetCore.Http.HttpResults;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Recordings;
using OpenNvr.Core.Telemetry;
using OpenNvr.Storage;

namespace OpenNvr.Core.Apis;

public sealed record RecordingDto(long Id, double StartUnix, double EndUnix, double DurationS, long SizeBytes, string Url);

public sealed record GapDto(double StartUnix, double EndUnix);

public sealed record RecordingsWindowResponse(int CameraId, double StartUnix, double EndUnix, IReadOnlyList<RecordingDto> Recordings, IReadOnlyList<GapDto> Gaps);

public sealed record EvidenceRequest(bool IsEvidence);

public sealed record EvidenceResponse(long Id, int CameraId, bool IsEvidence);

public static class RecordingsApi
{
    public static IEndpointRouteBuilder MapRecordingsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/recordings").WithTags("Recordings")
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/{cameraId:int}", WindowAsync).WithName("getRecordingsWindow").RequireAuthorization()
            .WithSummary("Chunks overlapping [start_unix, end_unix) oldest first, and the uncovered gaps (holes of at most 1 s count as continuous)")
            .ProducesValidationProblem();
        // Files and playlists are not JSON: their media types are declared here, their problems by the handlers' types.
        api.MapGet("/{cameraId:int}/{id:long}/file", FileAsync).WithName("getRecordingFile").RequireAuthorization(AuthPolicies.Media)
            .WithSummary("The MP4 chunk (HTTP range requests supported); Bearer header or ?token=<media token>")
            .Produces<Stream>(StatusCodes.Status200OK, "video/mp4")
            .Produces<Stream>(StatusCodes.Status206PartialContent, "video/mp4");
        // The same file under a media extension: HLS players (ffmpeg, ffplay, mpv) accept only segment URIs that end in one.
        api.MapGet("/{cameraId:int}/{id:long}/file.mp4", FileAsync).WithName("getRecordingFileMp4").RequireAuthorization(AuthPolicies.Media)
            .WithSummary("The MP4 chunk under a media extension (what the playlist lists); Bearer header or ?token=<media token>")
            .Produces<Stream>(StatusCodes.Status200OK, "video/mp4")
            .Produces<Stream>(StatusCodes.Status206PartialContent, "video/mp4");
        api.MapGet("/{cameraId:int}/playlist.m3u8", PlaylistAsync).WithName("getRecordingsPlaylist").RequireAuthorization(AuthPolicies.Media)
            .WithSummary("HLS VOD playlist of the window's chunks; segment URLs carry a media token, so players need no headers")
            .Produces<string>(StatusCodes.Status200OK, "application/vnd.apple.mpegurl")
            .ProducesValidationProblem();
        api.MapPost("/{cameraId:int}/media-token", MediaTokenAsync).WithName("createMediaToken").RequireAuthorization()
            .WithSummary("A short-lived token for ?token= on this camera's media routes (HLS players, <video>, <img>)");
        api.MapPut("/{cameraId:int}/{id:long}/evidence", EvidenceAsync).WithName("setRecordingEvidence").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Flags a chunk as evidence (retention never deletes it) or clears the flag (admin, operator)")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    /// <summary>One chunk as the window and the playlist need it (no tracking, only these columns).</summary>
    private sealed record Chunk(long Id, string Path, DateTimeOffset StartAt, DateTimeOffset EndAt, double DurationS, long SizeBytes);

    /// <summary>The window's chunks: the index on (camera_id, start_at) bounds the scan by the longest chunk allowed.</summary>
    private static Task<List<Chunk>> ChunksAsync(NvrDbContext db, int cameraId, double start, double end, CancellationToken ct)
    {
        var from = Timeline.FromUnix(start);
        var to = Timeline.FromUnix(end);
        var lookBack = from.AddSeconds(-Timeline.MaxChunkSeconds);
        return db.Recordings.AsNoTracking()
            .Where(r => r.CameraId == cameraId && r.StartAt >= lookBack && r.StartAt < to && r.EndAt > from)
            .OrderBy(r => r.StartAt).ThenBy(r => r.Id)
            .Select(r => new Chunk(r.Id, r.Path, r.StartAt, r.EndAt, r.DurationS, r.SizeBytes))
            .ToListAsync(ct);
    }

    private static async Task<Results<Ok<RecordingsWindowResponse>, NotFoundProblem>> WindowAsync(int cameraId, [AsParameters] RecordingsWindow window,
        HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, cameraId, ct))
        {
            return Problems.NoSuchCamera(cameraId);
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("recordings.window");
        var chunks = await ChunksAsync(db, cameraId, window.Start, window.End, ct);
        activity?.SetTag("recordings.count", chunks.Count);
        var spans = chunks.Select(c => new TimeSpanUnix(Timeline.ToUnix(c.StartAt), Timeline.ToUnix(c.EndAt))).ToList();
        var gaps = Timeline.Gaps(window.Start, window.End, spans);
        return TypedResults.Ok(new RecordingsWindowResponse(
            cameraId,
            window.Start,
            window.End,
            chunks.Select((c, i) => new RecordingDto(c.Id, spans[i].StartUnix, spans[i].EndUnix, c.DurationS, c.SizeBytes,
                $"/api/v1/recordings/{cameraId}/{c.Id}/file")).ToList(),
            gaps.Select(g => new GapDto(g.StartUnix, g.EndUnix)).ToList()));
    }

    /// <summary>
    /// The chunk from the recording store: a local store's file with sendfile, a blob with one ranged read of exactly
    /// the requested bytes. The Recorder registers a chunk only once it is stored, so every listed chunk is here
    /// unless retention deleted it since.
    /// </summary>
    private static async Task<Results<PhysicalFileHttpResult, StoredMediaResult, NotFoundProblem, ServiceUnavailableProblem>> FileAsync(
        int cameraId, long id, HttpContext http, NvrDbContext db, IRecordingStore store, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, cameraId, ct))
        {
            return Problems.NoSuchCamera(cameraId);
        }

        var path = await db.Recordings.AsNoTracking().Where(r => r.Id == id && r.CameraId == cameraId).Select(r => r.Path).SingleOrDefaultAsync(ct);
        if (path is null)
        {
            return new NotFoundProblem($"Recording {id} of camera {cameraId} does not exist.");
        }

        return await StoredMedia.ServeAsync(store, path, "video/mp4", $"The chunk of recording {id} is not in the recording store (deleted by retention).", ct);
    }

    /// <summary>
    /// HLS VOD playlist. Chunks restart their timestamps (ffmpeg -reset_timestamps 1) and each carries its own
    /// moov, so every segment follows an EXT-X-DISCONTINUITY and names its own EXT-X-MAP. A fragmented chunk is
    /// split by byte range into its init (ftyp+moov) and media (moof/mdat) parts; a non-fragmented chunk is listed
    /// whole (players that need fMP4 or TS segments cannot play those: the Recorder writes fragmented chunks).
    /// </summary>
    private static async Task<Results<ContentHttpResult, NotFoundProblem, ServiceUnavailableProblem>> PlaylistAsync(int cameraId, [AsParameters] RecordingsWindow window,
        HttpContext http, NvrDbContext db, Mp4InitSegmentReader mp4, TokenService tokens, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, cameraId, ct))
        {
            return Problems.NoSuchCamera(cameraId);
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("recordings.playlist");
        var chunks = await ChunksAsync(db, cameraId, window.Start, window.End, ct);
        var segments = new List<(Chunk Chunk, Mp4Layout? Layout)>();
        try
        {
            // The init part of each chunk: a small ranged read per chunk not yet cached (chunks never change).
            foreach (var chunk in chunks)
            {
                if (await mp4.ReadAsync(chunk.Path, chunk.SizeBytes, ct) is { } layout)
                {
                    segments.Add((chunk, layout));
                }
            }
        }
        catch (RecordingStoreException ex)
        {
            return new ServiceUnavailableProblem($"The recording store does not answer: {ex.Message}");
        }

        if (segments.Count == 0)
        {
            return new NotFoundProblem($"Camera {cameraId} has no playable recordings between {window.Start} and {window.End}.");
        }

        // A media token never buys another: its holder gets the same token back in the segment URLs (it is bound to
        // this camera and user and ends when it ends). Header callers (an access or API token) get a new media token.
        var token = MediaTokenFor(http, tokens, cameraId);
        var inv = CultureInfo.InvariantCulture;
        var playlist = new StringBuilder()
            .Append("#EXTM3U\n#EXT-X-VERSION:7\n")
            .Append(inv, $"#EXT-X-TARGETDURATION:{(int)Math.Ceiling(segments.Max(s => s.Chunk.DurationS > 0 ? s.Chunk.DurationS : 1))}\n")
            .Append("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n");
        for (var i = 0; i < segments.Count; i++)
        {
            var (chunk, layout) = (segments[i].Chunk, segments[i].Layout!.Value);
            var url = token.Length == 0 ? $"{chunk.Id}/file.mp4" : $"{chunk.Id}/file.mp4?token={Uri.EscapeDataString(token)}";
            if (i > 0)
            {
                playlist.Append("#EXT-X-DISCONTINUITY\n");
            }

            playlist.Append(inv, $"#EXT-X-PROGRAM-DATE-TIME:{chunk.StartAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\n");
            if (layout.IsFragmented)
            {
                playlist.Append(inv, $"#EXT-X-MAP:URI=\"{url}\",BYTERANGE=\"{layout.InitLength}@0\"\n");
                playlist.Append(inv, $"#EXTINF:{chunk.DurationS:0.000},\n");
                playlist.Append(inv, $"#EXT-X-BYTERANGE:{layout.FileLength - layout.InitLength}@{layout.InitLength}\n");
            }
            else
            {
                playlist.Append(inv, $"#EXTINF:{chunk.DurationS:0.000},\n");
            }

            playlist.Append(url).Append('\n');
        }

        playlist.Append("#EXT-X-ENDLIST\n");
        activity?.SetTag("recordings.count", segments.Count);
        return TypedResults.Text(playlist.ToString(), "application/vnd.apple.mpegurl", Encoding.UTF8);
    }

    /// <summary>The media token the segment URLs carry: the caller's own, or one minted from its access token.</summary>
    private static string MediaTokenFor(HttpContext http, TokenService tokens, int cameraId)
    {
        if (http.User.MediaCamera() is not null)
        {
            return http.Request.Query["token"].ToString();
        }

        // An API token caller's player sends the same header to the segments; the URLs then carry no token.
        return http.User.ApiTokenId() is not null ? "" : tokens.CreateMediaToken(http.User, cameraId).Token;
    }

    private static async Task<Results<Ok<MediaTokenResponse>, NotFoundProblem, ForbiddenProblem>> MediaTokenAsync(int cameraId, HttpContext http, NvrDbContext db, TokenService tokens, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, cameraId, ct))
        {
            return Problems.NoSuchCamera(cameraId);
        }

        if (http.User.ApiTokenId() is not null)
        {
            return new ForbiddenProblem("API tokens send 'Authorization: Bearer onvr_…' to media routes; media tokens are minted after a login.");
        }

        return TypedResults.Ok(tokens.CreateMediaToken(http.User, cameraId));
    }

    private static async Task<Results<Ok<EvidenceResponse>, NotFoundProblem>> EvidenceAsync(int cameraId, long id, EvidenceRequest request, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, cameraId, ct))
        {
            return Problems.NoSuchCamera(cameraId);
        }

        var updated = await db.Recordings.Where(r => r.Id == id && r.CameraId == cameraId)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.IsEvidence, request.IsEvidence), ct);
        if (updated == 0)
        {
            return new NotFoundProblem($"Recording {id} of camera {cameraId} does not exist.");
        }

        db.Audit(http, request.IsEvidence ? "recording.evidence_set" : "recording.evidence_cleared", "recording", id, new { camera_id = cameraId });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new EvidenceResponse(id, cameraId, request.IsEvidence));
    }
}
