using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Apis;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Integrations;

/// <summary>
/// What event ingest needs to tell the integrations about a batch it stores by binary COPY (which returns no ids):
/// ids reserved from the table's sequence in one round trip before the COPY (only when an integration wants events,
/// so ingest costs nothing more otherwise), and the stored events in the REST API's shape afterwards.
/// </summary>
public static class IngestedEvents
{
    /// <summary><paramref name="count"/> ids from the <c>events</c> identity sequence, in order.</summary>
    public static async Task<long[]> ReserveIdsAsync(NvrDbContext db, int count, CancellationToken ct)
    {
        var ids = await db.Database.SqlQuery<long>($"""
            SELECT nextval(pg_get_serial_sequence('events', 'id')) AS "Value" FROM generate_series(1, {count})
            """).ToListAsync(ct);
        ids.Sort();
        return [.. ids];
    }

    /// <summary>A stored event as <c>GET /api/v1/events/{id}</c> shows it.</summary>
    public static EventDto ToDto(EventIngest e, long id, double? pipelineLatencyMs) => new(
        id,
        e.CameraId,
        e.Task,
        e.Label,
        e.Count,
        e.Confidence,
        Json(e.Bbox),
        e.SnapshotPath is null ? null : $"/api/v1/events/{id}/snapshot",
        e.ExecutedAtUnixMs,
        e.LatencyMs,
        pipelineLatencyMs,
        e.TraceId,
        Json(e.Payload),
        e.EventType,
        e.TrackId);

    private static JsonElement? Json(JsonElement? element) =>
        element is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } value ? value : null;
}
