using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Core.Security;

public sealed class SecurityOptionsTests
{
    [Theory]
    [InlineData("Auth:UserCheck:CacheSeconds", "30", "Auth:UserCheck:CacheSeconds")]
    [InlineData("Auth:Mfa:AllowedDriftSteps", "9", "Auth:Mfa:AllowedDriftSteps")]
    [InlineData("Auth:RefreshFamilyDays", "0", "Auth:RefreshFamilyDays")]
    [InlineData("Auth:Lockout:MaxDelaySeconds", "1", "Auth:Lockout:MaxDelaySeconds")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/99", "ForwardedHeaders:KnownNetworks")]
    public async Task A_bad_security_setting_stops_core_at_start_naming_it(string key, string value, string named)
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("core");
        await using var factory = new WebApplicationFactory<NvrDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:nvrdb", connectionString);
            host.UseSetting("Auth:JwtSigningKey", CoreFixture.SigningKey);
            host.UseSetting(key, value);
        });
        var failure = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains(named, failure.ToString());
    }
}
