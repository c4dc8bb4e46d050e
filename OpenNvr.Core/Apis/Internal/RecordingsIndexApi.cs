using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Exports;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Recordings;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis.Internal;

/// <summary>The recordings index as the Recorder keeps it: chunk registration, and the query and delete of retention.</summary>
internal static class RecordingsIndexApi
{
    public static void MapRecordingsIndex(this RouteGroupBuilder api)
    {
        api.MapPost("/recordings", RegisterAsync).WithName("registerRecordings")
            .WithSummary("Registers finished chunks (idempotent on camera_id + path)");
        api.MapPost("/recordings/query", QueryAsync).WithName("queryRecordingsForRetention")
            .WithSummary("A camera's chunks oldest first, for retention");
        api.MapPost("/recordings/delete", DeleteAsync).WithName("deleteRecordingRows")
            .WithSummary("Removes index rows of deleted chunk files (evidence or export-covered chunks refused: 409)");
    }

    private static async Task<Results<Ok<RegisterRecordingsResponse>, ProblemHttpResult>> RegisterAsync(RegisterRecordingsRequest request,
        NvrDbContext db, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var rows = request.Recordings;
        if (await InternalApi.FirstUnknownCameraAsync(db, rows.Select(r => r.CameraId), ct) is { } unknown)
        {
            return Problems.NotFound($"Camera {unknown} does not exist; no chunk of this batch was registered.");
        }

        if (rows.FirstOrDefault(r => !RecordingPaths.BelongsTo(r.Path, r.CameraId)) is { } stray)
        {
            return Problems.BadRequest(
                $"path '{stray.Path}' is outside camera {stray.CameraId}'s folder '{RecordingPaths.CameraPrefix(stray.CameraId)}'; no chunk of this batch was registered.");
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("recordings.register");
        activity?.SetTag("recordings.count", rows.Count);
        var now = clock.GetUtcNow();
        var cams = rows.Select(r => r.CameraId).ToArray();
        var paths = rows.Select(r => r.Path).ToArray();
        var starts = rows.Select(r => Timeline.FromUnix(r.StartUnix)).ToArray();
        var ends = rows.Select(r => Timeline.FromUnix(r.EndUnix)).ToArray();
        var durations = rows.Select(r => r.DurationS ?? r.EndUnix - r.StartUnix).ToArray();
        var sizes = rows.Select(r => r.SizeBytes).ToArray();
        var codecs = rows.Select(r => r.Codec).ToArray();
        var widths = rows.Select(r => r.Width).ToArray();
        var heights = rows.Select(r => r.Height).ToArray();

        // One statement for the batch: all of it or none of it, duplicates (retries) skipped by the unique index.
        var inserted = await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var count = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO recordings (camera_id, path, start_at, end_at, duration_s, size_bytes, codec, width, height, is_evidence, created_at)
                SELECT r.camera_id, r.path, r.start_at, r.end_at, r.duration_s, r.size_bytes, r.codec, r.width, r.height, false, {now}
                FROM unnest({cams}, {paths}, {starts}, {ends}, {durations}, {sizes}, {codecs}, {widths}, {heights})
                    AS r(camera_id, path, start_at, end_at, duration_s, size_bytes, codec, width, height)
                ON CONFLICT (camera_id, path) DO NOTHING
                """, ct);
            await db.Database.ExecuteSqlAsync($"""
                UPDATE cameras c SET last_recording_at = latest.end_at
                FROM (SELECT r.camera_id, max(r.end_at) AS end_at FROM unnest({cams}, {ends}) AS r(camera_id, end_at) GROUP BY r.camera_id) latest
                WHERE c.id = latest.camera_id AND (c.last_recording_at IS NULL OR c.last_recording_at < latest.end_at)
                """, ct);
            await transaction.CommitAsync(ct);
            return count;
        });

        var duplicates = rows.Count - inserted;
        CoreTelemetry.RecordingsRegistered.Add(inserted, new KeyValuePair<string, object?>("result", "inserted"));
        CoreTelemetry.RecordingsRegistered.Add(duplicates, new KeyValuePair<string, object?>("result", "duplicate"));
        CoreLog.RecordingsRegistered(loggers.CreateLogger(typeof(InternalApi)), inserted, duplicates, cams.Distinct().Count());
        return TypedResults.Ok(new RegisterRecordingsResponse(inserted, duplicates));
    }

    private static async Task<Results<Ok<RecordingsQueryResponse>, ProblemHttpResult>> QueryAsync(RecordingsQueryRequest request,
        NvrDbContext db, CancellationToken ct)
    {
        if (!await db.Cameras.AnyAsync(c => c.Id == request.CameraId, ct))
        {
            return Problems.CameraNotFound(request.CameraId);
        }

        var chunks = db.Recordings.AsNoTracking().Where(r => r.CameraId == request.CameraId);
        var totalBytes = await chunks.SumAsync(r => (long?)r.SizeBytes, ct) ?? 0;
        if (request.OlderThanUnix is { } olderThan)
        {
            var before = Timeline.FromUnix(olderThan);
            chunks = chunks.Where(r => r.EndAt <= before);
        }

        // A chunk covered by an export (not failed) is kept like evidence while the export exists.
        var page = await chunks.OrderBy(r => r.StartAt).ThenBy(r => r.Id).Take(request.Limit)
            .Select(r => new { Row = r, Kept = r.IsEvidence || db.Exports.Any(e => e.CameraId == r.CameraId && e.Status != ExportStatuses.Failed && e.StartAt < r.EndAt && e.EndAt > r.StartAt) })
            .ToListAsync(ct);
        return TypedResults.Ok(new RecordingsQueryResponse(
            request.CameraId,
            page.Select(p => new IndexedChunk(p.Row.Id, p.Row.Path, Timeline.ToUnix(p.Row.StartAt), Timeline.ToUnix(p.Row.EndAt), p.Row.SizeBytes, p.Kept)).ToList(),
            totalBytes,
            page.Count));
    }

    private static async Task<Results<Ok<RecordingsDeleteResponse>, ProblemHttpResult>> DeleteAsync(RecordingsDeleteRequest request,
        NvrDbContext db, CancellationToken ct)
    {
        var paths = request.Paths.Distinct().ToArray();
        var rows = db.Recordings.Where(r => r.CameraId == request.CameraId && paths.Contains(r.Path));
        var evidence = await rows.Where(r => r.IsEvidence || db.Exports.Any(e => e.CameraId == r.CameraId && e.Status != ExportStatuses.Failed && e.StartAt < r.EndAt && e.EndAt > r.StartAt)).Select(r => r.Path).Take(5).ToListAsync(ct);
        if (evidence.Count > 0)
        {
            return Problems.Conflict($"Chunks flagged as evidence or covered by an export cannot be deleted: {string.Join(", ", evidence)}. Nothing was deleted.");
        }

        var deleted = await rows.ExecuteDeleteAsync(ct);
        return TypedResults.Ok(new RecordingsDeleteResponse(deleted));
    }
}
