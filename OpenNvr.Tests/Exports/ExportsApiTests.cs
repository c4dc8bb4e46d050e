using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Recorder;
using OpenNvr.Tests.Web;

namespace OpenNvr.Tests.Exports;

/// <summary>Core with an exports folder of its own and a one-hour maximum range.</summary>
public sealed class ExportsCoreFixture : CoreFixture
{
    public string ExportsRoot { get; } = TestTemp.NewFolder("exports");

    /// <summary>vtest.mp4 as six 10 s fragmented chunks, cut once for the class.</summary>
    public string[] ChunkFiles { get; private set; } = [];

    protected override void Configure(IWebHostBuilder host)
    {
        host.UseSetting("Exports:Root", ExportsRoot);
        host.UseSetting("Exports:MaxRangeSeconds", "3600");
    }

    public async Task<string[]> ChunksAsync()
    {
        if (ChunkFiles.Length == 0)
        {
            ChunkFiles = await WebConsoleFixture.CutChunksAsync(TestTemp.NewFolder("export-chunks"));
        }

        return ChunkFiles;
    }
}

/// <summary>The exports API on real chunks in the recordings folder, real PostgreSQL and the real export engine.</summary>
public sealed class ExportsApiTests(ExportsCoreFixture core) : IClassFixture<ExportsCoreFixture>
{
    private const double T0 = 1_795_784_700;

    /// <summary>A camera whose index holds the six vtest chunks at T0, T0+10, ... T0+50 (files copied into the recordings root).</summary>
    private async Task<(int Camera, string[] Paths)> CameraWithChunksAsync()
    {
        var files = await core.ChunksAsync();
        var camera = await core.CreateCameraAsync("export-" + Guid.NewGuid().ToString("N")[..6]);
        var paths = files.Select((_, i) => $"{camera}/2026-11-27/{i:000}.mp4").ToArray();
        var rows = files.Select((file, i) =>
        {
            var full = Path.Combine(core.RecordingsRoot, paths[i]);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.Copy(file, full);
            return new { camera_id = camera, path = paths[i], start_unix = T0 + (10 * i), end_unix = T0 + (10 * (i + 1)), duration_s = 10.0, size_bytes = new FileInfo(full).Length, codec = "h264" };
        }).ToArray();
        using var recorder = core.Internal();
        (await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new { recordings = rows })).EnsureSuccessStatusCode();
        return (camera, paths);
    }

    private static async Task<JsonNode> WaitUntilFinishedAsync(HttpClient client, long id)
    {
        JsonNode export = null!;
        await Wait.UntilAsync(async () =>
        {
            export = await HttpAssert.OkJsonAsync(await client.GetAsync($"/api/v1/exports/{id}"));
            return (string)export["status"]! is "done" or "failed";
        }, TimeSpan.FromSeconds(60), $"export {id} to finish");
        return export;
    }

    private static async Task<long> CreateAsync(HttpClient client, int camera, double start, double end, string? name = null)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/exports", new { camera_id = camera, start_unix = start, end_unix = end, name });
        var created = await HttpAssert.OkJsonAsync(response, HttpStatusCode.Accepted);
        Assert.Equal("queued", (string)created["status"]!);
        Assert.Equal($"/api/v1/exports/{(long)created["id"]!}", response.Headers.Location?.OriginalString);
        return (long)created["id"]!;
    }

    [Fact]
    public async Task An_export_is_queued_made_downloaded_by_header_or_media_token_listed_audited_and_deleted()
    {
        var (camera, _) = await CameraWithChunksAsync();
        using var admin = await core.AdminAsync();
        var id = await CreateAsync(admin, camera, T0 + 13.3, T0 + 37.5, "stairs incident");

        var export = await WaitUntilFinishedAsync(admin, id);
        Assert.True((string)export["status"]! == "done", export.ToJsonString());
        Assert.Equal(["id", "camera_id", "name", "start_unix", "end_unix", "clip_start_unix", "status", "progress", "size_bytes", "duration_s", "url", "error", "gaps", "created_at", "finished_at"],
            export.AsObject().Select(p => p.Key));
        Assert.Equal(camera, (int)export["camera_id"]!);
        Assert.Equal("stairs incident", (string)export["name"]!);
        Assert.Equal(T0 + 13.3, (double)export["start_unix"]!, 3);
        Assert.Equal(T0 + 12, (double)export["clip_start_unix"]!, 3);
        Assert.Equal(1.0, (double)export["progress"]!);
        Assert.InRange((double)export["duration_s"]!, 25.4, 25.6);
        Assert.Empty(export["gaps"]!.AsArray());
        Assert.Null(export["error"]);

        var url = (string)export["url"]!;
        Assert.Equal($"/api/v1/exports/{id}/file", url);
        using var download = await admin.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("video/mp4", download.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith($"camera-{camera}-20261127-", download.Content.Headers.ContentDisposition?.FileNameStar, StringComparison.Ordinal);
        var bytes = await download.Content.ReadAsByteArrayAsync();
        Assert.Equal((long)export["size_bytes"]!, bytes.LongLength);
        var saved = Path.Combine(TestTemp.NewFolder("export-dl"), "clip.mp4");
        await File.WriteAllBytesAsync(saved, bytes);
        var probe = await Ffprobe.ReadAllFramesAsync(saved);
        Assert.InRange(probe.Frames, 254, 256);

        // A media token of the camera downloads it without a header (what <a download> and players need).
        using var tokenResponse = await admin.PostAsync($"/api/v1/recordings/{camera}/media-token", null);
        var token = (string)(await HttpAssert.OkJsonAsync(tokenResponse))["token"]!;
        using var anonymous = core.Anonymous();
        using var byToken = await anonymous.GetAsync($"{url}?token={Uri.EscapeDataString(token)}");
        Assert.Equal(bytes, await byToken.Content.ReadAsByteArrayAsync());

        var list = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/exports?camera_id={camera}"));
        Assert.Equal([id], list["exports"]!.AsArray().Select(e => (long)e!["id"]!));

        using (var delete = await admin.DeleteAsync($"/api/v1/exports/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/exports/{id}"), HttpStatusCode.NotFound);
        Assert.Empty(Directory.GetFiles(core.ExportsRoot, $"export-{id}-*"));
        Assert.Equal(1, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'export.created' AND target_id = $1", id.ToString()));
        Assert.Equal(1, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'export.deleted' AND target_id = $1", id.ToString()));
    }

    [Fact]
    public async Task An_export_across_a_gap_notes_it()
    {
        var (camera, paths) = await CameraWithChunksAsync();
        await core.ExecuteAsync("DELETE FROM recordings WHERE path = $1", paths[2]);
        using var admin = await core.AdminAsync();
        var export = await WaitUntilFinishedAsync(admin, await CreateAsync(admin, camera, T0 + 5, T0 + 45));
        Assert.Equal("done", (string)export["status"]!);
        Assert.Equal([(T0 + 20, T0 + 30)], export["gaps"]!.AsArray().Select(g => ((double)g!["start_unix"]!, (double)g["end_unix"]!)));
        Assert.InRange((double)export["duration_s"]!, 30.9, 31.1);
    }

    [Theory]
    [InlineData(20, 10, "must be after")]
    [InlineData(10, 10, "must be after")]
    [InlineData(0, 3600.5, "at most 3600")]
    [InlineData(1000, 1100, "nothing recorded")]
    [InlineData(-T0 - 5, 10, "7258118400")]
    public async Task Bad_ranges_are_400_problems(double start, double end, string expected)
    {
        var (camera, _) = await CameraWithChunksAsync();
        using var admin = await core.AdminAsync();
        using var response = await admin.PostAsJsonAsync("/api/v1/exports", new { camera_id = camera, start_unix = T0 + start, end_unix = T0 + end });
        var detail = await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, await core.ScalarAsync<long>("SELECT count(*) FROM exports WHERE camera_id = $1", camera));
    }

    [Fact]
    public async Task Malformed_requests_are_400_problems()
    {
        var (camera, _) = await CameraWithChunksAsync();
        using var admin = await core.AdminAsync();
        foreach (var body in new object[]
                 {
                     new { camera_id = camera, start_unix = T0 },
                     new { start_unix = T0, end_unix = T0 + 10 },
                     new { camera_id = camera, start_unix = T0, end_unix = T0 + 10, name = new string('x', 101) },
                 })
        {
            using var response = await admin.PostAsJsonAsync("/api/v1/exports", body);
            await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        }

        using var text = await admin.PostAsync("/api/v1/exports", new StringContent("{\"camera_id\":\"one\"}", System.Text.Encoding.UTF8, "application/json"));
        await HttpAssert.ProblemAsync(text, HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/exports?limit=0"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_viewer_without_a_grant_gets_404_everywhere_and_one_with_a_grant_may_read_but_not_delete_others_exports()
    {
        var (camera, _) = await CameraWithChunksAsync();
        using var admin = await core.AdminAsync();
        var id = await CreateAsync(admin, camera, T0, T0 + 10);
        await WaitUntilFinishedAsync(admin, id);

        var (_, stranger) = await core.CreateUserAsync("viewer");
        using (stranger)
        {
            using var create = await stranger.PostAsJsonAsync("/api/v1/exports", new { camera_id = camera, start_unix = T0, end_unix = T0 + 10 });
            await HttpAssert.ProblemAsync(create, HttpStatusCode.NotFound);
            await HttpAssert.ProblemAsync(await stranger.GetAsync($"/api/v1/exports/{id}"), HttpStatusCode.NotFound);
            await HttpAssert.ProblemAsync(await stranger.GetAsync($"/api/v1/exports/{id}/file"), HttpStatusCode.NotFound);
            await HttpAssert.ProblemAsync(await stranger.DeleteAsync($"/api/v1/exports/{id}"), HttpStatusCode.NotFound);
            Assert.Empty((await HttpAssert.OkJsonAsync(await stranger.GetAsync("/api/v1/exports")))["exports"]!.AsArray());
        }

        var (_, granted) = await core.CreateUserAsync("viewer", camera);
        using (granted)
        {
            Assert.Equal("done", (string)(await HttpAssert.OkJsonAsync(await granted.GetAsync($"/api/v1/exports/{id}")))["status"]!);
            using var file = await granted.GetAsync($"/api/v1/exports/{id}/file");
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            await HttpAssert.ProblemAsync(await granted.DeleteAsync($"/api/v1/exports/{id}"), HttpStatusCode.Forbidden);

            // Its own export it may make and delete.
            var own = await CreateAsync(granted, camera, T0 + 10, T0 + 20);
            await WaitUntilFinishedAsync(granted, own);
            using var delete = await granted.DeleteAsync($"/api/v1/exports/{own}");
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        // Without any token: 401.
        using var anonymous = core.Anonymous();
        await HttpAssert.ProblemAsync(await anonymous.GetAsync($"/api/v1/exports/{id}"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Retention_keeps_the_chunks_an_export_covers_while_it_exists()
    {
        var (camera, paths) = await CameraWithChunksAsync();
        using var admin = await core.AdminAsync();
        var id = await CreateAsync(admin, camera, T0 + 15, T0 + 25);
        await WaitUntilFinishedAsync(admin, id);

        // The Recorder's retention sees the covered chunks (10-20, 20-30) as kept, the others as deletable.
        using var recorder = core.Internal();
        async Task<List<bool>> KeptAsync()
        {
            using var query = await recorder.PostAsJsonAsync("/api/v1/internal/recordings/query", new { camera_id = camera, limit = 100 });
            return (await HttpAssert.OkJsonAsync(query))["recordings"]!.AsArray().Select(r => (bool)r!["is_evidence"]!).ToList();
        }

        Assert.Equal([false, true, true, false, false, false], await KeptAsync());
        using (var refused = await recorder.PostAsJsonAsync("/api/v1/internal/recordings/delete", new { camera_id = camera, paths = new[] { paths[1] } }))
        {
            Assert.Contains("export", await HttpAssert.ProblemAsync(refused, HttpStatusCode.Conflict), StringComparison.Ordinal);
        }

        using (var allowed = await recorder.PostAsJsonAsync("/api/v1/internal/recordings/delete", new { camera_id = camera, paths = new[] { paths[0] } }))
        {
            Assert.Equal(1, (int)(await HttpAssert.OkJsonAsync(allowed))["deleted"]!);
        }

        (await admin.DeleteAsync($"/api/v1/exports/{id}")).EnsureSuccessStatusCode();
        Assert.Equal([false, false, false, false, false], await KeptAsync());
    }
}
