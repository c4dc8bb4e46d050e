using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Cameras;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Integrations;
using OpenNvr.Core.Model;
using OpenNvr.Core.Recordings;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis;

public sealed record HeartbeatRequest(string RecorderId, string BaseUrl, int MaxCameras = 32);

public sealed record RecorderCameraDto(
    int Id,
    string Name,
    bool Enabled,
    bool RecordingEnabled,
    string StreamUrl,
    string? SubStreamUrl,
    int RetentionDays,
    long? StorageQuotaBytes,
    IReadOnlyList<AiPolicyDto> AiPolicies);

public sealed record HeartbeatResponse(int LeaseSeconds, IReadOnlyList<RecorderCameraDto> Cameras);

public sealed record RecordingRegistration(
    int CameraId,
    string Path,
    double StartUnix,
    double EndUnix,
    double? DurationS = null,
    long SizeBytes = 0,
    string? Codec = null,
    int? Width = null,
    int? Height = null);

public sealed record RegisterRecordingsRequest(IReadOnlyList<RecordingRegistration> Recordings);

public sealed record RegisterRecordingsResponse(int Inserted, int Duplicates);

public sealed record RecordingsQueryRequest(int CameraId, double? OlderThanUnix = null, int Limit = 500);

public sealed record InternalRecordingDto(long Id, string Path, double StartUnix, double EndUnix, long SizeBytes, bool IsEvidence);

public sealed record RecordingsQueryResponse(int CameraId, IReadOnlyList<InternalRecordingDto> Recordings, long TotalBytes, int Count);

public sealed record RecordingsDeleteRequest(int CameraId, IReadOnlyList<string> Paths);

public sealed record RecordingsDeleteResponse(int Deleted);

public sealed record CameraStateRequest(string RecordingState, string? Reason = null, double? LastRecordingAtUnix = null);

public sealed record EventIngest(
    int CameraId,
    string Task,
    long ExecutedAtUnixMs,
    string? Label = null,
    int? Count = null,
    double? Confidence = null,
    JsonElement? Bbox = null,
    string? SnapshotPath = null,
    long? CapturedAtUnixMs = null,
    double? LatencyMs = null,
    string? TraceId = null,
    JsonElement? Payload = null,
    string? Traceparent = null);

public sealed record IngestEventsRequest(IReadOnlyList<EventIngest> Events);

public sealed record IngestEventsResponse(int Inserted);

/// <summary>
/// Service-to-service routes (docs/internal-api.md): the Recorder's heartbeat and leases, the recordings index,
/// camera state and event ingest. Authenticated by X-Internal-Key only.
/// </summary>
public static class InternalApi
{
    public const int MaxRecordingsPerBatch = 1000;
    public const int MaxEventsPerBatch = 500;
    public const int MaxJsonBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/internal")
            .WithTags("Internal")
            .AllowAnonymous()
            .RequireInternalKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapPost("/recorders/heartbeat", HeartbeatAsync)
            .WithSummary("Recorder heartbeat: renews leases, assigns cameras, returns the caller's camera configuration");
        api.MapPost("/recordings", RegisterRecordingsAsync)
            .WithSummary("Registers finished chunks (idempotent on camera_id + path)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/recordings/query", QueryRecordingsAsync)
            .WithSummary("A camera's chunks oldest first, for retention");
        api.MapPost("/recordings/delete", DeleteRecordingsAsync)
            .WithSummary("Removes index rows of deleted chunk files (evidence refused: 409)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/cameras/{id:int}/state", SetCameraStateAsync)
            .WithSummary("Reports a camera's recording state")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/events", IngestEventsAsync)
            .WithSummary("Stores a batch (at most 500) of AI events")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<IResult> HeartbeatAsync(HeartbeatRequest request, RecorderLeaseService leases,
        CameraCredentialProtector protector, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.RecorderId) || request.RecorderId.Length > 64 || request.RecorderId.Any(char.IsControl))
        {
            return Problems.BadRequest("recorder_id is required (at most 64 characters, no control characters).");
        }

        if (!Uri.TryCreate(request.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https") ||
            request.BaseUrl.Length > 2048)
        {
            return Problems.BadRequest("base_url must be an absolute http(s) URL.");
        }

        if (request.MaxCameras is < 0 or > 10_000)
        {
            return Problems.BadRequest("max_cameras must be between 0 and 10000.");
        }

        var cameras = await leases.HeartbeatAsync(request.RecorderId, request.BaseUrl, request.MaxCameras, ct);
        return TypedResults.Ok(new HeartbeatResponse(leases.LeaseSeconds, cameras.Select(c => new RecorderCameraDto(
            c.Id,
            c.Name,
            c.IsActive,
            c.RecordingEnabled,
            StreamUrl.WithCredentials(c.StreamUrl, protector.Unprotect(c.StreamCredentialsProtected)),
            c.SubStreamUrl is null ? null : StreamUrl.WithCredentials(c.SubStreamUrl, protector.Unprotect(c.SubStreamCredentialsProtected)),
            c.RetentionDays,
            c.StorageQuotaBytes,
            c.AiPolicies.OrderBy(p => p.Id).Select(AiPolicyDto.From).ToList())).ToList()));
    }

    private static async Task<IResult> RegisterRecordingsAsync(RegisterRecordingsRequest request, NvrDbContext db,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        if (request.Recordings is null || request.Recordings.Count == 0 || request.Recordings.Count > MaxRecordingsPerBatch)
        {
            return Problems.BadRequest($"recordings must hold 1 to {MaxRecordingsPerBatch} chunks.");
        }

        for (var i = 0; i < request.Recordings.Count; i++)
        {
            if (CheckRegistration(request.Recordings[i], $"recordings[{i}]") is { } problem)
            {
                return Problems.BadRequest(problem);
            }
        }

        var cameraIds = request.Recordings.Select(r => r.CameraId).Distinct().ToArray();
        var known = await db.Cameras.Where(c => cameraIds.Contains(c.Id)).Select(c => c.Id).ToListAsync(ct);
        if (known.Count != cameraIds.Length)
        {
            return Problems.NotFound($"Camera {cameraIds.Except(known).First()} does not exist; no chunk of this batch was registered.");
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("recordings.register");
        activity?.SetTag("recordings.count", request.Recordings.Count);
        var now = clock.GetUtcNow();
        var rows = request.Recordings;
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
        CoreLog.RecordingsRegistered(loggers.CreateLogger(typeof(InternalApi)), inserted, duplicates, cameraIds.Length);
        return TypedResults.Ok(new RegisterRecordingsResponse(inserted, duplicates));
    }

    private static string? CheckRegistration(RecordingRegistration? r, string where)
    {
        if (r is null)
        {
            return $"{where} is null.";
        }

        if (RecordingsOptions.CheckRelativePath(r.Path, $"{where}.path") is { } pathProblem)
        {
            return pathProblem;
        }

        if (!double.IsFinite(r.StartUnix) || !double.IsFinite(r.EndUnix) || r.StartUnix < 0)
        {
            return $"{where}: start_unix and end_unix must be finite, non-negative Unix seconds.";
        }

        if (r.EndUnix <= r.StartUnix)
        {
            return $"{where}: end_unix must be after start_unix.";
        }

        if (r.EndUnix - r.StartUnix > Timeline.MaxChunkSeconds)
        {
            return $"{where}: a chunk may last at most {Timeline.MaxChunkSeconds} s.";
        }

        if (r.DurationS is { } d && (!double.IsFinite(d) || d < 0 || d > Timeline.MaxChunkSeconds))
        {
            return $"{where}.duration_s must be between 0 and {Timeline.MaxChunkSeconds}.";
        }

        if (r.SizeBytes < 0)
        {
            return $"{where}.size_bytes must not be negative.";
        }

        if (r.Codec is { Length: > 32 } || r.Codec is not null && r.Codec.Any(char.IsControl))
        {
            return $"{where}.codec must be at most 32 printable characters.";
        }

        return r.Width is < 0 or > 16384 || r.Height is < 0 or > 16384 ? $"{where}: width and height must be between 0 and 16384." : null;
    }

    private static async Task<IResult> QueryRecordingsAsync(RecordingsQueryRequest request, NvrDbContext db, CancellationToken ct)
    {
        if (request.Limit is < 1 or > 10_000)
        {
            return Problems.BadRequest("limit must be between 1 and 10000.");
        }

        if (request.OlderThanUnix is { } older && !double.IsFinite(older))
        {
            return Problems.BadRequest("older_than_unix must be a finite number of Unix seconds.");
        }

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

        var page = await chunks.OrderBy(r => r.StartAt).ThenBy(r => r.Id).Take(request.Limit).ToListAsync(ct);
        return TypedResults.Ok(new RecordingsQueryResponse(
            request.CameraId,
            page.Select(r => new InternalRecordingDto(r.Id, r.Path, Timeline.ToUnix(r.StartAt), Timeline.ToUnix(r.EndAt), r.SizeBytes, r.IsEvidence)).ToList(),
            totalBytes,
            page.Count));
    }

    private static async Task<IResult> DeleteRecordingsAsync(RecordingsDeleteRequest request, NvrDbContext db, CancellationToken ct)
    {
        if (request.Paths is null || request.Paths.Count > 10_000)
        {
            return Problems.BadRequest("paths must be a list of at most 10000 relative paths.");
        }

        for (var i = 0; i < request.Paths.Count; i++)
        {
            if (RecordingsOptions.CheckRelativePath(request.Paths[i], $"paths[{i}]") is { } problem)
            {
                return Problems.BadRequest(problem);
            }
        }

        var paths = request.Paths.Distinct().ToArray();
        var rows = db.Recordings.Where(r => r.CameraId == request.CameraId && paths.Contains(r.Path));
        var evidence = await rows.Where(r => r.IsEvidence).Select(r => r.Path).Take(5).ToListAsync(ct);
        if (evidence.Count > 0)
        {
            return Problems.Conflict($"Chunks flagged as evidence cannot be deleted: {string.Join(", ", evidence)}. Nothing was deleted.");
        }

        var deleted = await rows.Where(r => !r.IsEvidence).ExecuteDeleteAsync(ct);
        return TypedResults.Ok(new RecordingsDeleteResponse(deleted));
    }

    private static async Task<IResult> SetCameraStateAsync(int id, CameraStateRequest request, NvrDbContext db,
        TimeProvider clock, IntegrationEvents integrations, ILoggerFactory loggers, CancellationToken ct)
    {
        if (request.RecordingState is null || !RecordingStates.Reported.Contains(request.RecordingState))
        {
            return Problems.BadRequest($"recording_state must be one of {string.Join(", ", RecordingStates.Reported.Order())}.");
        }

        if (request.Reason is { Length: > 500 })
        {
            return Problems.BadRequest("reason must be at most 500 characters.");
        }

        if (request.LastRecordingAtUnix is { } last && (!double.IsFinite(last) || last < 0))
        {
            return Problems.BadRequest("last_recording_at_unix must be finite, non-negative Unix seconds.");
        }

        var now = clock.GetUtcNow();
        DateTimeOffset? lastAt = request.LastRecordingAtUnix is { } unix ? Timeline.FromUnix(unix) : null;
        var updated = await db.Cameras.Where(c => c.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.RecordingState, request.RecordingState)
            .SetProperty(c => c.RecordingStateReason, request.Reason)
            .SetProperty(c => c.RecordingStateAt, now)
            .SetProperty(c => c.LastRecordingAt, c => lastAt != null && (c.LastRecordingAt == null || c.LastRecordingAt < lastAt) ? lastAt : c.LastRecordingAt), ct);
        if (updated == 0)
        {
            return Problems.CameraNotFound(id);
        }

        CoreLog.CameraState(loggers.CreateLogger(typeof(InternalApi)), id, request.RecordingState);
        integrations.RecordingStateChanged(id, request.RecordingState);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> IngestEventsAsync(IngestEventsRequest request, NvrDbContext db, TimeProvider clock,
        IntegrationEvents integrations, ILoggerFactory loggers, CancellationToken ct)
    {
        if (request.Events is null || request.Events.Count == 0 || request.Events.Count > MaxEventsPerBatch)
        {
            return Problems.BadRequest($"events must hold 1 to {MaxEventsPerBatch} events.");
        }

        for (var i = 0; i < request.Events.Count; i++)
        {
            if (CheckEvent(request.Events[i], $"events[{i}]") is { } problem)
            {
                return Problems.BadRequest(problem);
            }
        }

        var cameraIds = request.Events.Select(e => e.CameraId).Distinct().ToArray();
        var known = await db.Cameras.Where(c => cameraIds.Contains(c.Id)).Select(c => c.Id).ToListAsync(ct);
        if (known.Count != cameraIds.Length)
        {
            return Problems.NotFound($"Camera {cameraIds.Except(known).First()} does not exist; no event of this batch was stored.");
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("events.ingest");
        activity?.SetTag("events.count", request.Events.Count);
        var started = Stopwatch.GetTimestamp();
        var insertedAt = clock.GetUtcNow();
        var insertedMs = insertedAt.ToUnixTimeMilliseconds();
        // MQTT and webhooks need the events' ids, which COPY does not return: reserve them first, only when wanted.
        var ids = integrations.WantsEvents ? await IngestedEvents.ReserveIdsAsync(db, request.Events.Count, ct) : null;

        // Binary COPY: an ingest batch is one round trip and one transaction (all of it or none of it).
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                var connection = (NpgsqlConnection)db.Database.GetDbConnection();
                await using var importer = await connection.BeginBinaryImportAsync(
                    "COPY events (" + (ids is null ? "" : "id, ") + "camera_id, task, label, count, confidence, bbox, snapshot_path, executed_at, captured_at, latency_ms, " +
                    "pipeline_latency_ms, trace_id, payload, inserted_at) FROM STDIN (FORMAT BINARY)", ct);
                for (var i = 0; i < request.Events.Count; i++)
                {
                    var e = request.Events[i];
                    await importer.StartRowAsync(ct);
                    if (ids is not null)
                    {
                        await importer.WriteAsync(ids[i], NpgsqlDbType.Bigint, ct);
                    }

                    await importer.WriteAsync(e.CameraId, NpgsqlDbType.Integer, ct);
                    await importer.WriteAsync(e.Task, NpgsqlDbType.Varchar, ct);
                    await WriteNullableAsync(importer, e.Label, NpgsqlDbType.Varchar, ct);
                    await WriteNullableAsync(importer, e.Count, NpgsqlDbType.Integer, ct);
                    await WriteNullableAsync(importer, e.Confidence, NpgsqlDbType.Double, ct);
                    await WriteNullableAsync(importer, JsonOrNull(e.Bbox), NpgsqlDbType.Jsonb, ct);
                    await WriteNullableAsync(importer, e.SnapshotPath, NpgsqlDbType.Varchar, ct);
                    await importer.WriteAsync(DateTimeOffset.FromUnixTimeMilliseconds(e.ExecutedAtUnixMs).UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                    await WriteNullableAsync(importer, e.CapturedAtUnixMs is { } cap ? DateTimeOffset.FromUnixTimeMilliseconds(cap).UtcDateTime : (DateTime?)null, NpgsqlDbType.TimestampTz, ct);
                    await WriteNullableAsync(importer, e.LatencyMs, NpgsqlDbType.Double, ct);
                    await WriteNullableAsync(importer, PipelineLatency(e, insertedMs), NpgsqlDbType.Double, ct);
                    await WriteNullableAsync(importer, e.TraceId, NpgsqlDbType.Varchar, ct);
                    await WriteNullableAsync(importer, JsonOrNull(e.Payload), NpgsqlDbType.Jsonb, ct);
                    await importer.WriteAsync(insertedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                }

                await importer.CompleteAsync(ct);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });

        TraceInserts(request.Events, activity, insertedAt);
        foreach (var e in request.Events)
        {
            if (PipelineLatency(e, insertedMs) is { } latency)
            {
                CoreTelemetry.FrameLatency.Record(latency,
                    new KeyValuePair<string, object?>("camera", e.CameraId), new KeyValuePair<string, object?>("task", e.Task));
            }
        }

        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        CoreTelemetry.EventsIngested.Add(request.Events.Count);
        CoreTelemetry.EventsInsertDuration.Record(elapsedMs);
        CoreLog.EventsStored(loggers.CreateLogger(typeof(InternalApi)), request.Events.Count, elapsedMs);
        if (ids is not null)
        {
            // After the commit, never waiting: MQTT and webhooks queue in memory.
            integrations.EventsStored(request.Events.Select((e, i) => IngestedEvents.ToDto(e, ids[i], PipelineLatency(e, insertedMs))).ToList());
        }

        return TypedResults.Ok(new IngestEventsResponse(request.Events.Count));
    }

    /// <summary>
    /// One <c>events.insert</c> span per event, a child of the frame span named by the event's <c>traceparent</c>:
    /// the frame's trace (Recorder, Inference) ends in Core even though its event arrived in a batch, later, from
    /// another request's context. It spans the batch's insert and links the batch's own <c>events.ingest</c> span.
    /// Events without a traceparent get their span under the batch's.
    /// </summary>
    private static void TraceInserts(IReadOnlyList<EventIngest> events, Activity? batch, DateTimeOffset insertedAt)
    {
        if (!CoreTelemetry.ActivitySource.HasListeners())
        {
            return;
        }

        var previous = Activity.Current;
        ActivityLink[] links = batch is null ? [] : [new ActivityLink(batch.Context)];
        foreach (var e in events)
        {
            var parent = e.Traceparent is { } traceparent && ActivityContext.TryParse(traceparent, null, isRemote: true, out var context)
                ? context
                : batch?.Context ?? default;
            using var insert = CoreTelemetry.ActivitySource.StartActivity("events.insert", ActivityKind.Internal, parent,
                tags: [new("opennvr.camera", e.CameraId), new("opennvr.task", e.Task)], links: links, startTime: insertedAt);
        }

        Activity.Current = previous;
    }

    private static double? PipelineLatency(EventIngest e, long insertedMs) =>
        e.CapturedAtUnixMs is { } captured ? Math.Max(0, insertedMs - captured) : null;

    private static string? JsonOrNull(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } value ? value.GetRawText() : null;

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken ct) =>
        value is null ? importer.WriteNullAsync(ct) : importer.WriteAsync(value, type, ct);

    private static string? CheckEvent(EventIngest? e, string where)
    {
        if (e is null)
        {
            return $"{where} is null.";
        }

        if (TaskNames.Check(e.Task) is { } taskProblem)
        {
            return $"{where}.task {taskProblem}";
        }

        if (e.Label is { } label && (label.Length > 128 || label.Any(char.IsControl)))
        {
            return $"{where}.label must be at most 128 printable characters.";
        }

        if (e.Count is < 0)
        {
            return $"{where}.count must not be negative.";
        }

        if (e.Confidence is { } c && (!double.IsFinite(c) || c < 0 || c > 1))
        {
            return $"{where}.confidence must be between 0 and 1.";
        }

        if (e.LatencyMs is { } l && (!double.IsFinite(l) || l < 0))
        {
            return $"{where}.latency_ms must be a non-negative number.";
        }

        // Years 2000-2200 in Unix milliseconds: anything else is a unit mistake (seconds or microseconds).
        const long min = 946_684_800_000, max = 7_258_118_400_000;
        if (e.ExecutedAtUnixMs is < min or > max)
        {
            return $"{where}.executed_at_unix_ms must be Unix milliseconds (between the years 2000 and 2200).";
        }

        if (e.CapturedAtUnixMs is < min or > max)
        {
            return $"{where}.captured_at_unix_ms must be Unix milliseconds (between the years 2000 and 2200).";
        }

        if (e.SnapshotPath is not null && RecordingsOptions.CheckRelativePath(e.SnapshotPath, $"{where}.snapshot_path") is { } pathProblem)
        {
            return pathProblem;
        }

        if (e.TraceId is { } trace && (trace.Length > 64 || !trace.All(char.IsAsciiHexDigit)))
        {
            return $"{where}.trace_id must be at most 64 hexadecimal characters.";
        }

        if (e.Traceparent is { } tp && (tp.Length > 55 || !ActivityContext.TryParse(tp, null, out _)))
        {
            return $"{where}.traceparent must be a W3C traceparent (00-<32 hex trace id>-<16 hex span id>-<2 hex flags>).";
        }

        if (e.Bbox is { ValueKind: not (JsonValueKind.Array or JsonValueKind.Null) })
        {
            return $"{where}.bbox must be an array ([l,t,w,h] or a list of them) or null.";
        }

        if (e.Payload is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) })
        {
            return $"{where}.payload must be a JSON object or null.";
        }

        var json = JsonOrNull(e.Bbox) + JsonOrNull(e.Payload);
        if (json.Length > MaxJsonBytes)
        {
            return $"{where}: bbox and payload together must be under {MaxJsonBytes / 1024} KB of JSON.";
        }

        // PostgreSQL's jsonb cannot hold the NUL character.
        return json.Contains("\\u0000", StringComparison.OrdinalIgnoreCase) ? $"{where}: bbox and payload must not contain \\u0000." : null;
    }
}
