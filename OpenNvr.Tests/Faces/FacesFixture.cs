using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenCvSharp;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// The Inference service in-process over a real PostgreSQL database and the bundled face models, with a frames root
/// holding the real test images: cameras <c>faces</c> (testdata/faces), <c>pascal</c>, <c>persons</c>,
/// <c>negative</c>, and <c>bald</c>: the 24 photos of <see cref="BaldGuys"/> cut out of the collage with OpenCvSharp.
/// <see cref="StartInstanceAsync"/> starts further replicas over the same database.
/// </summary>
public class FacesFixture : IAsyncLifetime
{
    private readonly List<WebApplicationFactory<InferenceDbContext>> _instances = [];

    public string FramesRoot { get; } = TestTemp.NewFolder("faces");

    public string ConnectionString { get; private set; } = null!;

    public WebApplicationFactory<InferenceDbContext> Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        CopyFolder(RepositoryPaths.TestData("faces"), Path.Combine(FramesRoot, "faces"));
        CopyFolder(RepositoryPaths.TestData("faces", "pascal"), Path.Combine(FramesRoot, "pascal"));
        CopyFolder(RepositoryPaths.TestData("persons"), Path.Combine(FramesRoot, "persons"));
        CopyFolder(RepositoryPaths.TestData("negative"), Path.Combine(FramesRoot, "negative"));
        BaldGuys.WriteCrops(RepositoryPaths.TestData("faces", "bald_guys.jpg"), Path.Combine(FramesRoot, "bald"));
        ConnectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("faces");
        Factory = StartInstance();
        Client = Factory.CreateClient();
    }

    /// <summary>Another replica over the same database and frames (disposed with the fixture unless disposed earlier).</summary>
    public WebApplicationFactory<InferenceDbContext> StartInstance(params (string Key, string? Value)[] settings)
    {
        var factory = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:inferencedb", ConnectionString);
            host.UseSetting("Frames:Root", FramesRoot);
            host.UseSetting("Models:Root", RepositoryPaths.Models());
            foreach (var (key, value) in settings)
            {
                host.UseSetting(key, value);
            }
        });
        _instances.Add(factory);
        return factory;
    }

    public virtual async Task DisposeAsync()
    {
        Client?.Dispose();
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        TestTemp.TryDelete(FramesRoot);
    }

    public static object Frame(string camera, string file) => new { uri = $"opennvr://frames/{camera}/{file}" };

    /// <summary>POSTs /infer with <paramref name="input"/>, asserts success and returns the JSON response.</summary>
    public static async Task<JsonElement> InferAsync(HttpClient client, string task, object input)
    {
        using var response = await client.PostAsJsonAsync("/infer", new { task, input });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{task}: {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public Task<JsonElement> InferAsync(string task, object input) => InferAsync(Client, task, input);

    /// <summary>POSTs /faces/register and returns the status and JSON body.</summary>
    public static async Task<(int Status, JsonElement Body)> RegisterAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/faces/register", body);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
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
