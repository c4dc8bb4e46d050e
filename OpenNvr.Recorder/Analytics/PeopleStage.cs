using System.Text.Json;
using OpenNvr.Contracts.People;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Infrastructure;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// The people analytics of one person_counting policy on its camera's worker: reads the answer's detections (inside
/// the policy's roi), feeds them to <see cref="PeopleAnalytics"/> (tracker, zones and lines of the camera, smoothed
/// occupancy, occupancy series) and keeps each person's best frame in memory until their last event is stored, so that
/// person.entered and person.left show the frame the person was seen best on. Events are about people, never about
/// frames: a steady scene stores nothing.
/// </summary>
internal sealed class PeopleStage
{
    /// <summary>
    /// The motion gate lets a frame through at least this often, so that people standing still stay tracked (the
    /// tracker ends a track it has not been shown for its grace period).
    /// </summary>
    public static readonly TimeSpan MaxUnanalysed = TimeSpan.FromSeconds(2);

    private readonly CameraAiPolicy _policy;
    private readonly PeopleAnalytics _analytics;
    private readonly Dictionary<long, BestFrame> _bestFrames = [];
    private readonly Dictionary<long, FaceMatch> _identities = [];

    public PeopleStage(CameraAiPolicy policy, IReadOnlyList<CameraZone>? zones, IReadOnlyList<CameraLine>? lines, TrackerOptions options, long firstTrackId,
        TrackFaces? faces = null)
    {
        _policy = policy;
        Faces = faces;
        var settings = new PeopleSettings(
            [.. (zones ?? []).Select(z => new ZoneDefinition(z.Id, z.Name, ZoneRules.ToPlane(z.Points),
                z.EventTypes.Contains(PersonEventTypes.ZoneLoitering) ? z.LoiteringS : null,
                z.EventTypes.Contains(PersonEventTypes.ZoneEntered), z.EventTypes.Contains(PersonEventTypes.ZoneLeft)))],
            [.. (lines ?? []).Select(l => new LineDefinition(l.Id, l.Name, new PlanePoint(l.Points[0][0], l.Points[0][1]),
                new PlanePoint(l.Points[1][0], l.Points[1][1]), l.EventTypes.Contains(PersonEventTypes.LineCrossed)))],
            RecogniseFaces: faces is not null);
        _analytics = new PeopleAnalytics(options, settings, firstTrackId);
    }

    /// <summary>Faces per track (the camera's face policy), or null when this policy recognises no faces.</summary>
    public TrackFaces? Faces { get; }

    public PeopleAnalytics Analytics => _analytics;

    /// <summary>Whom a track's face matched, once recognised (its later events carry the identity).</summary>
    public FaceMatch? IdentityOf(long? trackKey) => trackKey is { } key ? _identities.GetValueOrDefault(key) : null;

    /// <summary>The track's face was recognised: the events to store (once per person), and the identity kept for its later events.</summary>
    public IReadOnlyList<PersonEvent> Recognised(Track person, DateTimeOffset at, FaceMatch match)
    {
        _identities[person.Key] = match;
        return _analytics.Recognised(person, at, match, raiseRecognized: Faces?.RaisesRecognized ?? false, raiseWatchlistHit: true);
    }

    /// <summary>Tasks whose answers list every person of the frame (what the tracker needs).</summary>
    public static bool Tracks(string task) => task == "person_counting";

    /// <summary>What the heartbeat's zones and lines contribute to a people policy's signature (a change restarts its tracking).</summary>
    public static string Signature(CameraConfig camera) =>
        JsonSerializer.Serialize(new { camera.Zones, camera.Lines }, ContractJson.Options);

    /// <summary>Best frames held (the bench and tests watch that they are let go).</summary>
    public int BestFramesHeld => _bestFrames.Count;

    /// <summary>Feeds one analysed frame; keeps it as the best frame of the people it shows best.</summary>
    public PeopleFrame Observe(QueuedFrame work, JsonElement result)
    {
        var frame = _analytics.Process(work.CapturedAt, work.Width, work.Height, Detections(result, work.Width, work.Height));
        if (frame.BestFrameFor.Count > 0)
        {
            var jpeg = File.ReadAllBytes(work.FramePath);
            foreach (var key in frame.BestFrameFor)
            {
                _bestFrames[key] = new BestFrame(jpeg, work.CapturedAt);
            }
        }

        return frame;
    }

    /// <summary>The kept best frame of a track, if any.</summary>
    public BestFrame? BestFrameOf(long? trackKey) => trackKey is { } key ? _bestFrames.GetValueOrDefault(key) : null;

    /// <summary>Lets go of the frames kept for tracks that are gone (after their events were stored).</summary>
    public void Forget(IReadOnlyList<long> trackKeys)
    {
        foreach (var key in trackKeys)
        {
            _bestFrames.Remove(key);
            _identities.Remove(key);
        }
    }

    private TrackerDetection[] Detections(JsonElement result, int width, int height)
    {
        if (width <= 0 || height <= 0 || result.ValueKind != JsonValueKind.Object ||
            !result.TryGetProperty("detections", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var detections = new List<TrackerDetection>(list.GetArrayLength());
        Span<double> b = stackalloc double[4];
        foreach (var item in list.EnumerateArray())
        {
            // People are tracked by their bodies: a fused face (someone whose body the detector missed) has a box of
            // another size and would start a track of its own when the body is found again.
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.String &&
                source.ValueEquals("face"))
            {
                continue;
            }

            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("bbox", out var bbox) || bbox.ValueKind != JsonValueKind.Array ||
                bbox.GetArrayLength() != 4 || !item.TryGetProperty("confidence", out var c) || !c.TryGetDouble(out var confidence))
            {
                continue;
            }

            var i = 0;
            foreach (var v in bbox.EnumerateArray())
            {
                b[i++] = v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
            }

            if (!double.IsFinite(b[0] + b[1] + b[2] + b[3]) || b[2] <= 0 || b[3] <= 0 || !double.IsFinite(confidence))
            {
                continue;
            }

            // The roi holds a person whose box centre lies in it (as for the frame-level rules).
            if (_policy.Roi is { Length: >= 3 } roi && !EventRules.PointInPolygon((b[0] + b[2] / 2) / width, (b[1] + b[3] / 2) / height, roi))
            {
                continue;
            }

            detections.Add(new TrackerDetection(new TrackBox(b[0], b[1], b[0] + b[2], b[1] + b[3]), confidence));
        }

        return [.. detections];
    }
}

/// <summary>A frame kept as a person's snapshot, with its capture time (which names the snapshot file).</summary>
internal sealed record BestFrame(byte[] Jpeg, DateTimeOffset CapturedAt);
