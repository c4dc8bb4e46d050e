using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;

namespace OpenNvr.Tests.Core;

public sealed class CamerasTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    [Fact]
    public async Task Credentials_are_encrypted_at_rest_never_returned_and_survive_an_update_with_the_masked_url()
    {
        using var admin = await core.AdminAsync();
        var created = await HttpAssert.OkJsonAsync(await admin.PostAsJsonAsync("/api/v1/cameras", new
        {
            name = "Gate",
            rtsp_url = "rtsp://gateuser:Very%24ecretPass@192.0.2.10:554/Streaming/Channels/101",
            sub_stream_url = "rtsp://192.0.2.10:554/Streaming/Channels/102",
            retention_days = 14,
            storage_quota_bytes = 10_000_000_000,
            ai_policies = new object[]
            {
                new { task = "person_counting", interval_ms = 500, min_confidence = 0.4, roi = new[] { new[] { 0.1, 0.1 }, new[] { 0.9, 0.1 }, new[] { 0.9, 0.9 }, new[] { 0.1, 0.9 } } },
                new { task = "face_detection", interval_ms = 2000, enabled = false, motion_gating = false },
            },
        }), HttpStatusCode.Created);
        var id = (int)created["id"]!;
        Assert.Equal("rtsp://***:***@192.0.2.10:554/Streaming/Channels/101", (string)created["rtsp_url"]!);
        Assert.True((bool)created["has_credentials"]!);
        Assert.DoesNotContain("ecretPass", created.ToJsonString());
        Assert.DoesNotContain("gateuser", created.ToJsonString());
        Assert.Equal(2, created["ai_policies"]!.AsArray().Count);
        Assert.Equal("unknown", (string)created["recording_state"]!);

        // At rest: the URL without user information, the credentials only as Data Protection ciphertext.
        Assert.Equal("rtsp://192.0.2.10:554/Streaming/Channels/101", await core.ScalarAsync<string>("SELECT stream_url FROM cameras WHERE id = $1", id));
        var cipher = await core.ScalarAsync<string>("SELECT stream_credentials_protected FROM cameras WHERE id = $1", id);
        Assert.DoesNotContain("ecretPass", cipher);
        Assert.DoesNotContain("gateuser", cipher);
        Assert.True(await core.ScalarAsync<long>("SELECT count(*) FROM data_protection_keys") >= 1);
        var everything = await core.ScalarAsync<string>("SELECT string_agg(c::text, '|') FROM cameras c");
        Assert.DoesNotContain("ecretPass", everything);

        // Sending back what the API showed keeps the credentials; the recorder still gets them.
        var updated = await HttpAssert.OkJsonAsync(await admin.PutAsJsonAsync($"/api/v1/cameras/{id}",
            new { name = "Gate 2", rtsp_url = (string)created["rtsp_url"]! }));
        Assert.Equal("Gate 2", (string)updated["name"]!);
        Assert.Equal(2, updated["ai_policies"]!.AsArray().Count);
        Assert.Equal("rtsp://gateuser:Very%24ecretPass@192.0.2.10:554/Streaming/Channels/101", await RecorderUrlAsync(id));

        // Separate fields replace them (and apply to the sub-stream that has none of its own).
        (await admin.PutAsJsonAsync($"/api/v1/cameras/{id}", new { username = "viewer", password = "p@ss:word" })).EnsureSuccessStatusCode();
        Assert.Equal("rtsp://viewer:p%40ss%3Aword@192.0.2.10:554/Streaming/Channels/101", await RecorderUrlAsync(id));

        // Both empty remove them.
        var cleared = await HttpAssert.OkJsonAsync(await admin.PutAsJsonAsync($"/api/v1/cameras/{id}", new { username = "", password = "" }));
        Assert.False((bool)cleared["has_credentials"]!);
        Assert.Equal("rtsp://192.0.2.10:554/Streaming/Channels/101", (string)cleared["rtsp_url"]!);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/cameras/{id}")).StatusCode);
        await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/cameras/{id}"), HttpStatusCode.NotFound);
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'camera.create' AND target_id = $1", id.ToString()));
        Assert.Equal(3L, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'camera.update' AND target_id = $1", id.ToString()));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'camera.delete' AND target_id = $1", id.ToString()));
    }

    private async Task<string> RecorderUrlAsync(int cameraId)
    {
        using var recorder = core.Internal();
        var beat = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
            new { recorder_id = "rec-cameras-test", base_url = "http://127.0.0.1:8100", max_cameras = 1000 }));
        return (string)beat["cameras"]!.AsArray().Single(c => (int)c!["id"]! == cameraId)!["stream_url"]!;
    }

    [Theory]
    [InlineData("http://cam/stream", "rtsp://")]
    [InlineData("ftp://cam/stream", "rtsp://")]
    [InlineData("rtsp://cam/stream;reboot", "not allowed")]
    [InlineData("rtsp://cam/$(reboot)", "not allowed")]
    [InlineData("rtsp://cam/a`id`", "not allowed")]
    [InlineData("rtsp://cam/a|b", "not allowed")]
    [InlineData("rtsp://cam/a&b", "not allowed")]
    [InlineData("rtsp://cam/a b", "whitespace")]
    [InlineData("rtsp://cam/a\nb", "whitespace")]
    [InlineData("rtsp:///nohost", "host")]
    [InlineData("not a url", "whitespace")]
    [InlineData("relative/path", "absolute")]
    [InlineData("file:///etc/passwd", "file://")]
    [InlineData("", "required")]
    public async Task Bad_stream_urls_are_400_problems_that_say_why(string url, string expected)
    {
        using var admin = await core.AdminAsync();
        var detail = await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/v1/cameras", new { name = "bad", rtsp_url = url }), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
    }

    [Fact]
    public async Task Query_ampersands_are_allowed_because_real_cameras_use_them()
    {
        var id = await core.CreateCameraAsync("dahua", new { rtsp_url = "rtsp://192.0.2.11:554/cam/realmonitor?channel=1&subtype=0" });
        Assert.Equal("rtsp://192.0.2.11:554/cam/realmonitor?channel=1&subtype=0", await core.ScalarAsync<string>("SELECT stream_url FROM cameras WHERE id = $1", id));
    }

    [Theory]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","ai_policies":[{"task":"t","interval_ms":10}]}""", "interval_ms")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","ai_policies":[{"task":"t","min_confidence":2}]}""", "min_confidence")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","ai_policies":[{"task":"t","roi":[[0,0],[2,0],[1,1]]}]}""", "roi")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","ai_policies":[{"task":"t","roi":[[0,0],[1,1]]}]}""", "roi")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","ai_policies":[{"task":"t"},{"task":"t"}]}""", "twice")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","ai_policies":[{"task":"rm -rf /"}]}""", "task")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","retention_days":0}""", "retention_days")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","storage_quota_bytes":-1}""", "storage_quota_bytes")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","is_active":"yes"}""", "JSON")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","retention_days":"30"}""", "JSON")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","retention_days":99999999999}""", "JSON")]
    [InlineData("""{"name":null,"rtsp_url":"rtsp://h/p"}""", "required")]
    [InlineData("""{"rtsp_url":"rtsp://h/p"}""", "required")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p",}""", "JSON")]
    [InlineData("""{"name":"x","rtsp_url":""", "JSON")]
    [InlineData("""[]""", "JSON")]
    [InlineData("""{"name":"NAME_TOO_LONG","rtsp_url":"rtsp://h/p"}""", "name")]
    [InlineData("""{"name":"x","rtsp_url":"URL_TOO_LONG"}""", "2048")]
    [InlineData("""{"name":"x","rtsp_url":"rtsp://h/p","password":"PASSWORD_TOO_LONG"}""", "256")]
    public async Task Malformed_or_out_of_range_camera_bodies_are_400_problems(string body, string expected)
    {
        using var admin = await core.AdminAsync();
        body = body.Replace("NAME_TOO_LONG", new string('n', 101))
            .Replace("URL_TOO_LONG", "rtsp://h/" + new string('p', 2048))
            .Replace("PASSWORD_TOO_LONG", new string('p', 257));
        var before = await core.ScalarAsync<long>("SELECT count(*) FROM cameras");
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var detail = await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/cameras", content), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
        Assert.Equal(before, await core.ScalarAsync<long>("SELECT count(*) FROM cameras"));
    }

    [Fact]
    public async Task Wrong_content_type_is_415_problem()
    {
        using var admin = await core.AdminAsync();
        using var content = new StringContent("name=x", Encoding.UTF8, "text/plain");
        await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/cameras", content), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Policies_are_edited_by_operators_with_a_grant_only()
    {
        var camera = await core.CreateCameraAsync("policies");
        var (_, op) = await core.CreateUserAsync("operator", camera);
        var (_, viewer) = await core.CreateUserAsync("viewer", camera);
        var (_, stranger) = await core.CreateUserAsync("operator");
        var body = new { ai_policies = new[] { new { task = "object_detection", interval_ms = 250, min_confidence = 0.6 } } };

        await HttpAssert.ProblemAsync(await viewer.PutAsJsonAsync($"/api/v1/cameras/{camera}/policies", body), HttpStatusCode.Forbidden);
        await HttpAssert.ProblemAsync(await stranger.PutAsJsonAsync($"/api/v1/cameras/{camera}/policies", body), HttpStatusCode.NotFound);
        var saved = await HttpAssert.OkJsonAsync(await op.PutAsJsonAsync($"/api/v1/cameras/{camera}/policies", body));
        Assert.Equal("object_detection", (string)saved["ai_policies"]![0]!["task"]!);
        var read = await HttpAssert.OkJsonAsync(await viewer.GetAsync($"/api/v1/cameras/{camera}/policies"));
        Assert.Equal(250, (int)read["ai_policies"]![0]!["interval_ms"]!);
        Assert.Equal(0.6, (double)read["ai_policies"]![0]!["min_confidence"]!);
        Assert.True((bool)read["ai_policies"]![0]!["motion_gating"]!);
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM ai_policies WHERE camera_id = $1", camera));
    }
}

public sealed class FileSourcesCoreFixture : CoreFixture
{
    protected override void Configure(IWebHostBuilder host) => host.UseSetting("Cameras:AllowFileSources", "true");
}

public sealed class FileSourceCameraTests(FileSourcesCoreFixture core) : IClassFixture<FileSourcesCoreFixture>
{
    [Fact]
    public async Task File_sources_are_accepted_when_enabled_and_reach_the_recorder_unchanged()
    {
        var path = Infrastructure.RepositoryPaths.TestData("video", "vtest.mp4");
        var id = await core.CreateCameraAsync("demo", new { rtsp_url = new Uri(path).AbsoluteUri });
        using var recorder = core.Internal();
        var beat = await HttpAssert.OkJsonAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
            new { recorder_id = "rec-file", base_url = "http://127.0.0.1:8100" }));
        Assert.Equal(new Uri(path).AbsoluteUri, (string)beat["cameras"]!.AsArray().Single(c => (int)c!["id"]! == id)!["stream_url"]!);

        using var admin = await core.AdminAsync();
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/v1/cameras", new { name = "x", rtsp_url = "file://otherhost/etc/passwd" }), HttpStatusCode.BadRequest);
    }
}
