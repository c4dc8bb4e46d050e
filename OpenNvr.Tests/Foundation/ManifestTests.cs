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

            // One key per pair of services, and each service gets only the keys of the pairs it belongs to.
            var keys = new Dictionary<string, (string Parameter, string[] Holders)>
            {
                ["ServiceKeys__RecorderCore"] = ("recorder-core-key", ["core", "recorder"]),
                ["ServiceKeys__RecorderInference"] = ("recorder-inference-key", ["recorder", "inference"]),
                ["ServiceKeys__CoreInference"] = ("core-inference-key", ["core", "inference"]),
            };
            foreach (var (variable, (parameter, holders)) in keys)
            {
                Assert.True(resources.GetProperty(parameter).GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
                foreach (var service in new[] { "core", "inference", "recorder" })
                {
                    var env = resources.GetProperty(service).GetProperty("env");
                    if (holders.Contains(service))
                    {
                        Assert.Equal($"{{{parameter}.value}}", Env(resources, service, variable));
                    }
                    else
                    {
                        Assert.False(env.TryGetProperty(variable, out _), $"{service} must not hold {parameter}");
                    }
                }
            }

            Assert.False(resources.TryGetProperty("internal-api-key", out _), "the shared internal-api-key is gone");
            foreach (var service in new[] { "core", "recorder" })
            {
                Assert.False(resources.GetProperty(service).GetProperty("env").TryGetProperty("Inference__ApiKey", out _),
                    $"{service} must not hold Inference's external clients' key");
            }
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

    [Fact]
    public async Task With_blob_storage_the_recordings_store_is_a_connection_string_parameter_and_no_folder()
    {
        var output = Path.Combine(Path.GetTempPath(), $"opennvr-manifest-{Guid.NewGuid():N}.json");
        try
        {
            await RunAppHostAsync("--publisher", "manifest", "--output-path", output, "Storage:Provider=azureblob");

            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output));
            var resources = manifest.RootElement.GetProperty("resources");
            var recordings = resources.GetProperty("recordings");
            Assert.Equal("parameter.v0", recordings.GetProperty("type").GetString());
            Assert.Equal("{recordings.value}", recordings.GetProperty("connectionString").GetString());
            Assert.True(recordings.GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
            foreach (var service in new[] { "core", "recorder" })
            {
                Assert.Equal("azureblob", Env(resources, service, "Storage__Provider"));
                Assert.Equal("{recordings.connectionString}", Env(resources, service, "ConnectionStrings__recordings"));
                Assert.False(resources.GetProperty(service).GetProperty("env").TryGetProperty("Storage__Root", out _), $"{service} gets a store folder");
            }

            Assert.False(resources.TryGetProperty("azurite", out _), "a deployment has no Azurite");
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
