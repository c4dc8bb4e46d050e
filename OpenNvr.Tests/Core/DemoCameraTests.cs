using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Core;

public sealed class DemoCameraFixture : CoreFixture
{
    public static readonly string DemoUrl = new Uri(RepositoryPaths.TestData("video", "vtest.mp4")).AbsoluteUri;

    protected override void Configure(IWebHostBuilder host)
    {
        host.UseSetting("Cameras:AllowFileSources", "true");
        host.UseSetting("Demo:CameraUrl", DemoUrl);
    }
}

/// <summary>The app host's demo camera: created once on a fresh database, with a person_counting policy.</summary>
public sealed class DemoCameraTests(DemoCameraFixture core) : IClassFixture<DemoCameraFixture>
{
    [Fact]
    public async Task A_fresh_database_gets_the_demo_camera_once_and_a_deleted_one_stays_deleted()
    {
        using var admin = await core.AdminAsync();

        var body = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/cameras"));

        var camera = Assert.Single(body["cameras"]!.AsArray())!;
        Assert.Equal(DemoCameraFixture.DemoUrl, camera["rtsp_url"]!.GetValue<string>());
        var policy = Assert.Single(camera["ai_policies"]!.AsArray())!;
        Assert.Equal("person_counting", policy["task"]!.GetValue<string>());
        Assert.Equal(500, policy["interval_ms"]!.GetValue<int>());
        Assert.True(policy["motion_gating"]!.GetValue<bool>());

        // Deleting it sticks.
        var id = camera["id"]!.GetValue<int>();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/cameras/{id}")).StatusCode);

        // A second Core over the same database: the seed runs again at start-up and must leave the choice alone.
        await using var restarted = new WebApplicationFactory<NvrDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:nvrdb", core.ConnectionString);
            host.UseSetting("Auth:JwtSigningKey", CoreFixture.SigningKey);
            host.UseSetting("Cameras:AllowFileSources", "true");
            host.UseSetting("Demo:CameraUrl", DemoCameraFixture.DemoUrl);
        });
        using var client = restarted.CreateClient();
        (await client.GetAsync("/health")).EnsureSuccessStatusCode();

        // Not seeded again; the deleted one keeps its row (its history outlives it), marked deleted.
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM cameras WHERE deleted_at IS NULL"));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM cameras"));
    }
}
