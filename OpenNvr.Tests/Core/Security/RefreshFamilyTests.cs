using System.Net;
using System.Net.Http.Json;

namespace OpenNvr.Tests.Core.Security;

/// <summary>A login ends 30 days after the password was given, however often it is refreshed (own Core: days pass).</summary>
public sealed class RefreshFamilyTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    [Fact]
    public async Task Refreshing_never_extends_a_login_past_its_absolute_lifetime()
    {
        var refresh = (string)(await core.LoginAsync("admin", CoreFixture.AdminPassword))["refresh_token"]!;
        using var anonymous = core.Anonymous();
        async Task<string?> RefreshAsync(string token)
        {
            using var response = await anonymous.PostAsJsonAsync("/api/v1/auth/refresh", new { refresh_token = token });
            return response.StatusCode == HttpStatusCode.OK ? (string)(await HttpAssert.OkJsonAsync(response))["refresh_token"]! : null;
        }

        // Each refresh token lives 14 days; used every 10 days, the login goes on until day 30 and not beyond.
        core.FakeClock.Advance(TimeSpan.FromDays(10));
        refresh = await RefreshAsync(refresh) ?? throw new Xunit.Sdk.XunitException("refresh on day 10 failed");
        core.FakeClock.Advance(TimeSpan.FromDays(10));
        refresh = await RefreshAsync(refresh) ?? throw new Xunit.Sdk.XunitException("refresh on day 20 failed");
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM refresh_tokens WHERE expires_at > family_expires_at"));
        core.FakeClock.Advance(TimeSpan.FromDays(10));
        Assert.Null(await RefreshAsync(refresh));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(DISTINCT family_id) FROM refresh_tokens"));
    }
}
