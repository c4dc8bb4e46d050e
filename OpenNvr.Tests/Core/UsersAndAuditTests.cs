using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace OpenNvr.Tests.Core;

public sealed class UsersAndAuditTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    [Theory]
    [InlineData("""{"username":"newuser1","password":"short","role":"viewer"}""", "12")]
    [InlineData("""{"username":"newuser1","password":"a-long-enough-password","role":"root"}""", "role")]
    [InlineData("""{"username":"x","password":"a-long-enough-password","role":"viewer"}""", "username")]
    [InlineData("""{"username":"bad user; drop","password":"a-long-enough-password","role":"viewer"}""", "username")]
    [InlineData("""{"username":"newuser1","password":"a-long-enough-password","role":"viewer","camera_ids":[987654]}""", "987654")]
    [InlineData("""{"username":"newuser1","password":"a-long-enough-password","role":"viewer","camera_ids":"all"}""", "JSON")]
    [InlineData("""{"username":"newuser1","role":"viewer"}""", "password")]
    public async Task Bad_user_bodies_are_400_problems(string body, string expected)
    {
        using var admin = await core.AdminAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var detail = await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/users", content), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
    }

    [Fact]
    public async Task Users_are_unique_grants_are_replaced_and_the_last_admin_is_protected()
    {
        var camera1 = await core.CreateCameraAsync("users-1");
        var camera2 = await core.CreateCameraAsync("users-2");
        using var admin = await core.AdminAsync();
        var created = await HttpAssert.OkJsonAsync(await admin.PostAsJsonAsync("/api/v1/users",
            new { username = "Alice", password = "alice-long-password", role = "viewer", camera_ids = new[] { camera1 } }), HttpStatusCode.Created);
        var id = (int)created["id"]!;
        Assert.Equal("alice", (string)created["username"]!);
        await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/v1/users",
            new { username = "ALICE", password = "alice-long-password", role = "viewer" }), HttpStatusCode.Conflict);

        var granted = await HttpAssert.OkJsonAsync(await admin.PutAsJsonAsync($"/api/v1/users/{id}/grants", new { camera_ids = new[] { camera2 } }));
        Assert.Equal([camera2], granted["camera_ids"]!.AsArray().Select(c => (int)c!));
        var tokens = await core.LoginAsync("alice", "alice-long-password");
        using var alice = core.WithToken((string)tokens["access_token"]!);
        var cameras = await HttpAssert.OkJsonAsync(await alice.GetAsync("/api/v1/cameras"));
        Assert.Equal([camera2], cameras["cameras"]!.AsArray().Select(c => (int)c!["id"]!));

        // Disabling a user ends its refresh family.
        (await admin.PutAsJsonAsync($"/api/v1/users/{id}", new { is_active = false })).EnsureSuccessStatusCode();
        using var anonymous = core.Anonymous();
        await HttpAssert.ProblemAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = (string)tokens["refresh_token"]! }), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = "alice", password = "alice-long-password" }), HttpStatusCode.Unauthorized);

        var adminId = await core.ScalarAsync<int>("SELECT id FROM users WHERE username = 'admin'");
        await HttpAssert.ProblemAsync(await admin.DeleteAsync($"/api/v1/users/{adminId}"), HttpStatusCode.Conflict);
        await HttpAssert.ProblemAsync(await admin.PutAsJsonAsync($"/api/v1/users/{adminId}", new { role = "viewer" }), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/users/{id}")).StatusCode);
        await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/users/{id}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Audit_log_records_logins_failures_and_changes_newest_first_in_pages()
    {
        using var anonymous = core.Anonymous();
        await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = "definitely-wrong-1" });
        await core.LoginAsync("admin", CoreFixture.AdminPassword);
        var camera = await core.CreateCameraAsync("audited");
        using var admin = await core.AdminAsync();

        var page = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/audit?limit=500"));
        var actions = page["entries"]!.AsArray().Select(e => (string)e!["action"]!).ToList();
        Assert.Contains("auth.login", actions);
        Assert.Contains("auth.login_failed", actions);
        Assert.Contains("camera.create", actions);
        Assert.Contains("user.seed_admin", actions);
        var ids = page["entries"]!.AsArray().Select(e => (long)e!["id"]!).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
        var create = page["entries"]!.AsArray().First(e => (string)e!["action"]! == "camera.create" && (string)e["target_id"]! == camera.ToString())!;
        Assert.Equal("admin", (string)create["actor_name"]!);
        Assert.DoesNotContain("secret", create["details"]!.ToJsonString());

        var first = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/audit?limit=2"));
        var next = (long)first["next_before_id"]!;
        var second = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/audit?limit=2&before_id={next}"));
        Assert.All(second["entries"]!.AsArray(), e => Assert.True((long)e!["id"]! < next));
        var failed = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/audit?action=auth.login_failed"));
        Assert.All(failed["entries"]!.AsArray(), e => Assert.Equal("auth.login_failed", (string)e!["action"]!));
        await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/audit?limit=-1"), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("""{"username":"admin"}""", "application/json", "required")]
    [InlineData("""{"username":1,"password":2}""", "application/json", "JSON")]
    [InlineData("""{"username":"admin","password":""", "application/json", "JSON")]
    [InlineData("username=admin", "application/x-www-form-urlencoded", "required")]
    [InlineData("""{"username":"LONG","password":"x"}""", "application/json", "256")]
    public async Task Bad_login_bodies_are_400_problems(string body, string contentType, string expected)
    {
        using var anonymous = core.Anonymous();
        using var content = new StringContent(body.Replace("LONG", new string('u', 300)), Encoding.UTF8, contentType);
        var detail = await HttpAssert.ProblemAsync(await anonymous.PostAsync("/api/v1/auth/login", content), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
    }

    [Fact]
    public async Task Login_with_an_unsupported_content_type_is_a_415_problem()
    {
        using var anonymous = core.Anonymous();
        using var content = new StringContent("hello", Encoding.UTF8, "text/plain");
        Assert.Contains("application/json", await HttpAssert.ProblemAsync(await anonymous.PostAsync("/api/v1/auth/login", content), HttpStatusCode.UnsupportedMediaType));
    }

    [Fact]
    public async Task Openapi_document_describes_every_route_and_scalar_serves_the_reference()
    {
        using var anonymous = core.Anonymous();
        var document = await HttpAssert.OkJsonAsync(await anonymous.GetAsync("/openapi/v1.json"));
        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        foreach (var expected in new[]
                 {
                     "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout", "/api/v1/auth/me", "/api/v1/cameras",
                     "/api/v1/cameras/{id}", "/api/v1/cameras/{id}/policies", "/api/v1/recordings/{cameraId}",
                     "/api/v1/recordings/{cameraId}/{id}/file", "/api/v1/recordings/{cameraId}/playlist.m3u8", "/api/v1/events/latest",
                     "/api/v1/events", "/api/v1/events/{id}/snapshot", "/api/v1/users", "/api/v1/users/{id}/grants", "/api/v1/audit",
                     "/api/v1/internal/recorders/heartbeat", "/api/v1/internal/recordings", "/api/v1/internal/events",
                 })
        {
            Assert.Contains(expected, paths);
        }

        Assert.NotNull(document["components"]!["securitySchemes"]!["Bearer"]);
        using var scalar = await anonymous.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
        Assert.Contains("<html", await scalar.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
