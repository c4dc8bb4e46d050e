using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis.Internal;

/// <summary><c>POST /occupancy</c>: the Recorders' occupancy buckets, stored as one row per camera and bucket start.</summary>
internal static class OccupancyIngestApi
{
    public static void MapOccupancyIngest(this RouteGroupBuilder api) =>
        api.MapPost("/occupancy", IngestAsync).WithName("ingestOccupancy")
            .WithSummary("Stores a batch (at most 500) of occupancy buckets; a bucket sent again replaces the stored one unless it saw fewer frames");

    private static async Task<Results<Ok<IngestOccupancyResponse>, ProblemHttpResult>> IngestAsync(IngestOccupancyRequest request, NvrDbContext db,
        CancellationToken ct)
    {
        var buckets = request.Buckets;
        if (await InternalApi.FirstUnknownCameraAsync(db, buckets.Select(b => b.CameraId), ct) is { } unknown)
        {
            return Problems.NotFound($"Camera {unknown} does not exist; no bucket of this batch was stored.");
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("occupancy.ingest");
        activity?.SetTag("occupancy.buckets", buckets.Count);

        // A retried batch must not double a bucket, and a camera handed over mid-bucket sends two partial buckets: the
        // one that saw more frames is kept (the retry is identical; of two partial ones the larger describes the bucket best).
        var stored = 0;
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            stored = 0;
            foreach (var b in buckets.GroupBy(b => (b.CameraId, b.StartUnix)).Select(g => g.MaxBy(b => b.Samples)!))
            {
                var row = ToRow(b);
                stored += await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO occupancy (camera_id, start_unix, seconds, samples, avg, max, zones, lines)
                    VALUES ({row.CameraId}, {row.StartUnix}, {row.Seconds}, {row.Samples}, {row.Avg}, {row.Max}, {Json(row.Zones)}::jsonb, {Json(row.Lines)}::jsonb)
                    ON CONFLICT (camera_id, start_unix) DO UPDATE SET seconds = excluded.seconds, samples = excluded.samples, avg = excluded.avg,
                        max = excluded.max, zones = excluded.zones, lines = excluded.lines
                    WHERE occupancy.samples <= excluded.samples
                    """, ct);
            }

            await transaction.CommitAsync(ct);
        });
        return TypedResults.Ok(new IngestOccupancyResponse(stored));
    }

    private static OccupancyBucket ToRow(OccupancyBucketIngest b) => new()
    {
        CameraId = b.CameraId,
        StartUnix = b.StartUnix,
        Seconds = (short)b.Seconds,
        Samples = b.Samples,
        Avg = (float)b.Avg,
        Max = (short)b.Max,
        Zones = b.Zones is { Count: > 0 } zones ? zones.ToDictionary(z => z.ZoneId.ToString(System.Globalization.CultureInfo.InvariantCulture), z => new[] { (float)z.Avg, z.Max }) : null,
        Lines = b.Lines is { Count: > 0 } lines ? lines.ToDictionary(l => l.LineId.ToString(System.Globalization.CultureInfo.InvariantCulture), l => new[] { l.In, l.Out }) : null,
    };

    private static string? Json<T>(T? value) where T : class => value is null ? null : System.Text.Json.JsonSerializer.Serialize(value);
}
