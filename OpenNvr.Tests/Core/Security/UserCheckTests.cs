using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenNvr.Core.Auth;

namespace OpenNvr.Tests.Core.Security;

/// <summary>Tokens end with the user's access: disabled, demoted, deleted or re-passworded users lose them within 5 s.</summary>
public sealed class UserCheckTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    [Fact]
    public async Task A_user_disabled_at_T_gets_401_with_access_and_media_tokens_by_T_plus_5_s()
    {
        var camera = await core.CreateCameraAsync("user-check-disable");
        var (id, viewer) = await core.CreateUserAsync("viewer", camera);
        var media = (string)(await HttpAssert.OkJsonAsync(await viewer.PostAsync($"/api/v1/recordings/{camera}/media-token", null)))["token"]!;
        using var anonymous = core.Anonymous();
        var playlist = $"/api/v1/recordings/{camera}/playlist.m3u8?start_unix=0&end_unix=3600&token={media}";
        (await viewer.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        // No chunks: the media token is accepted and the answer is the playlist's own 404.
        await HttpAssert.ProblemAsync(await anonymous.GetAsync(playlist), HttpStatusCode.NotFound);

        // Disabled behind this replica's back (as another replica would): the cached standing still holds at T...
        await core.ExecuteAsync("UPDATE users SET is_active = false WHERE id = $1", id);
        (await viewer.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();

        // ...and no longer at T + 5 s, for both kinds of token.
        core.FakeClock.Advance(TimeSpan.FromSeconds(5));
        Assert.Contains("disabled", await HttpAssert.ProblemAsync(await viewer.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));
        await HttpAssert.ProblemAsync(await anonymous.GetAsync(playlist), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Changes_through_the_api_take_effect_at_once_on_this_replica()
    {
        using var admin = await core.AdminAsync();

        var (demoted, demotedClient) = await core.CreateUserAsync("operator");
        (await demotedClient.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/api/v1/users/{demoted}", new { role = "viewer" })).EnsureSuccessStatusCode();
        Assert.Contains("log in again", await HttpAssert.ProblemAsync(await demotedClient.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));

        var (disabled, disabledClient) = await core.CreateUserAsync("viewer");
        (await disabledClient.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/api/v1/users/{disabled}", new { is_active = false })).EnsureSuccessStatusCode();
        Assert.Contains("disabled", await HttpAssert.ProblemAsync(await disabledClient.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));

        var (repassworded, repasswordedClient) = await core.CreateUserAsync("viewer");
        (await repasswordedClient.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/api/v1/users/{repassworded}", new { password = "a-brand-new-password" })).EnsureSuccessStatusCode();
        Assert.Contains("password", await HttpAssert.ProblemAsync(await repasswordedClient.GetAsync("/api/v1/auth/me"), HttpStatusCode.Unauthorized));

        var (deleted, deletedClient) = await core.CreateUserAsync("viewer");
        (await deletedClient.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        (await admin.DeleteAsync($"/api/v1/users/{deleted}")).EnsureSuccessStatusCode();
        Assert.Contains("no longer exists", await HttpAssert.ProblemAsync(await deletedClient.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));

        // A grant change is not a stamp change: the user keeps the session and the grant is applied at once.
        var camera = await core.CreateCameraAsync("user-check-grant");
        var (granted, grantedClient) = await core.CreateUserAsync("viewer", camera);
        (await grantedClient.GetAsync($"/api/v1/cameras/{camera}")).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/api/v1/users/{granted}/grants", new { camera_ids = Array.Empty<int>() })).EnsureSuccessStatusCode();
        await HttpAssert.ProblemAsync(await grantedClient.GetAsync($"/api/v1/cameras/{camera}"), HttpStatusCode.NotFound);
        (await grantedClient.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_token_without_the_current_security_stamp_is_refused()
    {
        var (id, viewer) = await core.CreateUserAsync("viewer");
        (await viewer.GetAsync("/api/v1/auth/me")).EnsureSuccessStatusCode();
        await core.ExecuteAsync("UPDATE users SET security_stamp = 'rotated-elsewhere' WHERE id = $1", id);
        core.FakeClock.Advance(TimeSpan.FromSeconds(5));
        Assert.Contains("security settings changed", await HttpAssert.ProblemAsync(await viewer.GetAsync("/api/v1/auth/me"), HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Media_tokens_are_minted_from_a_login_only_bound_to_one_camera_and_the_user()
    {
        var tokens = core.Service<TokenService>();
        var now = core.Clock.GetUtcNow();

        // A login's caller gets the configured lifetime (10 minutes), for one camera, as the same user and stamp.
        var login = await core.PrincipalAsync(1);
        var fromLogin = new JsonWebToken(tokens.CreateMediaToken(login, 7).Token);
        Assert.InRange(fromLogin.ValidTo, now.UtcDateTime.AddMinutes(10).AddSeconds(-1), now.UtcDateTime.AddMinutes(10).AddSeconds(1));
        Assert.Equal("7", fromLogin.GetClaim(TokenClaims.Camera).Value);
        Assert.Equal("1", fromLogin.GetClaim(TokenClaims.Subject).Value);
        Assert.Equal(login.SecurityStamp(), fromLogin.GetClaim(TokenClaims.SecurityStamp).Value);

        // A media token's holder, or an API token's, cannot mint one: holding one link must not buy the next.
        var mediaCaller = await core.PrincipalAsync(1, new Claim(TokenClaims.Camera, "7"));
        Assert.Throws<InvalidOperationException>(() => tokens.CreateMediaToken(mediaCaller, 7));
        var apiCaller = await core.PrincipalAsync(1, new Claim(TokenClaims.ApiToken, "3"));
        Assert.Throws<InvalidOperationException>(() => tokens.CreateMediaToken(apiCaller, 7));

        // Over HTTP: a media token is not an access token, so the media-token route refuses it (header or query).
        var camera = await core.CreateCameraAsync("media-from-media");
        using var admin = await core.AdminAsync();
        var media = (string)(await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{camera}/media-token", null)))["token"]!;
        await HttpAssert.ProblemAsync(await core.WithToken(media).PostAsync($"/api/v1/recordings/{camera}/media-token", null), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await core.Anonymous().PostAsync($"/api/v1/recordings/{camera}/media-token?token={media}", null), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Access_tokens_carry_the_users_security_stamp()
    {
        var (id, _) = await core.CreateUserAsync("viewer");
        var name = await core.ScalarAsync<string>("SELECT username FROM users WHERE id = $1", id);
        var tokens = await core.LoginAsync(name, "a-long-enough-password");
        var stamp = new JsonWebToken((string)tokens["access_token"]!).GetClaim(TokenClaims.SecurityStamp).Value;
        Assert.Equal(await core.ScalarAsync<string>("SELECT security_stamp FROM users WHERE id = $1", id), stamp);
        Assert.Equal(32, stamp.Length);
    }
}
