using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Contracts;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis;

/// <summary>
/// A camera's occupancy series (<c>GET /api/v1/cameras/{id}/occupancy</c>): the stored 10 s buckets merged into the
/// requested size (averages weighted by the analysed frames behind them, maxima of maxima, crossings summed). Buckets
/// are aligned on the Unix epoch; a bucket is listed when any of its stored buckets lies in [start_unix, end_unix).
/// </summary>
public static class OccupancyApi
{
    public const int MinBucketSeconds = 10;
    public const int MaxBucketSeconds = 86_400;
    public const long MaxWindowSeconds = 93L * 86_400;
    public const int MaxBuckets = 10_000;

    public static IEndpointRouteBuilder MapOccupancyApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/cameras").WithTags("Zones and lines").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .MapGet("/{id:int}/occupancy", GetAsync).WithName("getOccupancy")
            .WithSummary("Occupancy and line crossings of a camera over a window, in buckets of bucket_s seconds (10-86400, a multiple of 10)");
        return app;
    }

    private static async Task<Results<Ok<OccupancyResponse>, BadRequestProblem, NotFoundProblem>> GetAsync(
        int id, HttpContext http, NvrDbContext db, CancellationToken ct,
        [FromQuery(Name = "start_unix"), Required] long? startUnix = null,
        [FromQuery(Name = "end_unix"), Required] long? endUnix = null,
        [FromQuery(Name = "bucket_s"), Range(MinBucketSeconds, MaxBucketSeconds, ErrorMessage = "bucket_s must be between {1} and {2} seconds.")] int? bucketSeconds = null)
    {
        var size = bucketSeconds ?? 60;
        if (startUnix is not { } start || endUnix is not { } end || start < 0 || end <= start)
        {
            return new BadRequestProblem("start_unix and end_unix are required Unix seconds, end_unix after start_unix.");
        }

        if ((UnixTime.Check(start, "start_unix") ?? UnixTime.Check(end, "end_unix")) is { } outOfRange)
        {
            return new BadRequestProblem(outOfRange);
        }

        if (end - start > MaxWindowSeconds)
        {
            return new BadRequestProblem($"the window may span at most {MaxWindowSeconds / 86_400} days.");
        }

        if (size % MinBucketSeconds != 0)
        {
            return new BadRequestProblem($"bucket_s must be a multiple of {MinBucketSeconds} (the stored buckets' length).");
        }

        if ((end - start + size - 1) / size > MaxBuckets)
        {
            return new BadRequestProblem($"the window holds more than {MaxBuckets} buckets of bucket_s: ask for larger buckets.");
        }

        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return Problems.NoSuchCamera(id);
        }

        using var activity = CoreTelemetry.ActivitySource.StartActivity("occupancy.query");
        var rows = await db.Occupancy.AsNoTracking()
            .Where(b => b.CameraId == id && b.StartUnix >= start - (start % MinBucketSeconds) && b.StartUnix < end)
            .OrderBy(b => b.StartUnix)
            .ToListAsync(ct);
        activity?.SetTag("occupancy.rows", rows.Count);
        var buckets = rows.GroupBy(b => b.StartUnix - (b.StartUnix % size)).Select(g => Merge(g.Key, size, g.ToList())).ToList();
        return TypedResults.Ok(new OccupancyResponse(id, start, end, size, buckets, buckets.Count));
    }

    private static OccupancyBucketDto Merge(long start, int size, List<OccupancyBucket> rows)
    {
        var samples = rows.Sum(r => r.Samples);
        var zones = rows.SelectMany(r => (r.Zones ?? []).Select(z => (Id: z.Key, r.Samples, Avg: z.Value[0], Max: z.Value[1])))
            .GroupBy(z => z.Id)
            .Select(g => new ZoneOccupancyDto(int.Parse(g.Key, System.Globalization.CultureInfo.InvariantCulture),
                Math.Round(g.Sum(z => z.Avg * z.Samples) / Math.Max(1, g.Sum(z => z.Samples)), 3), (int)g.Max(z => z.Max)))
            .OrderBy(z => z.ZoneId).ToList();
        var lines = rows.SelectMany(r => (r.Lines ?? []).Select(l => (Id: l.Key, In: l.Value[0], Out: l.Value[1])))
            .GroupBy(l => l.Id)
            .Select(g => new LineCountDto(int.Parse(g.Key, System.Globalization.CultureInfo.InvariantCulture), g.Sum(l => l.In), g.Sum(l => l.Out)))
            .OrderBy(l => l.LineId).ToList();
        return new OccupancyBucketDto(start, size, samples, Math.Round(rows.Sum(r => (double)r.Avg * r.Samples) / Math.Max(1, samples), 3),
            rows.Max(r => (int)r.Max), zones, lines);
    }
}
