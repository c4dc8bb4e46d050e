using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenCvSharp;
using OpenNvr.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Pipeline;

/// <summary>
/// Faces per track through the three real services (<see cref="PipelineHosts"/>: real person detector, real face
/// models, real PostgreSQL): a clip built at test time in which a bundled portrait walks into an empty scene, stays,
/// and walks out. A camera with person_counting and a face policy recognises the person once per track (no face
/// request per frame), names them on their later events, and an unknown face is tried a bounded number of times.
/// Its own fixture: the face registry of these tests is theirs.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class FacesPerTrackTests(FacesPerTrackHosts hosts, ITestOutputHelper output) : IClassFixture<FacesPerTrackHosts>
{
    // The attempt policy's bound (FaceAttempts' default).
    private const int MaxAttemptsPerPerson = 3;

    private static readonly object PersonCounting = new { task = "person_counting", interval_ms = 500, min_confidence = 0.35, motion_gating = true };

    [Fact]
    public async Task A_registered_person_walking_in_is_recognised_once_per_track_and_named_on_their_later_events()
    {
        var person = await hosts.RegisterAsync("grace_hopper_512x512.jpg", "Grace Hopper", "watchlist");
        var clip = await WalkingPortraitClip.BuildAsync("grace_hopper.jpg");
        await using var recognition = await AnalysedCamera.AddAsync(hosts, "faces", clip, PersonCounting,
            new { task = "face_recognition", interval_ms = 1000, min_confidence = 0.4, motion_gating = true });
        await using var watchlist = await AnalysedCamera.AddAsync(hosts, "watch", clip, PersonCounting,
            new { task = "watchlist_check", interval_ms = 1000, min_confidence = 0.4, motion_gating = true });
        // A zone over the whole scene: its events are stored on the current frame (which moves the frame file into the
        // snapshots) in the very frames where faces are tried, and zone.left comes after the recognition.
        using (var admin = await hosts.Core.AdminAsync())
        {
            (await admin.PostAsJsonAsync($"/api/v1/cameras/{recognition.Id}/zones",
                new { name = "scene", points = new[] { new[] { 0.0, 0.0 }, [1.0, 0.0], [1.0, 1.0], [0.0, 1.0] } })).EnsureSuccessStatusCode();
        }

        var seen = await FirstTrackGoneAsync(recognition.Id);
        var watched = await FirstTrackGoneAsync(watchlist.Id);
        output.WriteLine($"face_recognition camera: {hosts.Pipeline.Statistics(recognition.Id)}");
        output.WriteLine($"watchlist_check camera: {hosts.Pipeline.Statistics(watchlist.Id)}");

        // face_recognition: one face.recognized for the track, with the person, the face's box in the person's, a snapshot.
        var recognised = Assert.Single(seen.OfTrack, e => (string?)e["event_type"] == "face.recognized");
        Assert.Equal(("face_recognition", person, "Grace Hopper"),
            ((string)recognised["task"]!, (string)recognised["payload"]!["person_id"]!, (string)recognised["payload"]!["name"]!));
        Assert.Equal("Grace Hopper", (string)recognised["label"]!);
        var face = Box(Assert.Single(recognised["bbox"]!.AsArray())!);
        var body = Box(recognised["payload"]!["person_bbox"]!);
        Assert.True(face.X >= body.X - 2 && face.Y >= body.Y - 2 && face.Right <= body.Right + 2 && face.Bottom <= body.Y + body.Height * 0.6,
            $"face {face} in the upper part of the person {body}");
        await AssertSnapshotAsync(recognised);
        // The identity is a watchlist one: one watchlist.hit too.
        var hit = Assert.Single(seen.OfTrack, e => (string?)e["event_type"] == "watchlist.hit");
        Assert.Equal(person, (string)hit["payload"]!["person_id"]!);
        // person.left says who left.
        Assert.Equal((person, "Grace Hopper"), ((string)seen.Left["payload"]!["person_id"]!, (string)seen.Left["payload"]!["name"]!));
        Assert.Equal("person", (string)seen.Left["label"]!);
        var zoneLeft = Assert.Single(seen.OfTrack, e => (string?)e["event_type"] == "zone.left");
        Assert.Equal(person, (string)zoneLeft["payload"]!["person_id"]!);

        // watchlist_check: one watchlist.hit, no face.recognized (the policy asks about the watchlist only).
        Assert.Single(watched.OfTrack, e => (string?)e["event_type"] == "watchlist.hit");
        Assert.DoesNotContain(watched.All, e => (string?)e["event_type"] == "face.recognized");
        Assert.Equal(person, (string)watched.Left["payload"]!["person_id"]!);

        // Per track, not per frame: nothing stored per frame by the face policies, at most the attempt bound per person.
        foreach (var (camera, events) in new[] { (recognition.Id, seen.All), (watchlist.Id, watched.All) })
        {
            Assert.All(events, e => Assert.NotNull((string?)e["event_type"]));
            var people = events.Count(e => (string?)e["event_type"] == "person.entered");
            var statistics = hosts.Pipeline.Statistics(camera);
            Assert.InRange(statistics.FaceCalls, 1, MaxAttemptsPerPerson * people);
        }
    }

    [Fact]
    public async Task An_unknown_face_raises_nothing_and_is_tried_a_bounded_number_of_times()
    {
        var clip = await WalkingPortraitClip.BuildAsync("astronaut.jpg");
        await using var camera = await AnalysedCamera.AddAsync(hosts, "stranger", clip, PersonCounting,
            new { task = "face_recognition", interval_ms = 1000, min_confidence = 0.4, motion_gating = true });

        var seen = await FirstTrackGoneAsync(camera.Id);
        var statistics = hosts.Pipeline.Statistics(camera.Id);
        output.WriteLine(statistics.ToString());

        Assert.DoesNotContain(seen.All, e => (string?)e["event_type"] is "face.recognized" or "watchlist.hit");
        Assert.Null(seen.Left["payload"]!["person_id"]);
        var people = seen.All.Count(e => (string?)e["event_type"] == "person.entered");
        Assert.InRange(statistics.FaceCalls, 1, MaxAttemptsPerPerson * people);
    }

    /// <summary>Waits for the first person who entered and left; returns the camera's events then.</summary>
    private async Task<(List<JsonNode> All, List<JsonNode> OfTrack, JsonNode Left)> FirstTrackGoneAsync(int cameraId)
    {
        using var admin = await hosts.Core.AdminAsync();
        List<JsonNode> events = [];
        JsonNode? left = null;
        await Wait.UntilAsync(async () =>
        {
            events = [.. (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?camera_id={cameraId}&limit=500"))!["events"]!.AsArray().Select(e => e!)];
            var entered = events.Where(e => (string?)e["event_type"] == "person.entered").Select(e => (long)e["track_id"]!).ToHashSet();
            left = events.FirstOrDefault(e => (string?)e["event_type"] == "person.left" && entered.Contains((long)e["track_id"]!));
            return left is not null;
        }, TimeSpan.FromSeconds(120), () => $"a person entering and leaving camera {cameraId} ({hosts.Pipeline.Statistics(cameraId)}; {events.Count} events)", pollMs: 1000);
        var track = (long)left!["track_id"]!;
        return (events, [.. events.Where(e => (long?)e["track_id"] == track)], left);
    }

    private static Rect2d Box(JsonNode ltwh)
    {
        var v = ltwh.AsArray().Select(x => (double)x!).ToArray();
        return new Rect2d(v[0], v[1], v[2], v[3]);
    }

    private async Task AssertSnapshotAsync(JsonNode stored)
    {
        using var admin = await hosts.Core.AdminAsync();
        var bytes = await admin.GetByteArrayAsync((string)stored["snapshot_url"]!);
        using var image = Cv2.ImDecode(bytes, ImreadModes.Color);
        Assert.Equal((WalkingPortraitClip.Width, WalkingPortraitClip.Height), (image.Width, image.Height));
    }
}

/// <summary>The pipeline hosts of the faces-per-track tests, with a way to register a bundled face.</summary>
public sealed class FacesPerTrackHosts : PipelineHosts
{
    /// <summary>Registers the face of testdata/faces/<paramref name="file"/> (a frame the Recorder's frames folder holds); returns its person id.</summary>
    public async Task<string> RegisterAsync(string file, string name, string category)
    {
        var folder = Path.Combine(Recorder.FramesRoot, "enrolment");
        Directory.CreateDirectory(folder);
        File.Copy(RepositoryPaths.TestData("faces", file), Path.Combine(folder, file), overwrite: true);
        using var http = new HttpClient { BaseAddress = new Uri(InferenceUrl) };
        http.DefaultRequestHeaders.Add("X-API-Key", InferenceKey);
        var personId = "p-" + Guid.NewGuid().ToString("N")[..8];
        using var response = await http.PostAsJsonAsync("/faces/register",
            new { frame = new { uri = $"opennvr://frames/enrolment/{file}" }, person_id = personId, name, category });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return personId;
    }
}

/// <summary>
/// A clip made at test time (once per portrait and run): a bundled portrait, scaled to 220 px wide, walks into an
/// empty grey 768x576 scene from the left (1-4 s), stands in the middle (4-10 s), walks out to the right (10-13 s);
/// the scene stays empty until 20 s (longer than the tracker's grace period, so the person's track ends), then loops.
/// H.264 without B-frames, 10 fps, as the file cameras need.
/// </summary>
public static class WalkingPortraitClip
{
    public const int Width = 768;
    public const int Height = 576;

    private static readonly Dictionary<string, Task<string>> Clips = [];

    public static Task<string> BuildAsync(string portrait)
    {
        lock (Clips)
        {
            if (!Clips.TryGetValue(portrait, out var clip))
            {
                Clips[portrait] = clip = MakeAsync(portrait);
            }

            return clip;
        }
    }

    private static async Task<string> MakeAsync(string portrait)
    {
        var file = Path.Combine(TestTemp.NewFolder("walk"), Path.GetFileNameWithoutExtension(portrait) + ".mp4");
        const string x = "if(lt(t,1),-400,if(lt(t,4),-220+(t-1)/3*494,if(lt(t,10),274,if(lt(t,13),274+(t-10)/3*494,-400))))";
        var (exitCode, _, errors) = await TestProcesses.RunAsync("ffmpeg", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", $"color=c=0x707a70:s={Width}x{Height}:r=10:d=20",
            "-loop", "1", "-framerate", "10", "-t", "20", "-i", RepositoryPaths.TestData("persons", portrait),
            "-filter_complex", $"[1:v]scale=220:-2[p];[0:v][p]overlay=x='{x}':y=150:shortest=1",
            "-c:v", "libx264", "-bf", "0", "-g", "10", "-pix_fmt", "yuv420p", "-r", "10", file);
        Assert.True(exitCode == 0, "ffmpeg could not make the clip: " + errors);
        return new Uri(file).AbsoluteUri;
    }
}
