using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Foundation;

/// <summary>Each service runs outside the app host given only the configuration keys of the contract.</summary>
public sealed class StandaloneServiceTests
{
    [Fact]
    public async Task Core_migrates_an_empty_database_and_reports_healthy()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("standalone_core");
        await using var core = new WebApplicationFactory<OpenNvr.Core.Infrastructure.NvrDbContext>()
            .WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:nvrdb", connectionString));

        await AssertHealthyAsync(core.CreateClient(), "NvrDbContext");
    }

    [Fact]
    public async Task Inference_migrates_an_empty_database_and_reports_healthy()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("standalone_inference");
        await using var inference = new WebApplicationFactory<OpenNvr.Inference.Infrastructure.InferenceDbContext>()
            .WithWebHostBuilder(host => host.UseSetting("ConnectionStrings:inferencedb", connectionString));

        await AssertHealthyAsync(inference.CreateClient(), "InferenceDbContext");
    }

    private static async Task AssertHealthyAsync(HttpClient client, string databaseCheck)
    {
        using var response = await client.GetAsync("/health");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var health = JsonDocument.Parse(body);
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal("healthy", health.RootElement.GetProperty("checks").GetProperty(databaseCheck).GetProperty("status").GetString());
    }
}
