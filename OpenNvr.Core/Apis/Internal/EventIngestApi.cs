using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Integrations;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis.Internal;

/// <summary><c>POST /events</c>: batches of AI events, stored atomically by binary COPY.</summary>
internal static class EventIngestApi
{
    public static void MapEventIngest(this RouteGroupBuilder api) =>
        api.MapPost("/events", IngestAsync).WithName("ingestEvents")
            .WithSummary("Stores a batch (at most 500) of AI events");

    private static async Task<Results<Ok<IngestEventsResponse>, ProblemHttpResult>> IngestAsync(IngestEventsRequest request, NvrDbContext db,
        TimeProvider clock, IntegrationEvents integrations, ILoggerFactory loggers, CancellationToken ct)
    {
        var events = request.Events;
        if (await InternalApi.FirstUnknownCameraAsync(db, events.Select(e => e.CameraId), ct) is { } unknown)
        {
            return Problems.NotFound($"Camera {unknown} does not exist; no event of this batch was stored.");
        }

        if (events.FirstOrDefault(e => e.SnapshotPath is not null && !RecordingPaths.BelongsTo(e.SnapshotPath, e.CameraId)) is { } stray)
        {
            return Problems.BadRequest(
                $"snapshot_path '{stray.SnapshotPath}' is outside camera {stray.CameraId}'s folder '{RecordingPaths.CameraPrefix(stray.CameraId)}'; no event of this batch was stored.");
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("events.ingest");
        activity?.SetTag("events.count", events.Count);
        var started = Stopwatch.GetTimestamp();
        var insertedAt = clock.GetUtcNow();
        var insertedMs = insertedAt.ToUnixTimeMilliseconds();
        // MQTT and webhooks need the events' ids, which COPY does not return: reserve them first, only when wanted.
        var ids = integrations.WantsEvents ? await IngestedEvents.ReserveIdsAsync(db, events.Count, ct) : null;

        // Binary COPY: an ingest batch is one round trip and one transaction (all of it or none of it).
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                var connection = (NpgsqlConnection)db.Database.GetDbConnection();
                await using var importer = await connection.BeginBinaryImportAsync(
                    "COPY events (" + (ids is null ? "" : "id, ") + "camera_id, task, label, count, confidence, bbox, snapshot_path, executed_at, captured_at, latency_ms, " +
                    "pipeline_latency_ms, trace_id, payload, inserted_at, event_type, track_id) FROM STDIN (FORMAT BINARY)", ct);
                for (var i = 0; i < events.Count; i++)
                {
                    var e = events[i];
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
                    await WriteNullableAsync(importer, EventIngest.RawJson(e.Bbox), NpgsqlDbType.Jsonb, ct);
                    await WriteNullableAsync(importer, e.SnapshotPath, NpgsqlDbType.Varchar, ct);
                    await importer.WriteAsync(DateTimeOffset.FromUnixTimeMilliseconds(e.ExecutedAtUnixMs).UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                    await WriteNullableAsync(importer, e.CapturedAtUnixMs is { } cap ? DateTimeOffset.FromUnixTimeMilliseconds(cap).UtcDateTime : (DateTime?)null, NpgsqlDbType.TimestampTz, ct);
                    await WriteNullableAsync(importer, e.LatencyMs, NpgsqlDbType.Double, ct);
                    await WriteNullableAsync(importer, PipelineLatency(e, insertedMs), NpgsqlDbType.Double, ct);
                    await WriteNullableAsync(importer, e.TraceId, NpgsqlDbType.Varchar, ct);
                    await WriteNullableAsync(importer, EventIngest.RawJson(e.Payload), NpgsqlDbType.Jsonb, ct);
                    await importer.WriteAsync(insertedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                    await WriteNullableAsync(importer, e.EventType, NpgsqlDbType.Varchar, ct);
                    await WriteNullableAsync(importer, e.TrackId, NpgsqlDbType.Bigint, ct);
                }

                await importer.CompleteAsync(ct);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });

        TraceInserts(events, activity, insertedAt);
        foreach (var e in events)
        {
            if (PipelineLatency(e, insertedMs) is { } latency)
            {
                CoreTelemetry.FrameLatency.Record(latency,
                    new KeyValuePair<string, object?>("camera", e.CameraId), new KeyValuePair<string, object?>("task", e.Task));
            }
        }

        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        CoreTelemetry.EventsIngested.Add(events.Count);
        CoreTelemetry.EventsInsertDuration.Record(elapsedMs);
        CoreLog.EventsStored(loggers.CreateLogger(typeof(InternalApi)), events.Count, elapsedMs);
        if (ids is not null)
        {
            // After the commit, never waiting: MQTT and webhooks queue in memory.
            integrations.EventsStored(events.Select((e, i) => IngestedEvents.ToDto(e, ids[i], PipelineLatency(e, insertedMs))).ToList());
        }

        return TypedResults.Ok(new IngestEventsResponse(events.Count));
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

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken ct) =>
        value is null ? importer.WriteNullAsync(ct) : importer.WriteAsync(value, type, ct);
}
