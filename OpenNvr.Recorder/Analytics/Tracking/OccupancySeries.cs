namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>People in a zone during one bucket.</summary>
public readonly record struct ZoneOccupancy(double Average, int Max);

/// <summary>Crossings of a line during one bucket.</summary>
public readonly record struct LineCounts(int In, int Out);

/// <summary>
/// One bucket of a camera's occupancy series: how many people were in view on average and at most over the
/// analysed frames captured in [<see cref="Start"/>, <see cref="Start"/> + <see cref="Seconds"/>), per zone the same,
/// and per line the crossings in each direction.
/// </summary>
public sealed record OccupancyBucket(DateTimeOffset Start, int Seconds, int Samples, double Average, int Max,
    IReadOnlyDictionary<long, ZoneOccupancy> Zones, IReadOnlyDictionary<long, LineCounts> Lines);

/// <summary>
/// Accumulates the per-frame number of people (and per zone, and line crossings) into fixed buckets aligned on the
/// Unix epoch (10 s buckets start at :00, :10, ...), so that buckets of several replicas or restarts line up and Core
/// can merge them into any larger size. A bucket is closed when a frame of a later bucket arrives. Pure: time is the
/// frames' capture time.
/// </summary>
public sealed class OccupancySeries
{
    private readonly long _bucketMs;
    private long? _start;
    private int _samples;
    private long _sum;
    private int _max;
    private readonly Dictionary<long, (long Sum, int Max)> _zones = [];
    private readonly Dictionary<long, (int In, int Out)> _lines = [];

    public OccupancySeries(int bucketSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketSeconds, 1);
        BucketSeconds = bucketSeconds;
        _bucketMs = bucketSeconds * 1000L;
    }

    public int BucketSeconds { get; }

    /// <summary>
    /// Adds one analysed frame: the people in view, the people in each zone (by zone id) and the frame's line
    /// crossings. Returns the bucket this frame closed, if any. A frame older than the open bucket is counted in it.
    /// </summary>
    public OccupancyBucket? Add(DateTimeOffset at, int people, IReadOnlyList<(long ZoneId, int People)> zones, IEnumerable<SceneEvent> events)
    {
        var bucket = Math.DivRem(at.ToUnixTimeMilliseconds(), _bucketMs, out var remainder) * _bucketMs - (remainder < 0 ? _bucketMs : 0);
        OccupancyBucket? closed = null;
        if (_start is { } open && bucket > open)
        {
            closed = Flush();
        }

        _start ??= bucket;
        _samples++;
        _sum += people;
        _max = Math.Max(_max, people);
        foreach (var (zoneId, count) in zones)
        {
            var (sum, max) = _zones.GetValueOrDefault(zoneId);
            _zones[zoneId] = (sum + count, Math.Max(max, count));
        }

        foreach (var crossing in events.Where(e => e.Kind == SceneEventKind.LineCrossed))
        {
            var (inward, outward) = _lines.GetValueOrDefault(crossing.RegionId);
            _lines[crossing.RegionId] = crossing.Direction == CrossingDirection.In ? (inward + 1, outward) : (inward, outward + 1);
        }

        return closed;
    }

    /// <summary>Closes the open bucket (at shutdown, or when the camera's configuration changes); null when empty.</summary>
    public OccupancyBucket? Flush()
    {
        if (_start is not { } start || _samples == 0)
        {
            return null;
        }

        var samples = _samples;
        var bucket = new OccupancyBucket(DateTimeOffset.FromUnixTimeMilliseconds(start), BucketSeconds, samples, (double)_sum / samples, _max,
            _zones.ToDictionary(z => z.Key, z => new ZoneOccupancy((double)z.Value.Sum / samples, z.Value.Max)),
            _lines.ToDictionary(l => l.Key, l => new LineCounts(l.Value.In, l.Value.Out)));
        _start = null;
        _samples = 0;
        _sum = 0;
        _max = 0;
        _zones.Clear();
        _lines.Clear();
        return bucket;
    }
}
