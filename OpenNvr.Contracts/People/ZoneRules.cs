namespace OpenNvr.Contracts.People;

/// <summary>
/// What makes a zone or a counting line acceptable, checked by Core when one is written and relied on by the
/// Recorder: points are [x, y] pairs normalised to 0..1 of the frame (x right, y down); a zone is a simple polygon
/// (no crossing or touching edges, some area) of 3 to <see cref="MaxZonePoints"/> points; a line is two distinct
/// points, directed from the first to the second; names are 1-64 printable characters.
/// </summary>
public static class ZoneRules
{
    public const int MaxZonePoints = 32;
    public const int MaxNameLength = 64;
    public const double MinLineLength = 0.01;
    public const double MaxLoiteringSeconds = 86_400;

    /// <summary>Zones and lines per camera, each.</summary>
    public const int MaxPerCamera = 32;

    /// <summary>Null when the name is acceptable, else what is wrong.</summary>
    public static string? CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name.Any(char.IsControl)
            ? $"name is required: 1 to {MaxNameLength} printable characters."
            : null;

    /// <summary>Null when <paramref name="points"/> is a simple polygon of normalised points, else what is wrong.</summary>
    public static string? CheckZonePoints(double[][]? points)
    {
        if (points is null || points.Length < 3 || points.Length > MaxZonePoints)
        {
            return $"points must be a polygon of 3 to {MaxZonePoints} [x, y] points.";
        }

        if (CheckNormalised(points) is { } problem)
        {
            return problem;
        }

        return PlaneGeometry.IsSimplePolygon(ToPlane(points))
            ? null
            : "points must make a simple polygon: its edges may not cross or touch each other and it must enclose an area.";
    }

    /// <summary>Null when <paramref name="points"/> are the two distinct ends of a line, else what is wrong.</summary>
    public static string? CheckLinePoints(double[][]? points)
    {
        if (points is null || points.Length != 2)
        {
            return "points must be the line's two [x, y] ends, from where it starts to where it points.";
        }

        if (CheckNormalised(points) is { } problem)
        {
            return problem;
        }

        return PlaneGeometry.Distance(new PlanePoint(points[0][0], points[0][1]), new PlanePoint(points[1][0], points[1][1])) < MinLineLength
            ? $"the line's ends must be at least {MinLineLength} apart (normalised)."
            : null;
    }

    /// <summary>Null when every event type is one <paramref name="allowed"/> lists (no repeats), else what is wrong.</summary>
    public static string? CheckEventTypes(IReadOnlyList<string?>? eventTypes, IReadOnlyList<string> allowed)
    {
        if (eventTypes is null)
        {
            return null;
        }

        if (eventTypes.Any(t => t is null || !allowed.Contains(t, StringComparer.Ordinal)) || eventTypes.Distinct().Count() != eventTypes.Count)
        {
            return $"event_types may hold each of {string.Join(", ", allowed)} once.";
        }

        return null;
    }

    /// <summary>Null when the loitering time fits the zone's event types, else what is wrong.</summary>
    public static string? CheckLoitering(double? loiteringSeconds, IReadOnlyList<string?>? eventTypes)
    {
        if (loiteringSeconds is { } s && (!double.IsFinite(s) || s < 1 || s > MaxLoiteringSeconds))
        {
            return $"loitering_s must be between 1 and {MaxLoiteringSeconds} seconds.";
        }

        return loiteringSeconds is null && eventTypes?.Contains(PersonEventTypes.ZoneLoitering) == true
            ? "zone.loitering needs loitering_s: how long a person may stay before it is raised."
            : null;
    }

    /// <summary>The event types a zone raises when none are given: entries and exits, and loitering when it has a time.</summary>
    public static IReadOnlyList<string> DefaultZoneEventTypes(double? loiteringSeconds) => loiteringSeconds is null
        ? [PersonEventTypes.ZoneEntered, PersonEventTypes.ZoneLeft]
        : [PersonEventTypes.ZoneEntered, PersonEventTypes.ZoneLeft, PersonEventTypes.ZoneLoitering];

    public static PlanePoint[] ToPlane(double[][] points) => [.. points.Select(p => new PlanePoint(p[0], p[1]))];

    private static string? CheckNormalised(double[][] points) =>
        points.Any(p => p is null || p.Length != 2 || p.Any(v => !double.IsFinite(v) || v < 0 || v > 1))
            ? "points must be [x, y] pairs normalised to 0..1 of the frame's width and height."
            : null;
}
