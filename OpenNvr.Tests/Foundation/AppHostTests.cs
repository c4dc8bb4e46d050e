using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Foundation;

[Collection(AppHostCollection.Name)]
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class AppHostTests(AppHostFixture fixture)
{
    [Theory]
    [InlineData("core")]
    [InlineData("inference")]
    [InlineData("recorder")]
    public async Task Service_reports_healthy_through_the_app_host(string service)
    {
        using var client = fixture.App.CreateHttpClient(service);

        using var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ok", body.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Services_with_a_database_report_it_in_their_health()
    {
        using var client = fixture.App.CreateHttpClient("core");

        using var body = JsonDocument.Parse(await client.GetStringAsync("/health"));

        var checks = body.RootElement.GetProperty("checks");
        Assert.Contains(checks.EnumerateObject(), check => check.Name.Contains("NvrDbContext", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_generated_admin_logs_in_and_sees_the_demo_camera()
    {
        var password = await fixture.ParameterValueAsync("admin-password");
        using var client = fixture.App.CreateHttpClient("core");

        using var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var cameras = JsonDocument.Parse(await client.GetStringAsync("/api/v1/cameras"));

        var demo = Assert.Single(cameras.RootElement.GetProperty("cameras").EnumerateArray());
        Assert.EndsWith("/testdata/video/vtest.mp4", demo.GetProperty("rtsp_url").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Local_postgres_keeps_its_data_under_the_configured_data_root()
    {
        Assert.True(File.Exists(Path.Combine(fixture.DataRoot, "postgres", "data", "PG_VERSION")));
    }
}
