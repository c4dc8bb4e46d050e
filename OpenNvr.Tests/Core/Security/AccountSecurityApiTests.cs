using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using OtpNet;

namespace OpenNvr.Tests.Core.Security;

/// <summary>The account-security routes over HTTP: two-factor login, API tokens, login delays per address.</summary>
public sealed class AccountSecurityApiTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    private const string Password = "a-long-enough-password";

    private string Code(string secret) => new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(core.Clock.GetUtcNow().UtcDateTime);

    private async Task<(int Id, string Name, HttpClient Client)> UserAsync(string role, params int[] cameras)
    {
        var (id, client) = await core.CreateUserAsync(role, cameras);
        return (id, await core.ScalarAsync<string>("SELECT username FROM users WHERE id = $1", id), client);
    }

    private static Task<HttpResponseMessage> LoginAsync(HttpClient client, string username, string password, string? otp = null) =>
        client.PostAsJsonAsync("/api/v1/auth/login", otp is null ? new { username, password } : (object)new { username, password, otp });

    [Fact]
    public async Task Mfa_setup_enable_login_without_and_with_the_code_replay_refused_recovery_code_once_disable()
    {
        var (_, name, client) = await UserAsync("viewer");
        using var anonymous = core.Anonymous();

        var setup = await HttpAssert.OkJsonAsync(await client.PostAsync("/api/v1/auth/mfa/setup", null));
        var secret = (string)setup["secret"]!;
        Assert.StartsWith("otpauth://totp/", (string)setup["otpauth_uri"]!);
        Assert.Contains($"secret={secret}", (string)setup["otpauth_uri"]!);
        Assert.Contains("<svg", (string)setup["qr_svg"]!);

        // A wrong code does not enable; a computed one does and yields ten recovery codes.
        await HttpAssert.ProblemAsync(await client.PostAsJsonAsync("/api/v1/auth/mfa/enable", new { code = "000000" == Code(secret) ? "111111" : "000000" }), HttpStatusCode.BadRequest);
        var enabled = await HttpAssert.OkJsonAsync(await client.PostAsJsonAsync("/api/v1/auth/mfa/enable", new { code = Code(secret) }));
        var recovery = enabled["recovery_codes"]!.AsArray().Select(c => (string)c!).ToList();
        Assert.Equal(10, recovery.Distinct().Count());
        // Enabling rotated the security stamp: the session that enabled it (and every other) ends.
        await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/auth/me"), HttpStatusCode.Unauthorized);

        // Without a code: 401 with mfa_required; the code of enable is spent, so the same step is a replay.
        using var withoutCode = await LoginAsync(anonymous, name, Password);
        var problem = await HttpAssert.OkJsonAsync(withoutCode, HttpStatusCode.Unauthorized);
        Assert.True((bool)problem["mfa_required"]!);
        using var replayOfEnable = await LoginAsync(anonymous, name, Password, Code(secret));
        Assert.Contains("already used", (string)(await HttpAssert.OkJsonAsync(replayOfEnable, HttpStatusCode.Unauthorized))["detail"]!);

        core.FakeClock.Advance(TimeSpan.FromSeconds(30));
        var code = Code(secret);
        var tokens = await HttpAssert.OkJsonAsync(await LoginAsync(anonymous, name, Password, code));
        Assert.False(string.IsNullOrEmpty((string)tokens["access_token"]!));
        var replay = await HttpAssert.OkJsonAsync(await LoginAsync(anonymous, name, Password, code), HttpStatusCode.Unauthorized);
        Assert.True((bool)replay["mfa_required"]!);
        // The right code with a wrong password is still a wrong password (no hint that the code was fine).
        core.FakeClock.Advance(TimeSpan.FromSeconds(30));
        var wrongPassword = await HttpAssert.OkJsonAsync(await LoginAsync(anonymous, name, "not-the-password", Code(secret)), HttpStatusCode.Unauthorized);
        Assert.Null(wrongPassword["mfa_required"]);

        // A recovery code logs in once (typed in upper case without the dash: people type them).
        var typed = recovery[3].Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        (await HttpAssert.OkJsonAsync(await LoginAsync(anonymous, name, Password, typed))).AsObject();
        await HttpAssert.OkJsonAsync(await LoginAsync(anonymous, name, Password, recovery[3]), HttpStatusCode.Unauthorized);
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM mfa_recovery_codes c JOIN users u ON u.id = c.user_id WHERE u.username = $1 AND c.used_at IS NOT NULL", name));

        // Disable with a fresh code: login needs no code any more.
        core.FakeClock.Advance(TimeSpan.FromSeconds(30));
        var session = await HttpAssert.OkJsonAsync(await LoginAsync(anonymous, name, Password, Code(secret)));
        using var signedIn = core.WithToken((string)session["access_token"]!);
        core.FakeClock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await signedIn.PostAsJsonAsync("/api/v1/auth/mfa/disable", new { code = Code(secret) })).StatusCode);
        await core.LoginAsync(name, Password);
        foreach (var action in new[] { "auth.mfa_setup", "auth.mfa_enabled", "auth.mfa_disabled" })
        {
            Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = $1 AND actor_name = $2", action, name));
        }
    }

    [Fact]
    public async Task Api_token_create_use_list_revoke_expire_and_never_above_its_creator()
    {
        var camera = await core.CreateCameraAsync("api-token-route");
        var (_, _, viewer) = await UserAsync("viewer", camera);

        // A viewer cannot create an admin token, nor one for a camera it cannot see.
        Assert.Contains("more rights", await HttpAssert.ProblemAsync(
            await viewer.PostAsJsonAsync("/api/v1/auth/api-tokens", new { name = "too much", role = "admin", expires_in_days = 30 }), HttpStatusCode.BadRequest));
        var other = await core.CreateCameraAsync("api-token-other");
        await HttpAssert.ProblemAsync(
            await viewer.PostAsJsonAsync("/api/v1/auth/api-tokens", new { name = "elsewhere", role = "viewer", camera_ids = new[] { other }, expires_in_days = 30 }), HttpStatusCode.BadRequest);

        var created = await HttpAssert.OkJsonAsync(
            await viewer.PostAsJsonAsync("/api/v1/auth/api-tokens", new { name = "home assistant", role = "viewer", expires_in_days = 1 }), HttpStatusCode.Created);
        var token = (string)created["token"]!;
        var id = (long)created["id"]!;
        Assert.StartsWith("onvr_", token);

        using var client = core.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var cameras = await HttpAssert.OkJsonAsync(await client.GetAsync("/api/v1/cameras"));
        Assert.Equal([camera], cameras["cameras"]!.AsArray().Select(c => (int)c!["id"]!));
        // A viewer's token cannot change anything, and cannot mint tokens of either kind.
        await HttpAssert.ProblemAsync(await client.PutAsJsonAsync($"/api/v1/cameras/{camera}", new { name = "renamed" }), HttpStatusCode.Forbidden);
        await HttpAssert.ProblemAsync(await client.PostAsJsonAsync("/api/v1/auth/api-tokens", new { name = "child", role = "viewer", expires_in_days = 1 }), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await client.PostAsync($"/api/v1/recordings/{camera}/media-token", null), HttpStatusCode.Forbidden);

        // Listed with its last use, never with the token itself.
        var list = await HttpAssert.OkJsonAsync(await viewer.GetAsync("/api/v1/auth/api-tokens"));
        var listed = list["tokens"]!.AsArray().Single(t => (long)t!["id"]! == id)!;
        Assert.NotNull(listed["last_used_at"]);
        Assert.Null(listed["token"]);
        Assert.DoesNotContain(token, list.ToJsonString());

        // Expiry: a day later the token is refused.
        core.FakeClock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Contains("expired", await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));

        // Revocation: 204, then 401 on the next use; a stranger cannot revoke someone else's token.
        var (_, _, viewer2) = await UserAsync("viewer", camera);
        var second = await HttpAssert.OkJsonAsync(
            await viewer2.PostAsJsonAsync("/api/v1/auth/api-tokens", new { name = "script", role = "viewer", expires_in_days = 30 }), HttpStatusCode.Created);
        using var scripted = core.Anonymous();
        scripted.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)second["token"]!);
        (await scripted.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        var (_, _, stranger) = await UserAsync("viewer");
        await HttpAssert.ProblemAsync(await stranger.DeleteAsync($"/api/v1/auth/api-tokens/{second["id"]}"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await viewer2.DeleteAsync($"/api/v1/auth/api-tokens/{second["id"]}")).StatusCode);
        Assert.Contains("revoked", await HttpAssert.ProblemAsync(await scripted.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'auth.api_token_revoked' AND target_id = $1", second["id"]!.ToString()));
    }

    [Fact]
    public async Task An_attackers_failures_from_one_address_do_not_lock_the_user_out_from_another_and_unknown_names_answer_alike()
    {
        var (_, name, _) = await UserAsync("viewer");
        using var attacker = core.From("203.0.113.9");
        using var owner = core.From("198.51.100.7");

        var answers = new List<HttpStatusCode>();
        var unknownAnswers = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            answers.Add((await LoginAsync(attacker, name, "not-the-password")).StatusCode);
            unknownAnswers.Add((await LoginAsync(attacker, "nobody-" + name, "not-the-password")).StatusCode);
        }

        // Four free failures, then the pair waits (423 with Retry-After), for a real and an unknown name alike.
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 4).Concat(Enumerable.Repeat((HttpStatusCode)423, 2)), answers);
        Assert.Equal(answers, unknownAnswers);
        using var blocked = await LoginAsync(attacker, name, Password);
        Assert.Equal((HttpStatusCode)423, blocked.StatusCode);
        Assert.NotNull(blocked.Headers.RetryAfter);

        // The owner, elsewhere, logs in at once.
        (await HttpAssert.OkJsonAsync(await LoginAsync(owner, name, Password))).AsObject();

        // Once the wait has passed, the attacker's address may try again.
        core.FakeClock.Advance(TimeSpan.FromMinutes(10));
        (await HttpAssert.OkJsonAsync(await LoginAsync(attacker, name, Password))).AsObject();
    }
}

/// <summary>Core with <c>Auth:RequireMfaForAdmins</c>: admins enrol before anything else answers them.</summary>
public sealed class MfaForAdminsFixture : SecurityCoreFixture
{
    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.UseSetting("Auth:RequireMfaForAdmins", "true");
    }
}

public sealed class RequireMfaForAdminsTests(MfaForAdminsFixture core) : IClassFixture<MfaForAdminsFixture>
{
    [Fact]
    public async Task An_admin_without_mfa_may_only_enrol_then_logs_in_with_a_code_and_works()
    {
        var tokens = await core.LoginAsync("admin", CoreFixture.AdminPassword);
        using var admin = core.WithToken((string)tokens["access_token"]!);
        using var refused = await admin.GetAsync("/api/v1/cameras");
        var problem = await HttpAssert.OkJsonAsync(refused, HttpStatusCode.Forbidden);
        Assert.True((bool)problem["mfa_enrollment_required"]!);
        (await admin.GetAsync("/api/v1/auth/me")).EnsureSuccessStatusCode();

        var secret = (string)(await HttpAssert.OkJsonAsync(await admin.PostAsync("/api/v1/auth/mfa/setup", null)))["secret"]!;
        string Code() => new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(core.Clock.GetUtcNow().UtcDateTime);
        await HttpAssert.OkJsonAsync(await admin.PostAsJsonAsync("/api/v1/auth/mfa/enable", new { code = Code() }));

        core.FakeClock.Advance(TimeSpan.FromSeconds(30));
        using var anonymous = core.Anonymous();
        var session = await HttpAssert.OkJsonAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/login",
            new { username = "admin", password = CoreFixture.AdminPassword, otp = Code() }));
        using var enrolled = core.WithToken((string)session["access_token"]!);
        (await enrolled.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
    }
}
