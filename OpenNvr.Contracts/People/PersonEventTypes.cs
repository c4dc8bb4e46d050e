namespace OpenNvr.Contracts.People;

/// <summary>
/// The <c>event_type</c> of events about people (API.md, second round). Events of the frame-level rules (a count, an
/// identity, a set of labels) have none.
/// </summary>
public static class PersonEventTypes
{
    public const string PersonEntered = "person.entered";
    public const string PersonLeft = "person.left";
    public const string ZoneEntered = "zone.entered";
    public const string ZoneLeft = "zone.left";
    public const string ZoneLoitering = "zone.loitering";
    public const string LineCrossed = "line.crossed";
    public const string OccupancyChanged = "occupancy.changed";
    public const string FaceRecognized = "face.recognized";
    public const string WatchlistHit = "watchlist.hit";

    public static readonly IReadOnlyList<string> All =
        [PersonEntered, PersonLeft, ZoneEntered, ZoneLeft, ZoneLoitering, LineCrossed, OccupancyChanged, FaceRecognized, WatchlistHit];

    /// <summary>What a zone can raise.</summary>
    public static readonly IReadOnlyList<string> OfZones = [ZoneEntered, ZoneLeft, ZoneLoitering];

    /// <summary>What a line can raise.</summary>
    public static readonly IReadOnlyList<string> OfLines = [LineCrossed];

    public static bool IsKnown(string? eventType) => eventType is not null && All.Contains(eventType, StringComparer.Ordinal);

    /// <summary>Known event types are 32 characters at most.</summary>
    public const int MaxLength = 32;

    public const string Rule = "must be one of person.entered, person.left, zone.entered, zone.left, zone.loitering, line.crossed, occupancy.changed, face.recognized, watchlist.hit.";
}
