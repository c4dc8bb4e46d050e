using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace OpenNvr.Tests.Core.Security;

/// <summary>The fixes of the review: stored credentials, URL tests, fallback policy, health details, file paths.</summary>
public sealed class HardeningTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    private Task<bool> HasCredentialsAsync(int camera) =>
        core.ScalarAsync<bool>("SELECT stream_credentials_protected IS NOT NULL FROM cameras WHERE id = $1", camera);

    [Fact]
    public async Task The_masked_url_trick_loses_the_stored_credentials_when_the_host_or_port_changes()
    {
        using var admin = await core.AdminAsync();
        var camera = await core.CreateCameraAsync("masked-trick", new { rtsp_url = "rtsp://user:s3cret-pw@cam-a.local:554/stream1" });
        Assert.True(await HasCredentialsAsync(camera));

        // Same server, other path: the masked URL keeps the stored credentials (the console's normal edit).
        (await admin.PutAsJsonAsync($"/api/v1/cameras/{camera}", new { rtsp_url = "rtsp://***:***@cam-a.local/stream2" })).EnsureSuccessStatusCode();
        Assert.True(await HasCredentialsAsync(camera));

        // Another host: the credentials are gone, so the password never reaches that host.
        var moved = await HttpAssert.OkJsonAsync(await admin.PutAsJsonAsync($"/api/v1/cameras/{camera}", new { rtsp_url = "rtsp://***:***@attacker.example/stream2" }));
        Assert.False(await HasCredentialsAsync(camera));
        Assert.Equal("rtsp://attacker.example/stream2", (string)moved["rtsp_url"]!);
        Assert.Equal(1L, await core.ScalarAsync<long>(
            "SELECT count(*) FROM audit_log WHERE action = 'camera.update' AND target_id = $1 AND (details->>'credentials_dropped')::boolean", camera.ToString()));

        // Another port of the same host counts as another server too.
        var second = await core.CreateCameraAsync("masked-port", new { rtsp_url = "rtsp://user:s3cret-pw@cam-b.local/stream1" });
        (await admin.PutAsJsonAsync($"/api/v1/cameras/{second}", new { rtsp_url = "rtsp://***:***@cam-b.local:8554/stream1" })).EnsureSuccessStatusCode();
        Assert.False(await HasCredentialsAsync(second));
    }

    [Fact]
    public async Task The_url_test_sends_stored_credentials_only_to_the_cameras_own_server_and_is_audited()
    {
        using var admin = await core.AdminAsync();
        var camera = await core.CreateCameraAsync("url-test", new { rtsp_url = "rtsp://user:s3cret-pw@127.0.0.1:9/stream1" });
        Assert.Contains("another server", await HttpAssert.ProblemAsync(
            await admin.PostAsJsonAsync("/api/v1/cameras/test-url", new { rtsp_url = "rtsp://***:***@attacker.example/stream1", camera_id = camera }),
            HttpStatusCode.BadRequest));

        // Its own server (nothing listens on port 9: the probe fails fast) is tested, and the test is audited without the password.
        var result = await HttpAssert.OkJsonAsync(await admin.PostAsJsonAsync("/api/v1/cameras/test-url", new { rtsp_url = "rtsp://***:***@127.0.0.1:9/stream1", camera_id = camera }));
        Assert.False((bool)result["ok"]!);
        var details = await core.ScalarAsync<string>("SELECT details::text FROM audit_log WHERE action = 'camera.test_url' AND target_id = $1", camera.ToString());
        Assert.Contains("***:***@127.0.0.1:9", details);
        Assert.DoesNotContain("s3cret-pw", details);
    }

    [Fact]
    public async Task A_route_nobody_marked_requires_an_authenticated_user()
    {
        var fallback = await core.Factory.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetFallbackPolicyAsync();
        Assert.NotNull(fallback);
        var authorization = core.Factory.Services.GetRequiredService<IAuthorizationService>();
        var resource = new DefaultHttpContext();
        resource.SetEndpoint(new Endpoint(_ => Task.CompletedTask, EndpointMetadataCollection.Empty, "a route added later without RequireAuthorization"));
        Assert.False((await authorization.AuthorizeAsync(new ClaimsPrincipal(new ClaimsIdentity()), resource, fallback)).Succeeded);
        Assert.True((await authorization.AuthorizeAsync(await core.PrincipalAsync(1), resource, fallback)).Succeeded);

        // Routing's own 415 answer stays a 415 for an anonymous caller (it reveals nothing).
        using var anonymous = core.Anonymous();
        using var xml = await anonymous.PostAsync("/api/v1/auth/login", new StringContent("<login/>", System.Text.Encoding.UTF8, "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, xml.StatusCode);
    }

    [Fact]
    public async Task Health_details_only_for_the_internal_network_and_admins()
    {
        using var outsider = core.From("203.0.113.5");
        var bare = await HttpAssert.OkJsonAsync(await outsider.GetAsync("/health"));
        Assert.Equal("ok", (string)bare["status"]!);
        Assert.Null(bare["checks"]);

        using var inside = core.From("10.1.2.3");
        Assert.NotNull((await HttpAssert.OkJsonAsync(await inside.GetAsync("/health")))["checks"]);

        using var admin = await core.AdminAsync();
        admin.DefaultRequestHeaders.Add(SecurityCoreFixture.ClientAddressHeader, "203.0.113.5");
        Assert.NotNull((await HttpAssert.OkJsonAsync(await admin.GetAsync("/health")))["checks"]);
    }

    [Fact]
    public async Task Chunks_and_snapshots_of_one_camera_cannot_point_into_another_cameras_folder()
    {
        var own = await core.CreateCameraAsync("paths-own");
        var other = await core.CreateCameraAsync("paths-other");
        using var recorder = core.Internal();
        Assert.Contains("outside camera", await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new
        {
            recordings = new[] { new { camera_id = own, path = $"{other}/2026-11-30/00.mp4", start_unix = 100.0, end_unix = 110.0, size_bytes = 5 } },
        }), HttpStatusCode.BadRequest));
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM recordings WHERE camera_id = $1", own));

        Assert.Contains("outside camera", await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/events", new
        {
            events = new[] { new { camera_id = own, task = "person_counting", snapshot_path = $"{other}/snapshots/x.jpg", executed_at_unix_ms = 1795784710000 } },
        }), HttpStatusCode.BadRequest));
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM events WHERE camera_id = $1", own));

        (await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new
        {
            recordings = new[] { new { camera_id = own, path = $"{own}/2026-11-30/00.mp4", start_unix = 100.0, end_unix = 110.0, size_bytes = 5 } },
        })).EnsureSuccessStatusCode();
    }
}
