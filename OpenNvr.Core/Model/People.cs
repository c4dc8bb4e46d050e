namespace OpenNvr.Core.Model;

/// <summary>A zone of a camera: a simple polygon in normalised coordinates, and what it raises (ZoneRules).</summary>
public sealed class Zone
{
    public int Id { get; set; }
    public int CameraId { get; set; }
    public required string Name { get; set; }

    /// <summary>[x, y] points normalised to 0..1 of the frame.</summary>
    public required double[][] Points { get; set; }

    /// <summary>Which of zone.entered, zone.left, zone.loitering it raises.</summary>
    public required string[] EventTypes { get; set; }

    public double? LoiteringS { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A directed counting line of a camera: crossing it from its left to its right (seen from its first point) is "in".</summary>
public sealed class CountingLine
{
    public int Id { get; set; }
    public int CameraId { get; set; }
    public required string Name { get; set; }

    /// <summary>The line's two ends, [x, y] normalised to 0..1 of the frame.</summary>
    public required double[][] Points { get; set; }

    /// <summary>line.crossed, or nothing (the line is then counted in the occupancy series only).</summary>
    public required string[] EventTypes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// One bucket (at most 10 s) of a camera's occupancy series, kept compact: one row per camera and bucket start, the
/// per-zone and per-line figures as small JSON objects keyed by id (<c>{"3":[avg,max]}</c>, <c>{"7":[in,out]}</c>).
/// </summary>
public sealed class OccupancyBucket
{
    public int CameraId { get; set; }

    /// <summary>Start of the bucket, Unix seconds, a multiple of <see cref="Seconds"/>.</summary>
    public long StartUnix { get; set; }

    public short Seconds { get; set; }

    /// <summary>Analysed frames in the bucket (the weight when buckets merge).</summary>
    public int Samples { get; set; }

    public float Avg { get; set; }
    public short Max { get; set; }

    /// <summary>Per zone: id → [average, maximum] people.</summary>
    public Dictionary<string, float[]>? Zones { get; set; }

    /// <summary>Per line: id → [in, out] crossings.</summary>
    public Dictionary<string, int[]>? Lines { get; set; }
}
