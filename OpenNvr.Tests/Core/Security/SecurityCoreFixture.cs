using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Core.Auth;

namespace OpenNvr.Tests.Core.Security;

/// <summary>Core on a fake clock, with access to its services and the principal a login would carry.</summary>
public class SecurityCoreFixture : FakeClockCoreFixture
{
    /// <summary>A test sets the client address of a request with this header (TestServer has no network).</summary>
    public const string ClientAddressHeader = "X-Test-Client-Address";

    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.ConfigureTestServices(services => services.AddTransient<IStartupFilter, ClientAddressFromHeader>());
    }

    /// <summary>An anonymous client whose requests come from <paramref name="address"/>.</summary>
    public HttpClient From(string address)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Add(ClientAddressHeader, address);
        return client;
    }

    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (System.Net.IPAddress.TryParse(context.Request.Headers[ClientAddressHeader].ToString(), out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }

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
