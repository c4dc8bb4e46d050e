using System.Security.Claims;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using OpenNvr.Core.Auth;

namespace OpenNvr.Tests.Core.Security;

/// <summary>
/// Core over its own database with a clock the test moves. The clock starts at the real time and is only moved
/// forward, so JWTs it issues stay acceptable to validators that read the real clock.
/// </summary>
public class FakeClockCoreFixture : CoreFixture
{
    // Whole seconds: PostgreSQL keeps microseconds, so the clock must not carry finer ticks for exact comparisons.
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    protected override void Configure(IWebHostBuilder host) =>
        host.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));

    public T Service<T>() where T : notnull => Factory.Services.GetRequiredService<T>();

    /// <summary>The principal a login of user <paramref name="userId"/> would have, read from nvrdb.</summary>
    public async Task<ClaimsPrincipal> PrincipalAsync(int userId, params Claim[] extra)
    {
        var name = await ScalarAsync<string>("SELECT username FROM users WHERE id = $1", userId);
        var role = await ScalarAsync<string>("SELECT role FROM users WHERE id = $1", userId);
        var stamp = await ScalarAsync<string>("SELECT security_stamp FROM users WHERE id = $1", userId);
        var claims = new List<Claim>
        {
            new(TokenClaims.Subject, userId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(TokenClaims.Name, name),
            new(TokenClaims.Role, role),
            new(TokenClaims.SecurityStamp, stamp),
        };
        claims.AddRange(extra);
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "test", TokenClaims.Name, TokenClaims.Role));
    }
}
