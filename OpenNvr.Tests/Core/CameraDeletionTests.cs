using System.Net;
using System.Net.Http.Json;

namespace OpenNvr.Tests.Core;

/// <summary>
/// Events outlive their camera (the reference stores them permanently): deleting a camera marks it deleted, hides it
/// from every list, stops its recording and removes its grants, and keeps its events and recordings index rows, which
/// admins still read.
/// </summary>
public sealed class CameraDeletionTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    private const long T0 = 1_795_784_700_000;

    [Fact]
    public async Task Deleting_a_camera_keeps_its_events_and_recordings_for_admins_and_hides_the_camera()
    {
        var camera = await core.CreateCameraAsync("deleted-" + Guid.NewGuid().ToString("N")[..6]);
        var kept = await core.CreateCameraAsync("kept-" + Guid.NewGuid().ToString("N")[..6]);
        var (_, viewer) = await core.CreateUserAsync("viewer", camera, kept);
        using var recorder = core.Internal();
        var events = Enumerable.Range(0, 3).Select(i => new { camera_id = camera, task = "person_counting", label = "person", count = i + 1, executed_at_unix_ms = T0 + i * 1000L })
            .Append(new { camera_id = kept, task = "person_counting", label = "person", count = 9, executed_at_unix_ms = T0 + 500L });
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new { events })).EnsureSuccessStatusCode();
        (await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new
        {
            recordings = new[] { new { camera_id = camera, path = $"{camera}/2026-11-27/000.mp4", start_unix = T0 / 1000.0, end_unix = T0 / 1000.0 + 10 } },
        })).EnsureSuccessStatusCode();
        // The camera is leased to a Recorder before it is deleted.
        var beat = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
            new { recorder_id = "rec-deletion-" + camera, base_url = "http://127.0.0.1:8100", max_cameras = 1000 }));
        Assert.Contains(beat["cameras"]!.AsArray(), c => (int)c!["id"]! == camera);

        using var admin = await core.AdminAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/cameras/{camera}")).StatusCode);

        // Its events are still there, newest first, for admins: the latest events, the search and each event.
        var latest = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/latest?camera_id={camera}"));
        Assert.Equal([3, 2, 1], latest["events"]!.AsArray().Select(e => (int)e!["count"]!));
        var all = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/events/latest?limit=500"));
        Assert.Equal(3, all["events"]!.AsArray().Count(e => (int)e!["camera_id"]! == camera));
        var search = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events?camera_id={camera}&start_unix={T0 / 1000}&end_unix={T0 / 1000 + 60}"));
        Assert.Equal(3, search["events"]!.AsArray().Count);
        var eventId = (long)latest["events"]![0]!["id"]!;
        Assert.Equal(camera, (int)(await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/{eventId}")))["camera_id"]!);

        // Its recordings window too.
        var window = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0 / 1000}&end_unix={T0 / 1000 + 60}"));
        Assert.Single(window["recordings"]!.AsArray());

        // The rows are in PostgreSQL, the camera marked deleted, inactive, not recording, without lease or grants.
        Assert.Equal(3L, await core.ScalarAsync<long>("SELECT count(*) FROM events WHERE camera_id = $1", camera));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM recordings WHERE camera_id = $1", camera));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM cameras WHERE id = $1 AND deleted_at IS NOT NULL AND NOT is_active AND NOT recording_enabled", camera));
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM recorder_leases WHERE camera_id = $1", camera));
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM camera_grants WHERE camera_id = $1", camera));

        // Hidden: not listed, not found, not deletable twice, not recorded by any Recorder.
        var cameras = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/cameras"));
        Assert.DoesNotContain(cameras["cameras"]!.AsArray(), c => (int)c!["id"]! == camera);
        Assert.Contains(cameras["cameras"]!.AsArray(), c => (int)c!["id"]! == kept);
        await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/cameras/{camera}"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await admin.DeleteAsync($"/api/v1/cameras/{camera}"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await admin.PutAsJsonAsync($"/api/v1/cameras/{camera}", new { name = "back" }), HttpStatusCode.NotFound);
        beat = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
            new { recorder_id = "rec-deletion-" + camera, base_url = "http://127.0.0.1:8100", max_cameras = 1000 }));
        Assert.DoesNotContain(beat["cameras"]!.AsArray(), c => (int)c!["id"]! == camera);

        // A viewer granted the camera no longer sees its history; the other camera's stays visible.
        var seen = await HttpAssert.OkJsonAsync(await viewer.GetAsync("/api/v1/events/latest?limit=500"));
        Assert.DoesNotContain(seen["events"]!.AsArray(), e => (int)e!["camera_id"]! == camera);
        Assert.Contains(seen["events"]!.AsArray(), e => (int)e!["camera_id"]! == kept);
        await HttpAssert.ProblemAsync(await viewer.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0 / 1000}&end_unix={T0 / 1000 + 60}"), HttpStatusCode.NotFound);
        viewer.Dispose();

        // An event the Recorder delivers late still joins the history rather than failing its outbox forever.
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new { events = new[] { new { camera_id = camera, task = "person_counting", label = "person", count = 4, executed_at_unix_ms = T0 + 5000L } } }))
            .EnsureSuccessStatusCode();
        Assert.Equal(4L, await core.ScalarAsync<long>("SELECT count(*) FROM events WHERE camera_id = $1", camera));
    }

    [Fact]
    public async Task The_database_refuses_to_drop_a_camera_row_that_still_has_events()
    {
        var camera = await core.CreateCameraAsync("restrict-" + Guid.NewGuid().ToString("N")[..6]);
        using var recorder = core.Internal();
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new { events = new[] { new { camera_id = camera, task = "t", executed_at_unix_ms = T0 } } }))
            .EnsureSuccessStatusCode();

        var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => core.ExecuteAsync("DELETE FROM cameras WHERE id = $1", camera));
        Assert.Equal("23503", refused.SqlState); // foreign_key_violation
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM events WHERE camera_id = $1", camera));
    }
}
