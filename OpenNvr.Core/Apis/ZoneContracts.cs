using OpenNvr.Core.Model;

namespace OpenNvr.Core.Apis;

/// <summary>
/// A zone to create or replace: a simple polygon of 3-32 [x, y] points normalised to 0..1 of the frame, which of
/// zone.entered, zone.left, zone.loitering it raises (default: entered and left, and loitering when loitering_s is
/// given) and how long a person may stay before zone.loitering (seconds).
/// </summary>
public sealed record ZoneWriteRequest(string? Name = null, double[][]? Points = null, IReadOnlyList<string?>? EventTypes = null, double? LoiteringS = null);

public sealed record ZoneDto(int Id, int CameraId, string Name, double[][] Points, IReadOnlyList<string> EventTypes, double? LoiteringS,
    long CreatedAt, long UpdatedAt)
{
    public static ZoneDto From(Zone z) => new(z.Id, z.CameraId, z.Name, z.Points, z.EventTypes, z.LoiteringS,
        z.CreatedAt.ToUnixTimeMilliseconds(), z.UpdatedAt.ToUnixTimeMilliseconds());
}

public sealed record ZoneListResponse(int CameraId, IReadOnlyList<ZoneDto> Zones, int Count);

/// <summary>
/// A counting line to create or replace: its two [x, y] ends normalised to 0..1, directed from the first to the
/// second (crossing from its left to its right, looking along it, is "in"), and whether crossings are stored as
/// line.crossed events (default) or only counted in the occupancy series (<c>event_types: []</c>).
/// </summary>
public sealed record LineWriteRequest(string? Name = null, double[][]? Points = null, IReadOnlyList<string?>? EventTypes = null);

public sealed record LineDto(int Id, int CameraId, string Name, double[][] Points, IReadOnlyList<string> EventTypes, long CreatedAt, long UpdatedAt)
{
    public static LineDto From(CountingLine l) => new(l.Id, l.CameraId, l.Name, l.Points, l.EventTypes,
        l.CreatedAt.ToUnixTimeMilliseconds(), l.UpdatedAt.ToUnixTimeMilliseconds());
}

public sealed record LineListResponse(int CameraId, IReadOnlyList<LineDto> Lines, int Count);

/// <summary>People in one zone during a bucket.</summary>
public sealed record ZoneOccupancyDto(int ZoneId, double Avg, int Max);

/// <summary>Crossings of one line during a bucket, per direction.</summary>
public sealed record LineCountDto(int LineId, int In, int Out);

/// <summary>
/// One bucket of the series: people in view on average (over the analysed frames) and at most, the same per zone, and
/// line crossings per direction; <c>samples</c> is the number of analysed frames behind it.
/// </summary>
public sealed record OccupancyBucketDto(long StartUnix, int Seconds, int Samples, double Avg, int Max,
    IReadOnlyList<ZoneOccupancyDto> Zones, IReadOnlyList<LineCountDto> Lines);

public sealed record OccupancyResponse(int CameraId, long StartUnix, long EndUnix, int BucketS, IReadOnlyList<OccupancyBucketDto> Buckets, int Count);
