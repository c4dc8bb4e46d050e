using System.Net;
using System.Net.Http.Json;

namespace OpenNvr.Tests.Core;

/// <summary>
/// Lifetimes on Core's clock (<see cref="FakeClockCoreFixture"/>): access and media tokens, refresh tokens and
/// lockouts end exactly when their configured time has passed, tested by moving the clock rather than waiting.
/// </summary>
public sealed class ExpiryTests(FakeClockCoreFixture core) : IClassFixture<FakeClockCoreFixture>
{
    /// <summary>The validation's clock skew (TokenService): a token is refused this long after its expiry.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_access_token_works_until_its_lifetime_has_passed_and_is_then_refused_as_expired()
    {
        var tokens = await core.LoginAsync("admin", CoreFixture.AdminPassword);
        var lifetime = TimeSpan.FromSeconds((int)tokens["expires_in"]!);
        using var client = core.WithToken((string)tokens["access_token"]!);

        core.FakeClock.Advance(lifetime - TimeSpan.FromSeconds(1));
        (await client.GetAsync("/api/v1/auth/me")).EnsureSuccessStatusCode();

        core.FakeClock.Advance(ClockSkew + TimeSpan.FromSeconds(2));
        var detail = await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/auth/me"), HttpStatusCode.Unauthorized);
        Assert.Contains("expired", detail);
    }

    [Fact]
    public async Task A_media_token_opens_its_camera_until_its_lifetime_has_passed()
    {
        var camera = await core.CreateCameraAsync("media-expiry");
        using var admin = await core.AdminAsync();
        var media = await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{camera}/media-token", null));
        var lifetime = TimeSpan.FromSeconds((int)media["expires_in"]!);
        var url = $"/api/v1/recordings/{camera}/987654321/file?token={Uri.EscapeDataString((string)media["token"]!)}";
        using var anonymous = core.Anonymous();

        // Authorised: the chunk does not exist (404), rather than 401.
        core.FakeClock.Advance(lifetime - TimeSpan.FromSeconds(1));
        await HttpAssert.ProblemAsync(await anonymous.GetAsync(url), HttpStatusCode.NotFound);

        // Refused: the challenge of a media route names both ways in, not the expiry.
        core.FakeClock.Advance(ClockSkew + TimeSpan.FromSeconds(2));
        await HttpAssert.ProblemAsync(await anonymous.GetAsync(url), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_refresh_token_rotates_within_its_days_and_is_refused_once_they_have_passed()
    {
        var days = TimeSpan.FromDays(new OpenNvr.Core.Auth.AuthOptions().RefreshTokenDays);
        var login = await core.LoginAsync("admin", CoreFixture.AdminPassword);
        using var anonymous = core.Anonymous();

        core.FakeClock.Advance(days - TimeSpan.FromMinutes(1));
        var rotated = await HttpAssert.OkJsonAsync(await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = (string)login["refresh_token"]! }));

        // The rotated token has a lifetime of its own, counted from its rotation.
        core.FakeClock.Advance(days + TimeSpan.FromSeconds(1));
        await HttpAssert.ProblemAsync(
            await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = (string)rotated["refresh_token"]! }), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_login_delay_lasts_its_seconds_and_then_the_right_password_works_again()
    {
        // Five failures from one address: that name from that address waits the first delay (Auth:Lockout).
        var lockout = new OpenNvr.Core.Auth.Lockout.LoginThrottleOptions().DelayAfter(5);
        var (id, _) = await core.CreateUserAsync("viewer");
        var username = await core.ScalarAsync<string>("SELECT username FROM users WHERE id = $1", id);
        using var anonymous = core.Anonymous();
        for (var i = 0; i < 5; i++)
        {
            (await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username, password = "not-the-password" })).Dispose();
        }

        var locked = await HttpAssert.OkJsonAsync(
            await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username, password = "a-long-enough-password" }), (HttpStatusCode)423);
        Assert.Equal((int)lockout.TotalSeconds, (int)locked["retry_after_seconds"]!);

        core.FakeClock.Advance(lockout - TimeSpan.FromSeconds(1));
        var stillLocked = await HttpAssert.OkJsonAsync(
            await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username, password = "a-long-enough-password" }), (HttpStatusCode)423);
        Assert.Equal(1, (int)stillLocked["retry_after_seconds"]!);

        core.FakeClock.Advance(TimeSpan.FromSeconds(1));
        await core.LoginAsync(username, "a-long-enough-password");
    }
}
