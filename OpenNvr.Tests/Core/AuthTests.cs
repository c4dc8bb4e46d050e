using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OpenNvr.Tests.Core;

public sealed class AuthTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    [Fact]
    public async Task Login_with_json_or_form_returns_the_contract_token_shape_and_me_shows_the_role()
    {
        var tokens = await core.LoginAsync("admin", CoreFixture.AdminPassword);
        Assert.Equal("bearer", (string)tokens["token_type"]!);
        Assert.InRange((int)tokens["expires_in"]!, 15 * 60, 30 * 60);
        Assert.False(string.IsNullOrEmpty((string)tokens["refresh_token"]!));

        using var anonymous = core.Anonymous();
        using var form = await anonymous.PostAsync("/api/v1/auth/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "ADMIN", ["password"] = CoreFixture.AdminPassword, ["grant_type"] = "password",
        }));
        var formTokens = await HttpAssert.OkJsonAsync(form);

        using var client = core.WithToken((string)formTokens["access_token"]!);
        var me = await HttpAssert.OkJsonAsync(await client.GetAsync("/api/v1/auth/me"));
        Assert.Equal("admin", (string)me["username"]!);
        Assert.Equal("admin", (string)me["role"]!);
    }

    [Fact]
    public async Task Wrong_password_and_unknown_user_are_401_problems_and_are_audited()
    {
        using var anonymous = core.Anonymous();
        var detail = await HttpAssert.ProblemAsync(
            await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = "wrong-password-123" }), HttpStatusCode.Unauthorized);
        Assert.Contains("Invalid username or password", detail);
        await HttpAssert.ProblemAsync(
            await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = "nobody-here", password = "wrong-password-123" }), HttpStatusCode.Unauthorized);
        Assert.True(await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed' AND actor_name = 'nobody-here'") >= 1);

        // Reset the admin's counter so that other tests are not affected by these failures.
        await core.LoginAsync("admin", CoreFixture.AdminPassword);
    }

    [Fact]
    public async Task Expired_tampered_unsigned_and_foreign_key_tokens_are_401()
    {
        using var anonymous = core.Anonymous();
        await HttpAssert.ProblemAsync(await anonymous.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);

        var now = DateTime.UtcNow;
        var expired = Sign(CoreFixture.SigningKey, now.AddHours(-2), now.AddMinutes(-5));
        var detail = await HttpAssert.ProblemAsync(await core.WithToken(expired).GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);
        Assert.Contains("expired", detail);

        // A well-signed token passes only with the user's current security stamp (the per-request user check).
        var valid = Sign(CoreFixture.SigningKey, now, now.AddMinutes(10), stamp: await core.ScalarAsync<string>("SELECT security_stamp FROM users WHERE id = 1"));
        (await core.WithToken(valid).GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();

        // Tampered payload (role changed), signature kept.
        var parts = valid.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!;
        payload["sub"] = "999";
        var tampered = $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";
        await HttpAssert.ProblemAsync(await core.WithToken(tampered).GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);

        // Tampered signature.
        var signature = parts[2].ToCharArray();
        signature[5] = signature[5] == 'A' ? 'B' : 'A';
        await HttpAssert.ProblemAsync(await core.WithToken($"{parts[0]}.{parts[1]}.{new string(signature)}").GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);

        // alg: none, no signature.
        var none = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "." + parts[1] + ".";
        await HttpAssert.ProblemAsync(await core.WithToken(none).GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);

        // Right shape, another key.
        var foreign = Sign("a-completely-different-signing-key-0123456789-xyz", now, now.AddMinutes(10));
        await HttpAssert.ProblemAsync(await core.WithToken(foreign).GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);

        // Right key, wrong audience (a media token is not an access token).
        var media = Sign(CoreFixture.SigningKey, now, now.AddMinutes(10), CoreFixture.Audience + ":media");
        await HttpAssert.ProblemAsync(await core.WithToken(media).GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Refresh_rotates_and_reusing_a_rotated_token_revokes_the_whole_family()
    {
        var login = await core.LoginAsync("admin", CoreFixture.AdminPassword);
        var first = (string)login["refresh_token"]!;
        using var anonymous = core.Anonymous();

        var rotated = await HttpAssert.OkJsonAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = first }));
        var second = (string)rotated["refresh_token"]!;
        Assert.NotEqual(first, second);
        (await core.WithToken((string)rotated["access_token"]!).GetAsync("/api/v1/auth/me")).EnsureSuccessStatusCode();

        // The first token again: reuse. It fails and takes the family (the second token) down with it.
        await HttpAssert.ProblemAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = first }), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = second }), HttpStatusCode.Unauthorized);
        Assert.True(await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'auth.refresh_reuse'") >= 1);

        // Another login's family is untouched; logout with its token revokes it.
        var other = await core.LoginAsync("admin", CoreFixture.AdminPassword);
        var otherRefresh = await HttpAssert.OkJsonAsync(await anonymous.PostAsync("/api/v1/auth/refresh",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["refresh_token"] = (string)other["refresh_token"]! })));
        using var client = core.WithToken((string)otherRefresh["access_token"]!);
        Assert.Equal(HttpStatusCode.NoContent,
            (await client.PostAsJsonAsync("/api/v1/auth/logout", new { refresh_token = (string)otherRefresh["refresh_token"]! })).StatusCode);
        await HttpAssert.ProblemAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/refresh",
            new { refresh_token = (string)otherRefresh["refresh_token"]! }), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = "made-up" }), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Viewer_is_forbidden_on_admin_routes()
    {
        var (_, viewer) = await core.CreateUserAsync("viewer");
        await HttpAssert.ProblemAsync(await viewer.PostAsJsonAsync("/api/v1/cameras", new { name = "x", rtsp_url = "rtsp://h/x" }), HttpStatusCode.Forbidden);
        await HttpAssert.ProblemAsync(await viewer.GetAsync("/api/v1/users"), HttpStatusCode.Forbidden);
        await HttpAssert.ProblemAsync(await viewer.GetAsync("/api/v1/audit"), HttpStatusCode.Forbidden);
        await HttpAssert.ProblemAsync(await viewer.DeleteAsync("/api/v1/cameras/1"), HttpStatusCode.Forbidden);

        var (_, op) = await core.CreateUserAsync("operator");
        await HttpAssert.ProblemAsync(await op.GetAsync("/api/v1/users"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Viewer_without_a_grant_sees_no_trace_of_other_cameras()
    {
        var granted = await core.CreateCameraAsync("granted");
        var hidden = await core.CreateCameraAsync("hidden");
        using var recorder = core.Internal();
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new
        {
            events = new[]
            {
                new { camera_id = hidden, task = "person_counting", label = "person", executed_at_unix_ms = 1_795_784_710_000 },
                new { camera_id = granted, task = "person_counting", label = "person", executed_at_unix_ms = 1_795_784_710_001 },
            },
        })).EnsureSuccessStatusCode();
        (await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new
        {
            recordings = new[] { new { camera_id = hidden, path = $"{hidden}/a.mp4", start_unix = 100.0, end_unix = 110.0, size_bytes = 5 } },
        })).EnsureSuccessStatusCode();
        var hiddenEvent = await core.ScalarAsync<long>("SELECT id FROM events WHERE camera_id = $1", hidden);
        var hiddenChunk = await core.ScalarAsync<long>("SELECT id FROM recordings WHERE camera_id = $1", hidden);

        var (_, viewer) = await core.CreateUserAsync("viewer", granted);
        var list = await HttpAssert.OkJsonAsync(await viewer.GetAsync("/api/v1/cameras"));
        Assert.Equal([granted], list["cameras"]!.AsArray().Select(c => (int)c!["id"]!));
        Assert.Equal(1, (int)list["total"]!);

        await HttpAssert.ProblemAsync(await viewer.GetAsync($"/api/v1/cameras/{hidden}"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await viewer.GetAsync($"/api/v1/cameras/{hidden}/policies"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await viewer.GetAsync($"/api/v1/recordings/{hidden}?start_unix=0&end_unix=3600"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await viewer.GetAsync($"/api/v1/recordings/{hidden}/{hiddenChunk}/file"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await viewer.PostAsync($"/api/v1/recordings/{hidden}/media-token", null), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await viewer.GetAsync($"/api/v1/events/{hiddenEvent}"), HttpStatusCode.NotFound);
        // A camera that does not exist answers exactly like a hidden one.
        var hiddenDetail = await HttpAssert.ProblemAsync(await viewer.GetAsync($"/api/v1/cameras/{hidden}"), HttpStatusCode.NotFound);
        var missingDetail = await HttpAssert.ProblemAsync(await viewer.GetAsync("/api/v1/cameras/987654"), HttpStatusCode.NotFound);
        Assert.Equal(hiddenDetail.Replace(hidden.ToString(), "N"), missingDetail.Replace("987654", "N"));

        var latest = await HttpAssert.OkJsonAsync(await viewer.GetAsync("/api/v1/events/latest?limit=500"));
        Assert.All(latest["events"]!.AsArray(), e => Assert.Equal(granted, (int)e!["camera_id"]!));
        Assert.Empty((await HttpAssert.OkJsonAsync(await viewer.GetAsync($"/api/v1/events/latest?camera_id={hidden}")))["events"]!.AsArray());
        Assert.Empty((await HttpAssert.OkJsonAsync(await viewer.GetAsync($"/api/v1/events?camera_id={hidden}")))["events"]!.AsArray());

        // The granted camera is fully visible; a media token of the granted camera opens nothing of the hidden one.
        (await viewer.GetAsync($"/api/v1/recordings/{granted}?start_unix=0&end_unix=3600")).EnsureSuccessStatusCode();
        var media = await HttpAssert.OkJsonAsync(await viewer.PostAsync($"/api/v1/recordings/{granted}/media-token", null));
        using var anonymous = core.Anonymous();
        await HttpAssert.ProblemAsync(await anonymous.GetAsync($"/api/v1/recordings/{hidden}/{hiddenChunk}/file?token={media["token"]}"), HttpStatusCode.NotFound);
    }

    private static string Sign(string key, DateTime notBefore, DateTime expires, string audience = CoreFixture.Audience, string stamp = "") =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = CoreFixture.Issuer,
            Audience = audience,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            Claims = new Dictionary<string, object> { ["sub"] = "1", ["name"] = "admin", ["role"] = "admin", ["sst"] = stamp },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });
}

public sealed class LowRateLimitCoreFixture : CoreFixture
{
    protected override void Configure(IWebHostBuilder host) => host.UseSetting("Auth:LoginPermitsPerMinute", "3");
}

public sealed class LoginRateLimitTests(LowRateLimitCoreFixture core) : IClassFixture<LowRateLimitCoreFixture>
{
    [Fact]
    public async Task Login_attempts_beyond_the_per_client_limit_get_429_with_retry_after()
    {
        using var anonymous = core.Anonymous();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = "someone", password = "wrong-password-1" });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var detail = await HttpAssert.ProblemAsync(response, HttpStatusCode.TooManyRequests);
                Assert.Contains("Too many", detail);
                Assert.True(response.Headers.RetryAfter is not null);
            }
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }
}
