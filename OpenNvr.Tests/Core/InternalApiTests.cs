using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;

namespace OpenNvr.Tests.Core;

/// <summary>Short leases on a fake clock, so that failover is observable in a test without waiting for it.</summary>
public sealed class ShortLeaseCoreFixture : FakeClockCoreFixture
{
    public const int LeaseSeconds = 2;

    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.UseSetting("Internal:LeaseSeconds", LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>The routes the Recorder calls (docs/internal-api.md), against real PostgreSQL.</summary>
public sealed class InternalApiTests(ShortLeaseCoreFixture core) : IClassFixture<ShortLeaseCoreFixture>
{
    [Fact]
    public async Task Internal_routes_refuse_a_missing_or_wrong_key_and_a_user_jwt()
    {
        var body = new { recorder_id = "rec-x", base_url = "http://127.0.0.1:8100", max_cameras = 4 };
        using var anonymous = core.Anonymous();
        await HttpAssert.ProblemAsync(await anonymous.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat", body), HttpStatusCode.Unauthorized);

        using var wrongKey = core.Anonymous();
        wrongKey.DefaultRequestHeaders.Add("X-Internal-Key", "not-the-key");
        await HttpAssert.ProblemAsync(await wrongKey.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat", body), HttpStatusCode.Unauthorized);

        using var admin = await core.AdminAsync();
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat", body), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Heartbeat_leases_each_camera_to_one_recorder_with_decrypted_credentials_and_fails_over_when_its_holder_goes_silent()
    {
        var cameraA = await core.CreateCameraAsync("lease-a", new
        {
            rtsp_url = "rtsp://operator:p%40ss%3Aword@10.1.2.3:554/main",
            ai_policies = new[] { new { task = "person_counting", interval_ms = 500, min_confidence = 0.4 } },
        });
        var cameraB = await core.CreateCameraAsync("lease-b");
        using var recorder = core.Internal();

        var first = await Heartbeat(recorder, "rec-1");
        var second = await Heartbeat(recorder, "rec-2");
        var heldBy1 = Ids(first);
        var heldBy2 = Ids(second);

        // Every camera of this database is held by exactly one of the two (other tests add cameras too).
        Assert.Empty(heldBy1.Intersect(heldBy2));
        Assert.Contains(cameraA, heldBy1.Concat(heldBy2));
        Assert.Contains(cameraB, heldBy1.Concat(heldBy2));
        Assert.Equal(ShortLeaseCoreFixture.LeaseSeconds, (int)first["lease_seconds"]!);

        var cameraAConfig = first["cameras"]!.AsArray().Concat(second["cameras"]!.AsArray()).Single(c => (int)c!["id"]! == cameraA)!;
        Assert.Equal("rtsp://operator:p%40ss%3Aword@10.1.2.3:554/main", (string)cameraAConfig["stream_url"]!);
        Assert.Equal("person_counting", (string)cameraAConfig["ai_policies"]![0]!["task"]!);
        Assert.Equal(500, (int)cameraAConfig["ai_policies"]![0]!["interval_ms"]!);

        // rec-1 goes silent. Within its lease rec-2 takes nothing of it; once the lease has lapsed (on Core's clock,
        // moved on rather than waited for) rec-2's next heartbeat gets everything.
        core.FakeClock.Advance(TimeSpan.FromSeconds(ShortLeaseCoreFixture.LeaseSeconds - 1));
        Assert.Equal(heldBy2, Ids(await Heartbeat(recorder, "rec-2")));
        core.FakeClock.Advance(TimeSpan.FromSeconds(2));
        second = await Heartbeat(recorder, "rec-2");

        Assert.Contains(cameraA, Ids(second));
        Assert.Contains(cameraB, Ids(second));
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM recorder_leases WHERE recorder_id = 'rec-1' AND expires_at > $1", core.Clock.GetUtcNow()));

        // A disabled camera is dropped from its holder's answer.
        using var admin = await core.AdminAsync();
        (await admin.PutAsJsonAsync($"/api/v1/cameras/{cameraB}", new { is_active = false })).EnsureSuccessStatusCode();
        Assert.DoesNotContain(cameraB, Ids(await Heartbeat(recorder, "rec-2")));
    }

    [Fact]
    public async Task Recording_registration_is_idempotent_atomic_and_queryable_for_retention()
    {
        var camera = await core.CreateCameraAsync("register");
        using var recorder = core.Internal();
        object Chunk(int i, string? path = null) => new
        {
            camera_id = camera, path = path ?? $"{camera}/2026-11-27/13/{i:00}-00.mp4",
            start_unix = 1_795_784_700.0 + i * 10, end_unix = 1_795_784_710.0 + i * 10, duration_s = 10.0,
            size_bytes = 1000 + i, codec = "h264", width = 768, height = 576,
        };

        var first = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings",
            new { recordings = new[] { Chunk(0), Chunk(1), Chunk(2) } }));
        Assert.Equal(3, (int)first["inserted"]!);
        Assert.Equal(0, (int)first["duplicates"]!);

        // Outbox retry: the same chunks again plus one new one.
        var retry = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings",
            new { recordings = new[] { Chunk(1), Chunk(2), Chunk(3) } }));
        Assert.Equal(1, (int)retry["inserted"]!);
        Assert.Equal(2, (int)retry["duplicates"]!);

        // A bad row rejects the whole batch.
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings",
            new { recordings = new[] { Chunk(4), Chunk(5, "../../etc/passwd") } }), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings",
            new { recordings = new[] { Chunk(4), new { camera_id = 999_999, path = "x.mp4", start_unix = 1.0, end_unix = 2.0, size_bytes = 1 } } }), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings",
            new { recordings = new[] { new { camera_id = camera, path = "a.mp4", start_unix = 10.0, end_unix = 5.0, size_bytes = 1 } } }), HttpStatusCode.BadRequest);
        Assert.Equal(4L, await core.ScalarAsync<long>("SELECT count(*) FROM recordings WHERE camera_id = $1", camera));

        // The camera shows the newest chunk's end as its last recording.
        using var admin = await core.AdminAsync();
        var cameraJson = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/cameras/{camera}"));
        Assert.Equal(1_795_784_740.0, (double)cameraJson["last_recording_at_unix"]!, 3);

        var query = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings/query",
            new { camera_id = camera, older_than_unix = 1_795_784_730.0, limit = 10 }));
        Assert.Equal(new[] { 0, 1, 2 }.Select(i => $"{camera}/2026-11-27/13/{i:00}-00.mp4"), query["recordings"]!.AsArray().Select(r => (string)r!["path"]!));
        Assert.Equal(1000 + 1001 + 1002 + 1003, (long)query["total_bytes"]!);

        // Evidence is never deleted; other rows are, and missing paths are ignored.
        var evidenceId = (long)query["recordings"]![0]!["id"]!;
        (await admin.PutAsJsonAsync($"/api/v1/recordings/{camera}/{evidenceId}/evidence", new { is_evidence = true })).EnsureSuccessStatusCode();
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings/delete",
            new { camera_id = camera, paths = new[] { $"{camera}/2026-11-27/13/00-00.mp4", $"{camera}/2026-11-27/13/01-00.mp4" } }), HttpStatusCode.Conflict);
        var deleted = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings/delete",
            new { camera_id = camera, paths = new[] { $"{camera}/2026-11-27/13/01-00.mp4", "gone/already.mp4" } }));
        Assert.Equal(1, (int)deleted["deleted"]!);
        Assert.Equal(3L, await core.ScalarAsync<long>("SELECT count(*) FROM recordings WHERE camera_id = $1", camera));
    }

    [Fact]
    public async Task Camera_state_reports_show_in_the_camera_list()
    {
        var camera = await core.CreateCameraAsync("state");
        using var recorder = core.Internal();
        using var response = await recorder.PostAsJsonAsync($"/api/v1/internal/cameras/{camera}/state",
            new { recording_state = "reconnecting", reason = "connection refused", last_recording_at_unix = 1_795_784_710.5 });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        using var admin = await core.AdminAsync();
        var list = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/cameras"));
        var shown = list["cameras"]!.AsArray().Single(c => (int)c!["id"]! == camera)!;
        Assert.Equal("reconnecting", (string)shown["recording_state"]!);
        Assert.Equal("connection refused", (string)shown["recording_state_reason"]!);
        Assert.Equal(1_795_784_710.5, (double)shown["last_recording_at_unix"]!, 3);

        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync($"/api/v1/internal/cameras/{camera}/state",
            new { recording_state = "dancing" }), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/cameras/999999/state",
            new { recording_state = "recording" }), HttpStatusCode.NotFound);
    }

    private static async Task<JsonNode> Heartbeat(HttpClient client, string recorderId) =>
        await HttpAssert.OkJsonAsync(await client.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
            new { recorder_id = recorderId, base_url = "http://127.0.0.1:8100", max_cameras = 100 }));

    private static List<int> Ids(JsonNode heartbeat) => heartbeat["cameras"]!.AsArray().Select(c => (int)c!["id"]!).ToList();
}
