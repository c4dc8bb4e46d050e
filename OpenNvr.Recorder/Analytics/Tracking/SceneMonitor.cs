using OpenNvr.Contracts.People;
namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>A zone of a camera: a simple polygon in normalised image coordinates (0..1, y down).</summary>
/// <param name="LoiteringSeconds">Staying inside longer than this raises <see cref="SceneEventKind.ZoneLoitering"/> (null: never).</param>
/// <param name="RaisesEntered">Whether entries are stored as events (they are counted in the occupancy series either way).</param>
/// <param name="RaisesLeft">Whether exits are stored as events.</param>
public sealed record ZoneDefinition(long Id, string Name, IReadOnlyList<PlanePoint> Polygon, double? LoiteringSeconds = null,
    bool RaisesEntered = true, bool RaisesLeft = true);

/// <summary>
/// A counting line of a camera, directed from <paramref name="A"/> to <paramref name="B"/> (normalised image
/// coordinates). Crossing it from its left to its right, as seen on screen when looking from A towards B, is
/// <see cref="CrossingDirection.In"/>; the other way is <see cref="CrossingDirection.Out"/>.
/// </summary>
/// <param name="RaisesCrossed">Whether crossings are stored as events (they are counted in the occupancy series either way).</param>
public sealed record LineDefinition(long Id, string Name, PlanePoint A, PlanePoint B, bool RaisesCrossed = true);

public enum CrossingDirection
{
    In,
    Out,
}

public enum SceneEventKind
{
    ZoneEntered,
    ZoneLeft,
    ZoneLoitering,
    LineCrossed,
}

/// <summary>Something a person did in a zone or on a line.</summary>
/// <param name="RegionId">The zone's or the line's id.</param>
/// <param name="At">Capture time of the frame that showed it.</param>
/// <param name="DwellSeconds">Time inside the zone (left, loitering).</param>
public sealed record SceneEvent(SceneEventKind Kind, long TrackId, long RegionId, DateTimeOffset At,
    CrossingDirection? Direction = null, double? DwellSeconds = null);

/// <summary>
/// Zone entries, exits and loitering, and line crossings, from the tracks of each analysed frame. A person is where
/// their feet are (<see cref="TrackBox.BottomCenter"/>), observed only in frames where their track was detected
/// (never at a predicted position). Hysteresis: a point must lie at least <c>margin</c> (normalised) off a zone's
/// boundary or off a line to change the state, so a person standing on the boundary does not flicker in and out.
/// A line is crossed when a person's feet move from one side of it to the other through the segment itself (walking
/// round its end is no crossing). What a candidate track does before it is confirmed is held back and raised with its
/// id once it is (a person who crosses a line in their first second still counts); a candidate that fades raises
/// nothing. Pure: no I/O, no clock.
/// </summary>
public sealed class SceneMonitor
{
    private readonly IReadOnlyList<ZoneDefinition> _zones;
    private readonly IReadOnlyList<LineDefinition> _lines;
    private readonly PlanePoint[][] _polygons;
    private readonly double _margin;
    private readonly Dictionary<Track, PersonState> _states = new(ReferenceEqualityComparer.Instance);

    public SceneMonitor(IReadOnlyList<ZoneDefinition> zones, IReadOnlyList<LineDefinition> lines, double margin = 0.01)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(margin);
        _zones = zones;
        _lines = lines;
        _polygons = [.. zones.Select(z => z.Polygon.ToArray())];
        _margin = margin;
    }

    public IReadOnlyList<ZoneDefinition> Zones => _zones;

    public IReadOnlyList<LineDefinition> Lines => _lines;

    /// <summary>Confirmed people inside each zone after the last frame, in the order of <see cref="Zones"/>.</summary>
    public int[] ZoneOccupancy()
    {
        var counts = new int[_zones.Count];
        foreach (var (track, state) in _states)
        {
            if (!track.IsConfirmed)
            {
                continue;
            }

            for (var z = 0; z < counts.Length; z++)
            {
                if (state.Zones[z].Inside)
                {
                    counts[z]++;
                }
            }
        }

        return counts;
    }

    /// <summary>Feeds one frame's tracking result; returns what people did in it, oldest first.</summary>
    public IReadOnlyList<SceneEvent> Observe(TrackingUpdate update, DateTimeOffset at, int frameWidth, int frameHeight)
    {
        var events = new List<SceneEvent>();
        if (frameWidth <= 0 || frameHeight <= 0 || (_zones.Count == 0 && _lines.Count == 0))
        {
            return events;
        }

        foreach (var track in update.People)
        {
            Observe(track, at, frameWidth, frameHeight, events);
        }

        foreach (var track in update.Candidates)
        {
            Observe(track, at, frameWidth, frameHeight, events);
        }

        foreach (var track in update.Left)
        {
            if (_states.Remove(track, out var state))
            {
                for (var z = 0; z < _zones.Count; z++)
                {
                    if (state.Zones[z].Inside)
                    {
                        events.Add(new SceneEvent(SceneEventKind.ZoneLeft, track.Id, _zones[z].Id, track.LastSeen,
                            DwellSeconds: (track.LastSeen - state.Zones[z].Since).TotalSeconds));
                    }
                }
            }
        }

        // Candidates that faded: what they did never happened.
        List<Track>? faded = null;
        foreach (var track in _states.Keys)
        {
            if (track.State == TrackState.Removed)
            {
                (faded ??= []).Add(track);
            }
        }

        faded?.ForEach(t => _states.Remove(t));
        events.Sort((a, b) => a.At.CompareTo(b.At));
        return events;
    }

    private void Observe(Track track, DateTimeOffset at, int width, int height, List<SceneEvent> events)
    {
        if (!_states.TryGetValue(track, out var state))
        {
            state = new PersonState(_zones.Count, _lines.Count);
            _states[track] = state;
        }

        // Held back while a candidate; raised with the id as soon as it is a person.
        var sink = track.IsConfirmed ? events : state.Pending;
        if (track.IsConfirmed && state.Pending.Count > 0)
        {
            events.AddRange(state.Pending.Select(e => e with { TrackId = track.Id }));
            state.Pending.Clear();
        }

        if (track.DetectionIndex < 0)
        {
            return;
        }

        var point = track.LastBox.NormalizedBottomCenter(width, height);
        for (var z = 0; z < _zones.Count; z++)
        {
            ObserveZone(track, z, point, at, ref state.Zones[z], sink);
        }

        for (var l = 0; l < _lines.Count; l++)
        {
            ObserveLine(track, l, point, at, ref state.Lines[l], sink);
        }
    }

    private void ObserveZone(Track track, int index, PlanePoint point, DateTimeOffset at, ref ZoneState state, List<SceneEvent> sink)
    {
        var zone = _zones[index];
        var polygon = _polygons[index];
        var inside = PlaneGeometry.Contains(polygon, point);
        var clear = PlaneGeometry.DistanceToBoundary(polygon, point) >= _margin;
        if (!state.Inside && inside && clear)
        {
            state.Inside = true;
            state.Since = at;
            state.LoiteringRaised = false;
            sink.Add(new SceneEvent(SceneEventKind.ZoneEntered, track.Id, zone.Id, at));
        }
        else if (state.Inside && !inside && clear)
        {
            state.Inside = false;
            sink.Add(new SceneEvent(SceneEventKind.ZoneLeft, track.Id, zone.Id, at, DwellSeconds: (at - state.Since).TotalSeconds));
        }

        if (state.Inside && !state.LoiteringRaised && zone.LoiteringSeconds is { } limit && (at - state.Since).TotalSeconds >= limit)
        {
            state.LoiteringRaised = true;
            sink.Add(new SceneEvent(SceneEventKind.ZoneLoitering, track.Id, zone.Id, at, DwellSeconds: (at - state.Since).TotalSeconds));
        }
    }

    private void ObserveLine(Track track, int index, PlanePoint point, DateTimeOffset at, ref LineState state, List<SceneEvent> sink)
    {
        var line = _lines[index];
        var distance = PlaneGeometry.SignedDistance(line.A, line.B, point);
        var side = distance > _margin ? 1 : distance < -_margin ? -1 : 0;
        if (side == 0)
        {
            return; // on the line, within the margin: wait until the person is clearly on one side
        }

        if (state.Side != 0 && side != state.Side && PlaneGeometry.SegmentsIntersect(state.Anchor, point, line.A, line.B))
        {
            // Left of A→B (negative) to right (positive) is "in".
            var direction = side > 0 ? CrossingDirection.In : CrossingDirection.Out;
            sink.Add(new SceneEvent(SceneEventKind.LineCrossed, track.Id, line.Id, at, direction));
        }

        state.Side = side;
        state.Anchor = point;
    }

    private struct ZoneState
    {
        public bool Inside;
        public DateTimeOffset Since;
        public bool LoiteringRaised;
    }

    private struct LineState
    {
        public int Side;
        public PlanePoint Anchor;
    }

    private sealed class PersonState(int zones, int lines)
    {
        public readonly ZoneState[] Zones = new ZoneState[zones];
        public readonly LineState[] Lines = new LineState[lines];
        public readonly List<SceneEvent> Pending = [];
    }
}
