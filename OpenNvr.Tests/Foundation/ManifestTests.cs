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

            AssertServiceKeys(resources, core: ["core"], inference: ["inference"], recorder: ["recorder"]);
            Assert.True(resources.GetProperty("admin-password").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
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

    [Fact]
    public async Task The_distributed_topology_gives_no_two_services_a_common_path_and_keeps_recordings_behind_a_connection_string_parameter()
    {
        var output = TestTemp.NewFilePath("manifest-distributed", ".json");
        try
        {
            await RunAppHostAsync("--publisher", "manifest", "--output-path", output, "OpenNvr:Topology=distributed");

            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output));
            var resources = manifest.RootElement.GetProperty("resources");
            var services = new[] { "core", "inference", "recorder-1", "recorder-2" };
            foreach (var name in services.Append("postgres").Append("recordings"))
            {
                Assert.True(resources.TryGetProperty(name, out _), $"manifest lacks resource '{name}'");
            }

            Assert.False(resources.TryGetProperty("recorder", out _), "the single-host recorder is in the distributed topology");
            Assert.False(resources.TryGetProperty("azurite", out _), "a deployment has no Azurite");
            Assert.Equal("parameter.v0", resources.GetProperty("recordings").GetProperty("type").GetString());
            Assert.Equal("{recordings.value}", resources.GetProperty("recordings").GetProperty("connectionString").GetString());

            // Every path-valued setting belongs to one service only.
            var owners = new Dictionary<string, List<string>>();
            foreach (var service in services)
            {
                foreach (var variable in resources.GetProperty(service).GetProperty("env").EnumerateObject())
                {
                    if (variable.Value.GetString() is { } value && Path.IsPathFullyQualified(value))
                    {
                        (owners.TryGetValue(value, out var list) ? list : owners[value] = []).Add($"{service}:{variable.Name}");
                    }
                }
            }

            var shared = owners.Where(o => o.Value.Select(v => v.Split(':')[0]).Distinct().Count() > 1).Select(o => $"{o.Key} ({string.Join(", ", o.Value)})").ToList();
            Assert.True(shared.Count == 0, "paths given to several services: " + string.Join("; ", shared));
            Assert.Equal(2, owners.Keys.Count(path => path.EndsWith("recordings", StringComparison.Ordinal)));

            foreach (var service in new[] { "core", "recorder-1", "recorder-2" })
            {
                Assert.Equal("azureblob", Env(resources, service, "Storage__Provider"));
                Assert.Equal("{recordings.connectionString}", Env(resources, service, "ConnectionStrings__recordings"));
            }

            foreach (var variable in new[] { "Storage__Root", "Frames__Root", "Recorder__RecordingsRoot" })
            {
                Assert.False(resources.GetProperty("core").GetProperty("env").TryGetProperty(variable, out _), $"core gets {variable}");
                Assert.False(resources.GetProperty("inference").GetProperty("env").TryGetProperty(variable, out _), $"inference gets {variable}");
            }

            // Inference finds a camera's Recorder through Core; each Recorder announces its own address.
            Assert.Contains("{core.bindings.http.url}", Env(resources, "inference", "services__core__http__0"));
            Assert.Equal("recorder-1", Env(resources, "recorder-1", "Recorder__RecorderId"));
            Assert.Contains("{recorder-2.bindings.http.url}", Env(resources, "recorder-2", "Recorder__BaseUrl"));

            // The same keys as the single topology: each service only its pairs' keys, every one the scrape key.
            AssertServiceKeys(resources, core: ["core"], inference: ["inference"], recorder: ["recorder-1", "recorder-2"]);
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>
    /// One key per pair of services, each service holding only the keys of the pairs it belongs to, no shared
    /// internal-api-key, Inference's external clients' key on Inference alone, the metrics scrape key on every service.
    /// </summary>
    private static void AssertServiceKeys(JsonElement resources, string[] core, string[] inference, string[] recorder)
    {
        var keys = new Dictionary<string, (string Parameter, string[][] Holders)>
        {
            ["ServiceKeys__RecorderCore"] = ("recorder-core-key", [core, recorder]),
            ["ServiceKeys__RecorderInference"] = ("recorder-inference-key", [recorder, inference]),
            ["ServiceKeys__CoreInference"] = ("core-inference-key", [core, inference]),
        };
        string[] all = [.. core, .. inference, .. recorder];
        foreach (var (variable, (parameter, holders)) in keys)
        {
            Assert.True(resources.GetProperty(parameter).GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
            foreach (var service in all)
            {
                var env = resources.GetProperty(service).GetProperty("env");
                if (holders.Any(h => h.Contains(service)))
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
        foreach (var service in all)
        {
            var env = resources.GetProperty(service).GetProperty("env");
            Assert.False(env.TryGetProperty("Internal__ApiKey", out _), $"{service} holds the old shared key");
            Assert.Equal(inference.Contains(service), env.TryGetProperty("Inference__ApiKey", out _));
            Assert.Contains("{metrics-scrape-key.value}", Env(resources, service, "Metrics__ScrapeKey"));
        }

        Assert.True(resources.GetProperty("metrics-scrape-key").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
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
