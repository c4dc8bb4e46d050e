using System.Diagnostics;
using System.Text.Json;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Foundation;

/// <summary>The deployment manifest (what Azure Developer CLI reads to deploy to Azure Container Apps).</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class ManifestTests
{
    [Fact]
    public async Task Manifest_lists_every_resource_with_its_references()
    {
        var output = TestTemp.NewFilePath("manifest", ".json");
        try
        {
            await RunAppHostAsync("--publisher", "manifest", "--output-path", output);

            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output));
            var resources = manifest.RootElement.GetProperty("resources");
            foreach (var name in new[] { "postgres", "nvrdb", "inferencedb", "core", "inference", "recorder" })
            {
                Assert.True(resources.TryGetProperty(name, out _), $"manifest lacks resource '{name}'");
            }

            Assert.Contains("{nvrdb.connectionString}", Env(resources, "core", "ConnectionStrings__nvrdb"));
            Assert.Contains("{inferencedb.connectionString}", Env(resources, "inference", "ConnectionStrings__inferencedb"));
            Assert.Contains("{core.bindings.http.url}", Env(resources, "recorder", "services__core__http__0"));
            Assert.Contains("{inference.bindings.http.url}", Env(resources, "recorder", "services__inference__http__0"));
            Assert.Contains("{admin-password.value}", Env(resources, "core", "Auth__AdminPassword"));
            Assert.Contains("{jwt-signing-key.value}", Env(resources, "core", "Auth__JwtSigningKey"));
            Assert.Contains("{inference-api-key.value}", Env(resources, "inference", "Inference__ApiKey"));
            Assert.Contains("{hf-token.value}", Env(resources, "inference", "HuggingFace__Token"));
            Assert.True(resources.GetProperty("admin-password").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
            foreach (var service in new[] { "core", "inference", "recorder" })
            {
                Assert.Contains("{metrics-scrape-key.value}", Env(resources, service, "Metrics__ScrapeKey"));
            }

            Assert.True(resources.GetProperty("metrics-scrape-key").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static string Env(JsonElement resources, string resource, string variable) =>
        resources.GetProperty(resource).GetProperty("env").GetProperty(variable).GetString() ?? "";

    private static async Task RunAppHostAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])["run", "--no-build", "--project", "OpenNvr.AppHost", "--", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = await TestProcesses.StartAsync(start);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        Assert.True(process.ExitCode == 0, $"app host exited {process.ExitCode}: {await stdout}\n{await stderr}");
    }
}
