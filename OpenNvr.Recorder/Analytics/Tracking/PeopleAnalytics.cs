using OpenNvr.Contracts.People;

namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>Which frame shows an event.</summary>
public enum SnapshotOf
{
    /// <summary>The frame being analysed.</summary>
    CurrentFrame,

    /// <summary>The person's best frame so far (highest detection score), kept by the caller per track key.</summary>
    BestFrame,
}

/// <summary>
/// An event about people, ready to store: its type, when, whose (track id and key), which frame shows it and the
/// boxes to draw on that frame, and the details that go into its payload (snake_case keys).
/// </summary>
public sealed record PersonEvent(string EventType, DateTimeOffset At, long? TrackId, long? TrackKey, SnapshotOf Snapshot,
    IReadOnlyList<TrackBox> Boxes, double? Confidence, IReadOnlyDictionary<string, object?> Details);

/// <summary>Whom a tracked person's face matched: the registry's identity, the similarity and the face's box (frame pixels).</summary>
public sealed record FaceMatch(string PersonId, string? Name, string? Category, double Similarity, TrackBox? FaceBox)
{
    /// <summary>The face registry's category that <c>watchlist_check</c> matches.</summary>
    public const string WatchlistCategory = "watchlist";
}

/// <summary>What one analysed frame produced.</summary>
public sealed class PeopleFrame
{
    public required TrackingUpdate Tracking { get; init; }

    public required IReadOnlyList<PersonEvent> Events { get; init; }

    /// <summary>People in view after this frame (confirmed, seen or briefly hidden).</summary>
    public required int People { get; init; }

    /// <summary>The occupancy bucket this frame closed, if any.</summary>
    public required OccupancyBucket? ClosedBucket { get; init; }

    /// <summary>Keys of the tracks for which this frame is the best so far: keep it as their snapshot.</summary>
    public required IReadOnlyList<long> BestFrameFor { get; init; }

    /// <summary>Keys of the tracks gone in this frame: what was kept for them can go (after this frame's events are stored).</summary>
    public required IReadOnlyList<long> Forget { get; init; }

    /// <summary>People whose face should be recognised on this frame (empty unless face recognition is on).</summary>
    public required IReadOnlyList<Track> FaceAttempts { get; init; }
}

/// <summary>Settings of people analytics for one camera policy.</summary>
/// <param name="OccupancyWindowSeconds">Occupancy is the median over this many seconds of frames...</param>
/// <param name="OccupancyHoldSeconds">...and a change is an event once it has held this long.</param>
/// <param name="BucketSeconds">Length of the occupancy series' buckets (at most 10 s).</param>
/// <param name="RecogniseFaces">Whether the policy recognises faces of tracked people (face_recognition, watchlist).</param>
public sealed record PeopleSettings(IReadOnlyList<ZoneDefinition> Zones, IReadOnlyList<LineDefinition> Lines,
    double OccupancyWindowSeconds = 4, double OccupancyHoldSeconds = 10, int BucketSeconds = 10, bool RecogniseFaces = false,
    double ZoneMargin = 0.01);

/// <summary>
/// People analytics of one camera policy: the tracker, zones and lines, smoothed occupancy, the occupancy series and
/// the face-attempt policy, turning each frame's person detections into events about people. Pure: no I/O; time is
/// the frames' capture time. One instance per camera and policy, fed in capture order.
/// </summary>
public sealed class PeopleAnalytics
{
    private readonly PersonTracker _tracker;
    private readonly SceneMonitor _scene;
    private readonly OccupancySmoother _occupancy;
    private readonly OccupancySeries _series;
    private readonly FaceAttempts? _faces;
    private readonly Dictionary<long, ZoneDefinition> _zones;
    private readonly Dictionary<long, LineDefinition> _lines;

    public PeopleAnalytics(TrackerOptions tracker, PeopleSettings settings, long firstTrackId = 1)
    {
        Settings = settings;
        _tracker = new PersonTracker(tracker, firstTrackId);
        _scene = new SceneMonitor(settings.Zones, settings.Lines, settings.ZoneMargin);
        _occupancy = new OccupancySmoother(settings.OccupancyWindowSeconds, settings.OccupancyHoldSeconds);
        _series = new OccupancySeries(settings.BucketSeconds);
        _faces = settings.RecogniseFaces ? new FaceAttempts() : null;
        _zones = settings.Zones.ToDictionary(z => z.Id);
        _lines = settings.Lines.ToDictionary(l => l.Id);
    }

    public PeopleSettings Settings { get; }

    public PersonTracker Tracker => _tracker;

    /// <summary>Feeds one analysed frame's person detections.</summary>
    public PeopleFrame Process(DateTimeOffset at, int frameWidth, int frameHeight, ReadOnlySpan<TrackerDetection> detections)
    {
        var update = _tracker.Update(at, detections, frameWidth, frameHeight);
        var scene = _scene.Observe(update, at, frameWidth, frameHeight);
        var events = new List<PersonEvent>();
        foreach (var person in update.Entered)
        {
            events.Add(new PersonEvent(PersonEventTypes.PersonEntered, at, person.Id, person.Key, SnapshotOf.BestFrame, [person.BestBox], person.BestScore,
                new Dictionary<string, object?> { ["first_seen_unix"] = Unix(person.FirstSeen) }));
        }

        var ended = update.Left.ToDictionary(t => t.Id);
        foreach (var e in scene)
        {
            if (ToEvent(e, update, ended) is { } personEvent)
            {
                events.Add(personEvent);
            }
        }

        foreach (var person in update.Left)
        {
            events.Add(new PersonEvent(PersonEventTypes.PersonLeft, person.LastSeen, person.Id, person.Key, SnapshotOf.BestFrame, [person.BestBox], person.Score,
                new Dictionary<string, object?>
                {
                    ["dwell_s"] = Math.Round(person.Dwell.TotalSeconds, 1),
                    ["first_seen_unix"] = Unix(person.FirstSeen),
                    ["last_seen_unix"] = Unix(person.LastSeen),
                }));
        }

        var people = update.People.Count;
        if (_occupancy.Add(at, people) is { } change)
        {
            events.Add(new PersonEvent(PersonEventTypes.OccupancyChanged, at, null, null, SnapshotOf.CurrentFrame,
                [.. update.People.Where(p => p.State == TrackState.Tracked).Select(p => p.LastBox)], null,
                new Dictionary<string, object?> { ["from"] = change.From, ["to"] = change.To, ["since_unix"] = Unix(change.Since) }));
        }

        var zoneCounts = _scene.ZoneOccupancy();
        var bucket = _series.Add(at, people, [.. Settings.Zones.Select((z, i) => (z.Id, zoneCounts[i]))], scene);
        events.Sort((a, b) => a.At.CompareTo(b.At));
        return new PeopleFrame
        {
            Tracking = update,
            Events = events,
            People = people,
            ClosedBucket = bucket,
            BestFrameFor = [.. update.People.Concat(update.Candidates).Where(t => t.BestImproved).Select(t => t.Key)],
            Forget = [.. update.Left.Concat(update.Faded).Select(t => t.Key)],
            FaceAttempts = _faces?.Choose(update, at, frameWidth, frameHeight) ?? [],
        };
    }

    /// <summary>Face attempts made for a person so far (0 when faces are off).</summary>
    public int FaceAttemptsOf(long trackId) => _faces?.AttemptsOf(trackId) ?? 0;

    /// <summary>
    /// The person's face was recognised (no more attempts); returns the events to store, once per person:
    /// <c>face.recognized</c> and/or <c>watchlist.hit</c> as asked, shown on the current frame with the face's box.
    /// </summary>
    public IReadOnlyList<PersonEvent> Recognised(Track person, DateTimeOffset at, FaceMatch match, bool raiseRecognized, bool raiseWatchlistHit)
    {
        _faces?.Recognised(person.Id);
        var details = new Dictionary<string, object?>
        {
            ["person_id"] = match.PersonId, ["name"] = match.Name, ["category"] = match.Category,
            ["similarity"] = Math.Round(match.Similarity, 4),
            ["person_bbox"] = new[] { Math.Round(person.LastBox.X1, 1), Math.Round(person.LastBox.Y1, 1), Math.Round(person.LastBox.Width, 1), Math.Round(person.LastBox.Height, 1) },
        };
        TrackBox[] boxes = [match.FaceBox ?? person.LastBox];
        var events = new List<PersonEvent>(2);
        if (raiseRecognized)
        {
            events.Add(new PersonEvent(PersonEventTypes.FaceRecognized, at, person.Id, person.Key, SnapshotOf.CurrentFrame, boxes, match.Similarity, details));
        }

        if (raiseWatchlistHit && match.Category == FaceMatch.WatchlistCategory)
        {
            events.Add(new PersonEvent(PersonEventTypes.WatchlistHit, at, person.Id, person.Key, SnapshotOf.CurrentFrame, boxes, match.Similarity, details));
        }

        return events;
    }

    /// <summary>Closes the open occupancy bucket (policy changed, shutting down).</summary>
    public OccupancyBucket? Flush() => _series.Flush();

    private PersonEvent? ToEvent(SceneEvent e, TrackingUpdate update, Dictionary<long, Track> ended)
    {
        var track = update.People.FirstOrDefault(p => p.Id == e.TrackId) ?? ended.GetValueOrDefault(e.TrackId);
        // An event raised because the track ended (zone left at its last sighting) is shown on the person's best frame.
        var atEnd = track is not null && ended.ContainsKey(track.Id);
        var snapshot = atEnd ? SnapshotOf.BestFrame : SnapshotOf.CurrentFrame;
        TrackBox[] boxes = track is null ? [] : [atEnd ? track.BestBox : track.Box];
        switch (e.Kind)
        {
            case SceneEventKind.LineCrossed when _lines.TryGetValue(e.RegionId, out var line) && line.RaisesCrossed:
                return new PersonEvent(PersonEventTypes.LineCrossed, e.At, e.TrackId, track?.Key, snapshot, boxes, null,
                    new Dictionary<string, object?>
                    {
                        ["line_id"] = line.Id, ["line_name"] = line.Name,
                        ["direction"] = e.Direction == CrossingDirection.In ? "in" : "out",
                    });
            case SceneEventKind.ZoneEntered when _zones.TryGetValue(e.RegionId, out var zone) && zone.RaisesEntered:
                return ZoneEvent(PersonEventTypes.ZoneEntered, zone);
            case SceneEventKind.ZoneLeft when _zones.TryGetValue(e.RegionId, out var zone) && zone.RaisesLeft:
                return ZoneEvent(PersonEventTypes.ZoneLeft, zone);
            case SceneEventKind.ZoneLoitering when _zones.TryGetValue(e.RegionId, out var zone):
                return ZoneEvent(PersonEventTypes.ZoneLoitering, zone);
            default:
                return null;
        }

        PersonEvent ZoneEvent(string type, ZoneDefinition zone)
        {
            var details = new Dictionary<string, object?> { ["zone_id"] = zone.Id, ["zone_name"] = zone.Name };
            if (e.DwellSeconds is { } dwell)
            {
                details["dwell_s"] = Math.Round(dwell, 1);
            }

            return new PersonEvent(type, e.At, e.TrackId, track?.Key, snapshot, boxes, null, details);
        }
    }

    private static double Unix(DateTimeOffset at) => Math.Round(at.ToUnixTimeMilliseconds() / 1000.0, 3);
}
