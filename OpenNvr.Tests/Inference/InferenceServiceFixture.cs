using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>
/// The Inference service hosted in-process over a real PostgreSQL database, the bundled models and a frames root
/// holding copies of the real test images: camera <c>persons</c> (testdata/persons) and camera <c>negative</c>
/// (testdata/negative), and <c>camera_0/latest.jpg</c> (a copy of persons/vtest_0200.jpg: 7 people) where the
/// Recorder publishes camera 0's frames.
/// </summary>
public class InferenceServiceFixture : IAsyncLifetime
{
    public string FramesRoot { get; } = TestTemp.NewFolder("frames");

    public WebApplicationFactory<InferenceDbContext> Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>Extra settings of a derived fixture (API key, detector, limits...).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings => [];

    /// <summary>Further host configuration of a derived fixture (logging providers...).</summary>
    protected virtual void ConfigureHost(IWebHostBuilder host)
    {
    }

    public virtual async Task InitializeAsync()
    {
        CopyFolder(RepositoryPaths.TestData("persons"), Path.Combine(FramesRoot, "persons"));
        CopyFolder(RepositoryPaths.TestData("negative"), Path.Combine(FramesRoot, "negative"));
        // Camera 0 as the Recorder publishes it (the original OpenNVR's layout), for the reference's own examples.
        Directory.CreateDirectory(Path.Combine(FramesRoot, "camera_0"));
        File.Copy(RepositoryPaths.TestData("persons", "vtest_0200.jpg"), Path.Combine(FramesRoot, "camera_0", "latest.jpg"));
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("inference");
        Factory = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:inferencedb", connectionString);
            host.UseSetting("Frames:Root", FramesRoot);
            host.UseSetting("Models:Root", RepositoryPaths.Models());
            foreach (var (key, value) in Settings)
            {
                host.UseSetting(key, value);
            }

            ConfigureHost(host);
        });
        Client = Factory.CreateClient();
    }

    public virtual async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Factory is not null)
        {
            await Factory.DisposeAsync();
        }

        TestTemp.TryDelete(FramesRoot);
    }

    public static object InferBody(string task, string uri) => new { task, input = new { frame = new { uri } } };

    /// <summary>POSTs /infer, asserts success and returns the JSON response.</summary>
    public async Task<JsonElement> InferAsync(string task, string uri)
    {
        using var response = await Client.PostAsJsonAsync("/infer", InferBody(task, uri));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
