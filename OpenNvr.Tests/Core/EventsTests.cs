using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OpenNvr.Tests.Core;

public sealed class EventsTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    private const long T0 = 1_795_784_710_000;

    [Fact]
    public async Task Ingested_batch_comes_back_newest_first_with_limit_and_the_payload_round_trips()
    {
        var camera = await core.CreateCameraAsync("events-latest");
        var snapshot = $"{camera}/snapshots/2026-11-27/130510123.jpg";
        var snapshotFile = Path.Combine(core.RecordingsRoot, snapshot);
        Directory.CreateDirectory(Path.GetDirectoryName(snapshotFile)!);
        var jpeg = await File.ReadAllBytesAsync(Infrastructure.RepositoryPaths.TestData("persons", Directory.GetFiles(Infrastructure.RepositoryPaths.TestData("persons"), "*.jpg").Select(Path.GetFileName).First()!));
        await File.WriteAllBytesAsync(snapshotFile, jpeg);

        var payload = JsonNode.Parse("""
            {"task":"person_counting","count":3,"confidence":0.71,"detections":[{"bbox":[10,20,30,40],"confidence":0.9,"track_id":null}],
             "unicode":"Zürich 🚶","nested":{"deep":[1,2,{"x":"y"}]},"executed_at":1795784710123,"latency_ms":63.2}
            """)!;
        var capturedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 250;
        var events = Enumerable.Range(0, 20).Select(i => (JsonNode)new JsonObject
        {
            ["camera_id"] = camera,
            ["task"] = i % 2 == 0 ? "person_counting" : "face_detection",
            ["label"] = i % 2 == 0 ? "person" : "face",
            ["count"] = i,
            ["confidence"] = 0.5 + i / 100.0,
            ["bbox"] = new JsonArray(new JsonArray(1, 2, 3, 4)),
            ["snapshot_path"] = i == 19 ? snapshot : null,
            ["executed_at_unix_ms"] = T0 + i * 1000,
            ["captured_at_unix_ms"] = capturedAt,
            ["latency_ms"] = 63.2,
            ["trace_id"] = "4bf92f3577b34da6a3ce929d0e0e4736",
            ["payload"] = payload.DeepClone(),
        }).ToArray();

        using var recorder = core.Internal();
        var ingest = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/events", new JsonObject { ["events"] = new JsonArray(events) }));
        Assert.Equal(20, (int)ingest["inserted"]!);
        Assert.Equal(20L, await core.ScalarAsync<long>("SELECT count(*) FROM events WHERE camera_id = $1", camera));

        using var admin = await core.AdminAsync();
        var latest = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/latest?limit=5&camera_id={camera}"));
        Assert.Equal(5, (int)latest["count"]!);
        var list = latest["events"]!.AsArray();
        Assert.Equal([19, 18, 17, 16, 15], list.Select(e => (int)e!["count"]!));
        Assert.Equal([T0 + 19000, T0 + 18000, T0 + 17000, T0 + 16000, T0 + 15000], list.Select(e => (long)e!["executed_at"]!));

        var newest = list[0]!.AsObject();
        // The contract's fields, in its order, then the people fields of the second round (null on frame-level events).
        Assert.Equal(["id", "camera_id", "task", "label", "count", "confidence", "bbox", "snapshot_url", "executed_at", "latency_ms",
            "pipeline_latency_ms", "trace_id", "payload", "event_type", "track_id"], newest.Select(p => p.Key));
        Assert.Null(newest["event_type"]);
        Assert.Null(newest["track_id"]);
        Assert.True(JsonNode.DeepEquals(payload, newest["payload"]), newest["payload"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(new JsonArray(new JsonArray(1, 2, 3, 4)), newest["bbox"]));
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", (string)newest["trace_id"]!);
        Assert.InRange((double)newest["pipeline_latency_ms"]!, 250, 60_000);
        Assert.Null(list[1]!["snapshot_url"]);

        // The snapshot is served by Core, with the header or a media token of the event's camera.
        var snapshotUrl = (string)newest["snapshot_url"]!;
        Assert.Equal(jpeg, await admin.GetByteArrayAsync(snapshotUrl));
        var media = await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{camera}/media-token", null));
        using var anonymous = core.Anonymous();
        Assert.Equal(jpeg, await anonymous.GetByteArrayAsync($"{snapshotUrl}?token={media["token"]}"));

        var faces = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/latest?camera_id={camera}&task=face_detection"));
        Assert.Equal(10, (int)faces["count"]!);
        Assert.All(faces["events"]!.AsArray(), e => Assert.Equal("face", (string)e!["label"]!));
    }

    [Fact]
    public async Task Search_filters_by_camera_task_label_and_time_and_pages_with_a_cursor()
    {
        var a = await core.CreateCameraAsync("events-a");
        var b = await core.CreateCameraAsync("events-b");
        using var recorder = core.Internal();
        var batch = Enumerable.Range(0, 30).Select(i => new
        {
            camera_id = i % 3 == 0 ? b : a,
            task = i % 2 == 0 ? "object_detection" : "person_counting",
            label = i % 5 == 0 ? "car" : "person",
            executed_at_unix_ms = T0 + i * 1000L,
        }).ToArray();
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new { events = batch })).EnsureSuccessStatusCode();
        using var admin = await core.AdminAsync();

        var expected = batch.Select((e, i) => (e, i))
            .Where(x => x.e.camera_id == a && x.e.task == "object_detection" && x.e.label == "person" && x.i >= 4 && x.i < 26)
            .Select(x => x.e.executed_at_unix_ms).OrderDescending().ToList();
        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = $"/api/v1/events?camera_id={a}&task=object_detection&label=person&start_unix={(T0 + 4000) / 1000.0}&end_unix={(T0 + 26000) / 1000.0}&limit=3"
                      + (cursor is null ? "" : $"&cursor={cursor}");
            var page = await HttpAssert.OkJsonAsync(await admin.GetAsync(url));
            seen.AddRange(page["events"]!.AsArray().Select(e => (long)e!["executed_at"]!));
            cursor = (string?)page["next_cursor"];
            pages++;
        }
        while (cursor is not null && pages < 20);

        Assert.Equal(expected, seen);
        Assert.True(pages >= 2);

        var cars = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events?label=car&camera_id={b}&limit=500"));
        Assert.Equal(batch.Count(e => e.label == "car" && e.camera_id == b), (int)cars["count"]!);
    }

    [Theory]
    [InlineData("label=%27%20OR%201%3D1%20--")]
    [InlineData("task=x%27%3B%20DROP%20TABLE%20events%3B--")]
    [InlineData("label=%25")]
    [InlineData("task=%5C%22%3B%24%28reboot%29")]
    public async Task Sql_metacharacters_in_filters_match_nothing_and_break_nothing(string filter)
    {
        var camera = await core.CreateCameraAsync("events-sql");
        using var recorder = core.Internal();
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new { events = new[] { new { camera_id = camera, task = "t", label = "person", executed_at_unix_ms = T0 } } }))
            .EnsureSuccessStatusCode();
        using var admin = await core.AdminAsync();
        Assert.Empty((await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events?{filter}")))["events"]!.AsArray());
        if (filter.StartsWith("task=", StringComparison.Ordinal))
        {
            // events/latest filters by camera and task only (the contract's parameters).
            Assert.Empty((await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/latest?{filter}")))["events"]!.AsArray());
        }

        Assert.True(await core.ScalarAsync<long>("SELECT count(*) FROM events") >= 1);
    }

    [Theory]
    [InlineData("""{"events":[]}""", "1 to 500")]
    [InlineData("""{"events":[{"camera_id":1,"task":"t"}]}""", "executed_at_unix_ms")]
    [InlineData("""{"events":[{"camera_id":"1","task":"t","executed_at_unix_ms":1795784710000}]}""", "camera_id")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","executed_at_unix_ms":1795784710}]}""", "milliseconds")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"bad task!","executed_at_unix_ms":1795784710000}]}""", "task")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","confidence":1.5,"executed_at_unix_ms":1795784710000}]}""", "confidence")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","bbox":"nope","executed_at_unix_ms":1795784710000}]}""", "bbox")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","payload":[1],"executed_at_unix_ms":1795784710000}]}""", "payload")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","payload":{"a":"\u0000"},"executed_at_unix_ms":1795784710000}]}""", "u0000")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","snapshot_path":"../../etc/shadow","executed_at_unix_ms":1795784710000}]}""", "snapshot_path")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","trace_id":"not hex","executed_at_unix_ms":1795784710000}]}""", "trace_id")]
    [InlineData("""{"events":[{"camera_id":CAM,"task":"t","executed_at_unix_ms":1795784710000},""", "JSON")]
    [InlineData("""not json at all""", "JSON")]
    public async Task Invalid_ingest_batches_are_400_and_store_nothing(string body, string expected)
    {
        var camera = await core.CreateCameraAsync("events-bad");
        using var recorder = core.Internal();
        using var content = new StringContent(body.Replace("CAM", camera.ToString()), System.Text.Encoding.UTF8, "application/json");
        var detail = await HttpAssert.ProblemAsync(await recorder.PostAsync("/api/v1/internal/events", content), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM events WHERE camera_id = $1", camera));
    }

    [Fact]
    public async Task Oversized_batches_and_bad_queries_are_400()
    {
        var camera = await core.CreateCameraAsync("events-big");
        using var recorder = core.Internal();
        var tooMany = Enumerable.Range(0, 501).Select(_ => new { camera_id = camera, task = "t", executed_at_unix_ms = T0 }).ToArray();
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/events", new { events = tooMany }), HttpStatusCode.BadRequest);
        var huge = new { events = new[] { new { camera_id = camera, task = "t", executed_at_unix_ms = T0, payload = new { blob = new string('x', 70_000) } } } };
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/events", huge), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/events",
            new { events = new[] { new { camera_id = camera, task = "t", executed_at_unix_ms = T0, label = new string('l', 129) } } }), HttpStatusCode.BadRequest);

        using var admin = await core.AdminAsync();
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events/latest?limit=0"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events/latest?limit=501"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events/latest?limit=ten"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events?cursor=garbage!!"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/events?label={new string('l', 200)}"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events?start_unix=10&end_unix=5"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events?camera_id=1%3B"), HttpStatusCode.BadRequest);
    }
}
