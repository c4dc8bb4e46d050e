using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Auth.ApiTokens;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Tests.Core.Security;

/// <summary>API tokens: created, used as 'Bearer onvr_…', listed, revoked; never more rights than their creator.</summary>
public sealed class ApiTokenTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    internal static async Task<ApiTokenCreation> CreateAsync(SecurityCoreFixture core, ClaimsPrincipal creator, string role, int[]? cameras = null, int days = 30)
    {
        await using var scope = core.Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ApiTokenService>()
            .CreateAsync(scope.ServiceProvider.GetRequiredService<NvrDbContext>(), creator, new ApiTokenSpec("ci script", role, cameras, days), CancellationToken.None);
    }

    internal static string Created(ApiTokenCreation creation) =>
        creation is ApiTokenCreation.Created created ? created.Token.Token : throw new Xunit.Sdk.XunitException($"refused: {((ApiTokenCreation.Refused)creation).Detail}");

    private HttpClient Bearer(string token)
    {
        var client = core.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    [Fact]
    public async Task A_token_works_as_bearer_within_its_cameras_records_its_last_use_cheaply_and_dies_when_revoked()
    {
        var inScope = await core.CreateCameraAsync("token-in-scope");
        var outOfScope = await core.CreateCameraAsync("token-out-of-scope");
        var admin = await core.PrincipalAsync(1);
        var creation = await CreateAsync(core, admin, "admin", [inScope]);
        var token = Created(creation);
        var info = ((ApiTokenCreation.Created)creation).Token.Info;
        Assert.StartsWith("onvr_", token);
        Assert.Equal(48, token.Length); // onvr_ + 256 bits in base64url
        Assert.Equal(token[..9], info.Prefix);

        // Stored as a 32-byte keyed hash: neither the token nor its plain SHA-256 is in the table.
        var stored = await core.ScalarAsync<byte[]>("SELECT token_hash FROM api_tokens WHERE id = $1", info.Id);
        Assert.Equal(32, stored.Length);
        Assert.NotEqual(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)), stored);
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM api_tokens WHERE name LIKE '%' || $1 || '%' OR prefix = $1", token));

        using var client = Bearer(token);
        var list = await HttpAssert.OkJsonAsync(await client.GetAsync("/api/v1/cameras"));
        Assert.Equal([inScope], list["cameras"]!.AsArray().Select(c => (int)c!["id"]!));
        (await client.GetAsync($"/api/v1/cameras/{inScope}")).EnsureSuccessStatusCode();
        await HttpAssert.ProblemAsync(await client.GetAsync($"/api/v1/cameras/{outOfScope}"), HttpStatusCode.NotFound);
        var me = await HttpAssert.OkJsonAsync(await client.GetAsync("/api/v1/auth/me"));
        Assert.Equal("admin", (string)me["username"]!);

        // last_used_at: written on first use, not on every request, again once the resolution (60 s) has passed.
        var firstUse = await core.ScalarAsync<DateTime>("SELECT last_used_at FROM api_tokens WHERE id = $1", info.Id);
        core.FakeClock.Advance(TimeSpan.FromSeconds(30));
        (await client.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        Assert.Equal(firstUse, await core.ScalarAsync<DateTime>("SELECT last_used_at FROM api_tokens WHERE id = $1", info.Id));
        core.FakeClock.Advance(TimeSpan.FromSeconds(31));
        (await client.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        Assert.True(await core.ScalarAsync<DateTime>("SELECT last_used_at FROM api_tokens WHERE id = $1", info.Id) > firstUse);

        await using (var scope = core.Factory.Services.CreateAsyncScope())
        {
            var revoked = await scope.ServiceProvider.GetRequiredService<ApiTokenService>()
                .RevokeAsync(scope.ServiceProvider.GetRequiredService<NvrDbContext>(), admin, info.Id, CancellationToken.None);
            Assert.NotNull(revoked?.RevokedAt);
        }

        Assert.Contains("revoked", await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task A_token_never_has_more_rights_than_its_creator()
    {
        var granted = await core.CreateCameraAsync("token-granted");
        var notGranted = await core.CreateCameraAsync("token-not-granted");
        var (viewerId, _) = await core.CreateUserAsync("viewer", granted);
        var viewer = await core.PrincipalAsync(viewerId);

        // At creation: no higher role, no camera the creator cannot see (answered as if it did not exist).
        Assert.Contains("more rights than its creator", ((ApiTokenCreation.Refused)await CreateAsync(core, viewer, "operator")).Detail);
        Assert.Contains($"camera {notGranted} does not exist", ((ApiTokenCreation.Refused)await CreateAsync(core, viewer, "viewer", [granted, notGranted])).Detail);
        Assert.Contains("after a login", ((ApiTokenCreation.Refused)await CreateAsync(core,
            await core.PrincipalAsync(viewerId, new Claim(TokenClaims.ApiToken, "1")), "viewer")).Detail);
        using (var viewerToken = Bearer(Created(await CreateAsync(core, viewer, "viewer"))))
        {
            var list = await HttpAssert.OkJsonAsync(await viewerToken.GetAsync("/api/v1/cameras"));
            Assert.Equal([granted], list["cameras"]!.AsArray().Select(c => (int)c!["id"]!));
            await HttpAssert.ProblemAsync(await viewerToken.PostAsJsonAsync("/api/v1/cameras", new { name = "x", rtsp_url = "rtsp://h/x" }), HttpStatusCode.Forbidden);
        }

        // At use: an admin's admin token acts as what the admin is now.
        var (adminId, _) = await core.CreateUserAsync("admin");
        var adminToken = Created(await CreateAsync(core, await core.PrincipalAsync(adminId), "admin"));
        using var client = Bearer(adminToken);
        var created = await client.PostAsJsonAsync("/api/v1/cameras", new { name = "made-by-token", rtsp_url = "rtsp://h/token" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var admin = await core.AdminAsync();
        (await admin.PutAsJsonAsync($"/api/v1/users/{adminId}", new { role = "viewer" })).EnsureSuccessStatusCode();
        await HttpAssert.ProblemAsync(await client.PostAsJsonAsync("/api/v1/cameras", new { name = "x", rtsp_url = "rtsp://h/y" }), HttpStatusCode.Forbidden);
        var asViewer = await HttpAssert.OkJsonAsync(await client.GetAsync("/api/v1/auth/me"));
        Assert.Equal("viewer", (string)asViewer["role"]!);

        (await admin.PutAsJsonAsync($"/api/v1/users/{adminId}", new { is_active = false })).EnsureSuccessStatusCode();
        Assert.Contains("disabled", await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));

        (await admin.DeleteAsync($"/api/v1/users/{adminId}")).EnsureSuccessStatusCode();
        Assert.Contains("unknown", await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Malformed_and_unknown_tokens_are_401_problems_and_bad_specs_are_refused()
    {
        using var made = Bearer("onvr_" + new string('A', 43));
        Assert.Contains("unknown", await HttpAssert.ProblemAsync(await made.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));
        using var huge = Bearer("onvr_" + new string('A', 500));
        Assert.Contains("malformed", await HttpAssert.ProblemAsync(await huge.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));

        var admin = await core.PrincipalAsync(1);
        Assert.Contains("role must be", ((ApiTokenCreation.Refused)await CreateAsync(core, admin, "root")).Detail);
        Assert.Contains("expires_in_days", ((ApiTokenCreation.Refused)await CreateAsync(core, admin, "viewer", days: 0)).Detail);
        Assert.Contains("expires_in_days", ((ApiTokenCreation.Refused)await CreateAsync(core, admin, "viewer", days: 366)).Detail);
        Assert.Contains("at least one camera", ((ApiTokenCreation.Refused)await CreateAsync(core, admin, "viewer", [])).Detail);
    }
}

/// <summary>Expiry moves the clock by days, so it has a Core of its own.</summary>
public sealed class ApiTokenExpiryTests(SecurityCoreFixture core) : IClassFixture<SecurityCoreFixture>
{
    [Fact]
    public async Task A_token_is_refused_once_it_has_expired()
    {
        var token = ApiTokenTests.Created(await ApiTokenTests.CreateAsync(core, await core.PrincipalAsync(1), "viewer", days: 1));
        using var client = core.Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        (await client.GetAsync("/api/v1/cameras")).EnsureSuccessStatusCode();
        core.FakeClock.Advance(TimeSpan.FromDays(1));
        Assert.Contains("expired", await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized));
    }
}
