using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OpenNvr.Tests.Core;

/// <summary>Zones, counting lines, the occupancy series and per-person events, against real PostgreSQL.</summary>
public sealed class ZonesTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    private const long T0 = 1_795_784_710_000;
    private static readonly double[][] Square = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]];

    public static TheoryData<string, string> BadZones => new()
    {
        { """{"name":"bow","points":[[0.1,0.1],[0.9,0.9],[0.9,0.1],[0.1,0.9]]}""", "simple polygon" },
        { """{"name":"out","points":[[0.1,0.1],[1.2,0.1],[0.5,0.9]]}""", "normalised" },
        { """{"name":"neg","points":[[-0.1,0.1],[0.9,0.1],[0.5,0.9]]}""", "normalised" },
        { """{"name":"two","points":[[0.1,0.1],[0.9,0.1]]}""", "3 to 32" },
        { "{\"name\":\"many\",\"points\":[" + string.Join(',', Enumerable.Range(0, 33).Select(i => FormattableString.Invariant($"[{0.5 + 0.4 * Math.Cos(i * 2 * Math.PI / 33):0.####},{0.5 + 0.4 * Math.Sin(i * 2 * Math.PI / 33):0.####}]"))) + "]}", "3 to 32" },
        { """{"name":"","points":[[0.1,0.1],[0.9,0.1],[0.5,0.9]]}""", "name" },
        { """{"name":"t","points":[[0.1,0.1],[0.9,0.1],[0.5,0.9]],"event_types":["line.crossed"]}""", "event_types" },
        { """{"name":"t","points":[[0.1,0.1],[0.9,0.1],[0.5,0.9]],"event_types":["zone.loitering"]}""", "loitering_s" },
        { """{"name":"t","points":[[0.1,0.1],[0.9,0.1],[0.5,0.9]],"loitering_s":0}""", "loitering_s" },
        { """{"name":"t","points":[[0.1,0.1],[0.9,0.1],[0.5,0.1]]}""", "simple polygon" },
    };

    [Theory]
    [MemberData(nameof(BadZones))]
    public async Task A_bad_zone_is_a_400_problem_naming_what_is_wrong(string body, string expected)
    {
        var camera = await core.CreateCameraAsync("zones-bad");
        using var admin = await core.AdminAsync();
        var detail = await HttpAssert.ProblemAsync(await admin.PostAsync($"/api/v1/cameras/{camera}/zones", Json(body)), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM zones WHERE camera_id = $1", camera));
    }

    [Theory]
    [InlineData("""{"name":"l","points":[[0.1,0.5],[0.1,0.5]]}""", "apart")]
    [InlineData("""{"name":"l","points":[[0.1,0.5],[1.5,0.5]]}""", "normalised")]
    [InlineData("""{"name":"l","points":[[0.1,0.5],[0.5,0.5],[0.9,0.5]]}""", "two")]
    [InlineData("""{"name":"l","points":[[0.1,0.5],[0.9,0.5]],"event_types":["zone.entered"]}""", "event_types")]
    public async Task A_bad_line_is_a_400_problem(string body, string expected)
    {
        var camera = await core.CreateCameraAsync("lines-bad");
        using var admin = await core.AdminAsync();
        var detail = await HttpAssert.ProblemAsync(await admin.PostAsync($"/api/v1/cameras/{camera}/lines", Json(body)), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zones_and_lines_round_trip_reach_the_heartbeat_are_read_only_for_viewers_and_go_with_their_camera()
    {
        var camera = await core.CreateCameraAsync("zones-crud", new { ai_policies = new[] { new { task = "person_counting", interval_ms = 500 } } });
        var (_, viewer) = await core.CreateUserAsync("viewer", camera);
        var (_, operatorOfOther) = await core.CreateUserAsync("operator");
        var (_, granted) = await core.CreateUserAsync("operator", camera);
        using (viewer)
        using (operatorOfOther)
        using (granted)
        {
            var zone = await HttpAssert.OkJsonAsync(await granted.PostAsJsonAsync($"/api/v1/cameras/{camera}/zones",
                new { name = "Door", points = Square, loitering_s = 30.0 }), HttpStatusCode.Created);
            var zoneId = (int)zone["id"]!;
            Assert.Equal(["zone.entered", "zone.left", "zone.loitering"], zone["event_types"]!.AsArray().Select(t => (string)t!));
            var line = await HttpAssert.OkJsonAsync(await granted.PostAsJsonAsync($"/api/v1/cameras/{camera}/lines",
                new { name = "Gate", points = new[] { new[] { 0.5, 0.0 }, new[] { 0.5, 1.0 } } }), HttpStatusCode.Created);
            var lineId = (int)line["id"]!;
            Assert.Equal(["line.crossed"], line["event_types"]!.AsArray().Select(t => (string)t!));

            // Viewers read, never write; an operator without a grant does not see the camera.
            var zones = await HttpAssert.OkJsonAsync(await viewer.GetAsync($"/api/v1/cameras/{camera}/zones"));
            Assert.Equal(zoneId, (int)zones["zones"]![0]!["id"]!);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse("[[0.2,0.2],[0.8,0.2],[0.8,0.8],[0.2,0.8]]"), zones["zones"]![0]!["points"]));
            await HttpAssert.ProblemAsync(await viewer.PostAsJsonAsync($"/api/v1/cameras/{camera}/zones", new { name = "V", points = Square }), HttpStatusCode.Forbidden);
            await HttpAssert.ProblemAsync(await viewer.PutAsJsonAsync($"/api/v1/cameras/{camera}/zones/{zoneId}", new { name = "V", points = Square }), HttpStatusCode.Forbidden);
            await HttpAssert.ProblemAsync(await viewer.DeleteAsync($"/api/v1/cameras/{camera}/lines/{lineId}"), HttpStatusCode.Forbidden);
            await HttpAssert.ProblemAsync(await operatorOfOther.GetAsync($"/api/v1/cameras/{camera}/lines"), HttpStatusCode.NotFound);
            await HttpAssert.ProblemAsync(await operatorOfOther.PostAsJsonAsync($"/api/v1/cameras/{camera}/lines",
                new { name = "X", points = new[] { new[] { 0.1, 0.1 }, new[] { 0.9, 0.9 } } }), HttpStatusCode.NotFound);

            // Replacing keeps the id; a line may count without raising events.
            var replaced = await HttpAssert.OkJsonAsync(await granted.PutAsJsonAsync($"/api/v1/cameras/{camera}/lines/{lineId}",
                new { name = "Gate 2", points = new[] { new[] { 0.0, 0.5 }, new[] { 1.0, 0.5 } }, event_types = Array.Empty<string>() }));
            Assert.Equal("Gate 2", (string)replaced["name"]!);
            Assert.Empty(replaced["event_types"]!.AsArray());

            // The camera's Recorder gets them with its configuration.
            using var recorder = core.Internal();
            var heartbeat = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
                new { recorder_id = $"rec-zones-{camera}", base_url = "http://127.0.0.1:8100", max_cameras = 1000 }));
            var config = heartbeat["cameras"]!.AsArray().Single(c => (int)c!["id"]! == camera)!;
            Assert.Equal("Door", (string)config["zones"]![0]!["name"]!);
            Assert.Equal(30.0, (double)config["zones"]![0]!["loitering_s"]!);
            Assert.Equal("Gate 2", (string)config["lines"]![0]!["name"]!);

            // They go with their camera.
            using var admin = await core.AdminAsync();
            (await admin.DeleteAsync($"/api/v1/cameras/{camera}")).EnsureSuccessStatusCode();
            Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM zones WHERE camera_id = $1", camera));
            Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM counting_lines WHERE camera_id = $1", camera));
        }
    }

    [Fact]
    public async Task The_occupancy_series_merges_buckets_to_the_requested_size_and_a_retried_bucket_is_not_doubled()
    {
        var camera = await core.CreateCameraAsync("occupancy");
        using var recorder = core.Internal();
        const long start = 1_795_784_640; // a multiple of 120
        var buckets = Enumerable.Range(0, 12).Select(i => new
        {
            camera_id = camera,
            start_unix = start + i * 10,
            seconds = 10,
            samples = 20,
            avg = i < 6 ? 2.0 : 4.0,
            max = i < 6 ? 3 : 6,
            zones = new[] { new { zone_id = 7, avg = 1.0, max = 2 } },
            lines = new[] { new { line_id = 9, @in = 1, @out = i % 2 } },
        }).ToList();
        var first = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/occupancy", new { buckets }));
        Assert.Equal(12, (int)first["stored"]!);
        (await recorder.PostAsJsonAsync("/api/v1/internal/occupancy", new { buckets })).EnsureSuccessStatusCode(); // a retry
        Assert.Equal(12L, await core.ScalarAsync<long>("SELECT count(*) FROM occupancy WHERE camera_id = $1", camera));

        using var admin = await core.AdminAsync();
        var series = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/cameras/{camera}/occupancy?start_unix={start}&end_unix={start + 120}&bucket_s=60"));
        var merged = series["buckets"]!.AsArray();
        Assert.Equal(2, merged.Count);
        Assert.Equal(start, (long)merged[0]!["start_unix"]!);
        Assert.Equal(2.0, (double)merged[0]!["avg"]!);
        Assert.Equal(6, (int)merged[1]!["max"]!);
        Assert.Equal(120, (int)merged[1]!["samples"]!);
        Assert.Equal(1.0, (double)merged[0]!["zones"]![0]!["avg"]!);
        Assert.Equal(6, (int)merged[0]!["lines"]![0]!["in"]!);
        Assert.Equal(3, (int)merged[0]!["lines"]![0]!["out"]!);

        var whole = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/cameras/{camera}/occupancy?start_unix={start}&end_unix={start + 120}&bucket_s=120"));
        Assert.Equal(3.0, (double)whole["buckets"]![0]!["avg"]!);

        // Range checks: 400 problems, never a 500.
        foreach (var query in new[]
                 {
                     $"start_unix={start}&end_unix={start}", $"start_unix={start}&end_unix={start + 60}&bucket_s=5",
                     $"start_unix={start}&end_unix={start + 60}&bucket_s=15", $"start_unix={start}&end_unix={start + 200 * 86_400L}",
                     $"start_unix={start}&end_unix={start + 90 * 86_400L}&bucket_s=10", $"end_unix={start}",
                 })
        {
            await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/cameras/{camera}/occupancy?{query}"), HttpStatusCode.BadRequest);
        }

        await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/cameras/999999/occupancy?start_unix={start}&end_unix={start + 60}"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/occupancy",
            new { buckets = new[] { new { camera_id = camera, start_unix = start + 3, seconds = 10, samples = 1, avg = 0.0, max = 0 } } }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Person_events_are_stored_with_their_type_and_track_and_searched_by_them()
    {
        var camera = await core.CreateCameraAsync("person-events");
        using var recorder = core.Internal();
        object Event(string type, long track, int i) => new
        {
            camera_id = camera, task = "person_counting", label = "person", executed_at_unix_ms = T0 + i * 1000, event_type = type, track_id = track,
            bbox = new[] { new[] { 10.0, 20.0, 30.0, 60.0 } }, payload = new { event_type = type, track_id = track, dwell_s = type == "person.left" ? 12.5 : (double?)null },
        };
        var events = new[] { Event("person.entered", 17_000_001, 0), Event("line.crossed", 17_000_001, 1), Event("person.entered", 17_000_002, 2), Event("person.left", 17_000_001, 3) };
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new { events })).EnsureSuccessStatusCode();

        using var admin = await core.AdminAsync();
        var entered = (await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events?camera_id={camera}&event_type=person.entered")))["events"]!.AsArray();
        Assert.Equal([17_000_002L, 17_000_001L], entered.Select(e => (long)e!["track_id"]!));
        var person = (await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events?camera_id={camera}&track_id=17000001")))["events"]!.AsArray();
        Assert.Equal(["person.left", "line.crossed", "person.entered"], person.Select(e => (string)e!["event_type"]!));
        Assert.Equal(12.5, (double)person[0]!["payload"]!["dwell_s"]!);

        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events?event_type=person.jumped"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events?track_id=0"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/events", new
        {
            events = new[] { new { camera_id = camera, task = "person_counting", executed_at_unix_ms = T0, event_type = "person.jumped" } },
        }), HttpStatusCode.BadRequest);
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
