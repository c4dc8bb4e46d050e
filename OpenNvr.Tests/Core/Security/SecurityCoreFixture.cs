using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Core.Auth;

namespace OpenNvr.Tests.Core.Security;

/// <summary>Core on a fake clock, with access to its services and the principal a login would carry.</summary>
public class SecurityCoreFixture : FakeClockCoreFixture
{
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
