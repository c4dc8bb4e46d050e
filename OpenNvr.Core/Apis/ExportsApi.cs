using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Contracts;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Exports;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Recordings;

namespace OpenNvr.Core.Apis;

/// <summary><c>POST /api/v1/exports</c>: a range of one camera's recordings to make into one MP4.</summary>
public sealed record ExportRequest(
    [property: Required] int? CameraId,
    [property: Required, UnixSeconds(ErrorMessage = "start_unix " + UnixTime.Rule + ".")] double? StartUnix,
    [property: Required, UnixSeconds(ErrorMessage = "end_unix " + UnixTime.Rule + ".")] double? EndUnix,
    [property: StringLength(100)] string? Name = null);

public sealed record ExportCreatedResponse(long Id, string Status);

public sealed record ExportDto(
    long Id,
    int CameraId,
    string? Name,
    double StartUnix,
    double EndUnix,
    double? ClipStartUnix,
    string Status,
    double Progress,
    long? SizeBytes,
    double? DurationS,
    string? Url,
    string? Error,
    IReadOnlyList<GapDto> Gaps,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt);

public sealed record ExportListResponse(IReadOnlyList<ExportDto> Exports, int Count);

/// <summary>
/// Clip exports (docs/core.md, "Exports"): create (202, queued), read with status and progress, list, delete, download.
/// Every route checks the caller's grant on the export's camera (an export of a camera one cannot see is 404, as the
/// camera is). Creating and deleting are audited. The chunks an export covers are kept by retention while it exists.
/// </summary>
public static class ExportsApi
{
    private static readonly JsonSerializerOptions GapsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static IEndpointRouteBuilder MapExportsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/exports").WithTags("Exports").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        api.MapPost("/", CreateAsync).WithName("createExport")
            .WithSummary("Queues an export of [start_unix, end_unix) of a camera: one MP4, stream copy, from the keyframe at or before the start");
        api.MapGet("/", ListAsync).WithName("listExports").WithSummary("Exports of the cameras the caller can see, newest first");
        api.MapGet("/{id:long}", GetAsync).WithName("getExport").WithSummary("An export: status (queued, running, done, failed), progress 0..1, size, url");
        api.MapDelete("/{id:long}", DeleteAsync).WithName("deleteExport").WithSummary("Deletes an export and its file (stops it if it is running)");
        api.MapGet("/{id:long}/file", FileAsync).WithName("getExportFile").RequireAuthorization(AuthPolicies.Media)
            .WithSummary("The exported MP4 (HTTP range requests supported); Bearer header or ?token=<media token of the camera>");
        return app;
    }

    private static async Task<Results<Accepted<ExportCreatedResponse>, ProblemHttpResult>> CreateAsync(ExportRequest request, HttpContext http,
        NvrDbContext db, IOptions<ExportOptions> options, ExportQueue queue, TimeProvider clock, CancellationToken ct)
    {
        if (request.CameraId is not { } cameraId || request.StartUnix is not { } start || request.EndUnix is not { } end)
        {
            return Bad("camera_id, start_unix and end_unix are required.");
        }

        if ((UnixTime.Check(start, "start_unix") ?? UnixTime.Check(end, "end_unix")) is { } outOfRange)
        {
            return Bad(outOfRange);
        }

        if (end <= start)
        {
            return Bad($"end_unix ({end.ToString(CultureInfo.InvariantCulture)}) must be after start_unix ({start.ToString(CultureInfo.InvariantCulture)}).");
        }

        var max = options.Value.MaxRangeSeconds;
        if (end - start > max)
        {
            return Bad($"The range is {end - start:0.#} s; an export covers at most {max:0.#} s (Exports:MaxRangeSeconds).");
        }

        if (request.Name is { } name && (name.Length > 100 || name.Any(char.IsControl)))
        {
            return Bad("name must be at most 100 characters without control characters.");
        }

        if (!await db.CanSeeCameraAsync(http.User, cameraId, ct))
        {
            return NotFound($"Camera {cameraId} does not exist.");
        }

        var from = Timeline.FromUnix(start);
        var to = Timeline.FromUnix(end);
        var lookBack = from.AddSeconds(-Timeline.MaxChunkSeconds);
        if (!await db.Recordings.AnyAsync(r => r.CameraId == cameraId && r.StartAt >= lookBack && r.StartAt < to && r.EndAt > from, ct))
        {
            return Bad($"Camera {cameraId} has nothing recorded between {start.ToString(CultureInfo.InvariantCulture)} and {end.ToString(CultureInfo.InvariantCulture)}.");
        }

        var export = new ClipExport
        {
            CameraId = cameraId,
            CreatedByUserId = http.User.UserId(),
            Name = request.Name is { Length: > 0 } n ? n : null,
            StartAt = from,
            EndAt = to,
            Status = ExportStatuses.Queued,
            CreatedAt = clock.GetUtcNow(),
        };
        db.Exports.Add(export);
        await db.SaveChangesAsync(ct);
        db.Audit(http, "export.created", "export", export.Id, new { camera_id = cameraId, start_unix = start, end_unix = end });
        await db.SaveChangesAsync(ct);
        queue.Enqueue(export.Id);
        return TypedResults.Accepted($"/api/v1/exports/{export.Id}", new ExportCreatedResponse(export.Id, export.Status));
    }

    private static async Task<Results<Ok<ExportListResponse>, ProblemHttpResult>> ListAsync(HttpContext http, NvrDbContext db,
        [FromQuery(Name = "camera_id")] int? cameraId, [FromQuery] int? limit, CancellationToken ct)
    {
        if (limit is < 1 or > 500)
        {
            return Bad("limit must be between 1 and 500.");
        }

        var exports = Visible(db, http).AsNoTracking();
        if (cameraId is { } camera)
        {
            exports = exports.Where(e => e.CameraId == camera);
        }

        var rows = await exports.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Take(limit ?? 100).ToListAsync(ct);
        return TypedResults.Ok(new ExportListResponse(rows.Select(ToDto).ToList(), rows.Count));
    }

    private static async Task<Results<Ok<ExportDto>, ProblemHttpResult>> GetAsync(long id, HttpContext http, NvrDbContext db, CancellationToken ct) =>
        await Visible(db, http).AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, ct) is { } export
            ? TypedResults.Ok(ToDto(export))
            : ExportNotFound(id);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(long id, HttpContext http, NvrDbContext db, ExportQueue queue, CancellationToken ct)
    {
        var export = await Visible(db, http).SingleOrDefaultAsync(e => e.Id == id, ct);
        if (export is null)
        {
            return ExportNotFound(id);
        }

        var user = http.User;
        if (!user.IsInRole(Roles.Admin) && !user.IsInRole(Roles.Operator) && export.CreatedByUserId != user.UserId())
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "Only an admin, an operator or the user who made it can delete an export.");
        }

        queue.Cancel(id);
        db.Exports.Remove(export);
        db.Audit(http, "export.deleted", "export", id, new { camera_id = export.CameraId });
        await db.SaveChangesAsync(ct);
        foreach (var file in new[] { export.FileName }.OfType<string>().SelectMany(f => new[] { f, f + ".part", f + ".ffconcat" }))
        {
            try
            {
                File.Delete(queue.FilePath(file));
            }
            catch (IOException)
            {
            }
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<PhysicalFileHttpResult, ProblemHttpResult>> FileAsync(long id, HttpContext http, NvrDbContext db, ExportQueue queue, CancellationToken ct)
    {
        var export = await db.Exports.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, ct);
        if (export is null || !await db.CanSeeCameraAsync(http.User, export.CameraId, ct))
        {
            return ExportNotFound(id);
        }

        if (export.Status != ExportStatuses.Done || export.FileName is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not ready",
                detail: $"Export {id} is {export.Status}; its file can be downloaded once it is done.");
        }

        var path = queue.FilePath(export.FileName);
        if (!File.Exists(path))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"The file of export {id} is gone.");
        }

        var at = (export.ClipStartAt ?? export.StartAt).UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        return TypedResults.PhysicalFile(path, "video/mp4", $"camera-{export.CameraId}-{at}.mp4", enableRangeProcessing: true);
    }

    /// <summary>Exports of the cameras the caller can see (a media token: only its camera).</summary>
    private static IQueryable<ClipExport> Visible(NvrDbContext db, HttpContext http)
    {
        var exports = db.Exports.AsQueryable();
        if (http.User.MediaCamera() is { } mediaCamera)
        {
            exports = exports.Where(e => e.CameraId == mediaCamera);
        }

        return db.VisibleCameraIds(http.User) is { } visible ? exports.Where(e => visible.Contains(e.CameraId)) : exports;
    }

    private static ExportDto ToDto(ClipExport e) => new(
        e.Id,
        e.CameraId,
        e.Name,
        Timeline.ToUnix(e.StartAt),
        Timeline.ToUnix(e.EndAt),
        e.ClipStartAt is { } clip ? Timeline.ToUnix(clip) : null,
        e.Status,
        e.Progress,
        e.SizeBytes,
        e.DurationS,
        e.Status == ExportStatuses.Done ? $"/api/v1/exports/{e.Id}/file" : null,
        e.Error,
        e.Gaps?.Deserialize<List<GapDto>>(GapsJson) ?? [],
        e.CreatedAt,
        e.FinishedAt);

    private static ProblemHttpResult Bad(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    private static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    private static ProblemHttpResult ExportNotFound(long id) => NotFound($"Export {id} does not exist.");
}
