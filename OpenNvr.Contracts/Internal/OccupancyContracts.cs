using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Contracts.Internal;

/// <summary>
/// One bucket of a camera's occupancy series (<c>POST /api/v1/internal/occupancy</c>): over the analysed frames
/// captured in [<c>start_unix</c>, <c>start_unix</c> + <c>seconds</c>), how many people were in view on average and at
/// most, the same per zone, and the crossings of each counting line per direction. Buckets start on multiples of their
/// length (Unix time), so that Core can merge them into any larger size.
/// </summary>
public sealed record OccupancyBucketIngest(
    int CameraId,
    [property: Range(946_684_800, 7_258_118_400, ErrorMessage = "start_unix must be Unix seconds (between the years 2000 and 2200).")]
    long StartUnix,
    [property: Range(1, OccupancyBucketIngest.MaxSeconds, ErrorMessage = "seconds must be between 1 and 10.")]
    int Seconds,
    [property: Range(1, 100_000, ErrorMessage = "samples must be between 1 and 100000.")]
    int Samples,
    [property: Range(0.0, OccupancyBucketIngest.MaxPeople, ErrorMessage = "avg must be between 0 and 10000.")]
    double Avg,
    [property: Range(0, OccupancyBucketIngest.MaxPeople, ErrorMessage = "max must be between 0 and 10000.")]
    int Max,
    IReadOnlyList<ZoneOccupancyIngest>? Zones = null,
    IReadOnlyList<LineCountIngest>? Lines = null) : IValidatableObject
{
    /// <summary>Buckets are at most 10 s long (the resolution of the series).</summary>
    public const int MaxSeconds = 10;
    public const int MaxPeople = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Seconds > 0 && StartUnix % Seconds != 0)
        {
            yield return new ValidationResult("start_unix must be a multiple of seconds (buckets are aligned on the Unix epoch).", [nameof(StartUnix)]);
        }

        if (Avg > Max)
        {
            yield return new ValidationResult("avg may not exceed max.", [nameof(Avg)]);
        }

        if ((Zones?.Count ?? 0) > People.ZoneRules.MaxPerCamera || (Lines?.Count ?? 0) > People.ZoneRules.MaxPerCamera)
        {
            yield return new ValidationResult($"a bucket holds at most {People.ZoneRules.MaxPerCamera} zones and lines each.", [nameof(Zones)]);
        }

        foreach (var problem in BatchValidation.NoNullItems(Zones ?? [], "zones", nameof(Zones)).Concat(BatchValidation.NoNullItems(Lines ?? [], "lines", nameof(Lines))))
        {
            yield return problem;
        }

        if (Zones?.Where(z => z is not null).GroupBy(z => z.ZoneId).Any(g => g.Count() > 1) == true
            || Lines?.Where(l => l is not null).GroupBy(l => l.LineId).Any(g => g.Count() > 1) == true)
        {
            yield return new ValidationResult("a bucket names each zone and line once.", [nameof(Zones)]);
        }

        if (Zones?.Any(z => z is not null && (z.Avg < 0 || z.Max < 0 || z.Avg > z.Max || !double.IsFinite(z.Avg))) == true
            || Lines?.Any(l => l is not null && (l.In < 0 || l.Out < 0)) == true)
        {
            yield return new ValidationResult("zone and line figures must be counts (not negative; a zone's avg at most its max).", [nameof(Zones)]);
        }
    }
}

/// <summary>People in one zone during a bucket.</summary>
public sealed record ZoneOccupancyIngest(int ZoneId, double Avg, int Max);

/// <summary>Crossings of one counting line during a bucket.</summary>
public sealed record LineCountIngest(int LineId, int In, int Out);

/// <summary>
/// A batch of 1 to 500 buckets, stored all or none; a bucket sent twice (a retry, two replicas) is not doubled: the one
/// that saw more frames is kept.
/// </summary>
public sealed record IngestOccupancyRequest(
    [property: Length(1, IngestOccupancyRequest.MaxBuckets, ErrorMessage = "buckets must hold 1 to 500 buckets.")]
    IReadOnlyList<OccupancyBucketIngest> Buckets) : IValidatableObject
{
    public const int MaxBuckets = 500;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        BatchValidation.NoNullItems(Buckets, "buckets", nameof(Buckets));
}

public sealed record IngestOccupancyResponse(int Stored);
