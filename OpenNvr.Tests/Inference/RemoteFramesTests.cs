using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>
/// Inference with an empty local frames root and a stand-in for the Recorder's <c>GET /frames/{camera}/{file}</c>
/// route on real Kestrel (127.0.0.1), found through service discovery (<c>services:recorder:http:0</c>).
/// </summary>
public sealed class RemoteFramesFixture : InferenceServiceFixture
{
    public const string InternalKey = "internal-key-for-frames";

    private WebApplication? _recorder;

    public ConcurrentQueue<(string Path, string? InternalKey)> RecorderRequests { get; } = new();

    public string RecorderUrl { get; private set; } = "";

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("services:recorder:http:0", RecorderUrl), new(ServiceKeys.RecorderInference, InternalKey)];

    public override async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        _recorder = builder.Build();
        _recorder.MapGet("/frames/{camera}/{file}", (string camera, string file, HttpContext http) =>
        {
            RecorderRequests.Enqueue((http.Request.Path, http.Request.Headers["X-Internal-Key"].ToString()));
            return (camera, file) switch
            {
                ("broken", _) => Results.StatusCode(500),
                ("text", _) => Results.Text("not an image", "image/jpeg"),
                _ when File.Exists(RepositoryPaths.TestData(camera, file)) => Results.File(RepositoryPaths.TestData(camera, file), "image/jpeg"),
                _ => Results.NotFound(),
            };
        });
        await _recorder.StartAsync();
        RecorderUrl = _recorder.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        await base.InitializeAsync();
        // The Recorder–Inference key is also what the Recorder presents to Inference: Inference holding it is closed to others.
        Client.DefaultRequestHeaders.Add(SharedKeyClientExtensions.InferenceKeyHeader, InternalKey);
        // The local root holds nothing but one camera, to show that local frames are preferred.
        foreach (var camera in Directory.GetDirectories(FramesRoot))
        {
            Directory.Delete(camera, recursive: true);
        }

        Directory.CreateDirectory(Path.Combine(FramesRoot, "local"));
        File.Copy(RepositoryPaths.TestData("persons", "astronaut.jpg"), Path.Combine(FramesRoot, "local", "astronaut.jpg"));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_recorder is not null)
        {
            await _recorder.DisposeAsync();
        }
    }
}

public sealed class RemoteFramesTests(RemoteFramesFixture fixture) : IClassFixture<RemoteFramesFixture>
{
    [Fact]
    public async Task A_frame_that_is_not_local_is_fetched_from_the_recorder()
    {
        var result = await fixture.InferAsync("person_counting", "opennvr://frames/persons/vtest_0200.jpg");

        Assert.InRange(result.GetProperty("count").GetInt32(), 6, 8);
        Assert.Contains(fixture.RecorderRequests, r => r.Path == "/frames/persons/vtest_0200.jpg" && r.InternalKey == RemoteFramesFixture.InternalKey);
    }

    [Fact]
    public async Task A_local_frame_is_read_from_disk_without_asking_the_recorder()
    {
        var result = await fixture.InferAsync("person_counting", "opennvr://frames/local/astronaut.jpg");

        Assert.Equal(1, result.GetProperty("count").GetInt32());
        Assert.DoesNotContain(fixture.RecorderRequests, r => r.Path.StartsWith("/frames/local/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_frame_the_recorder_does_not_have_is_404()
    {
        await InferErrorTests.AssertProblemAsync(await InferAsync(fixture.Client, "opennvr://frames/persons/missing.jpg"),
            HttpStatusCode.NotFound, "neither under Frames:Root nor on the Recorder");
    }

    [Fact]
    public async Task A_failing_recorder_is_502()
    {
        await InferErrorTests.AssertProblemAsync(await InferAsync(fixture.Client, "opennvr://frames/broken/latest.jpg"),
            HttpStatusCode.BadGateway, "The Recorder answered 500");
    }

    [Fact]
    public async Task Non_image_bytes_from_the_recorder_are_415()
    {
        await InferErrorTests.AssertProblemAsync(await InferAsync(fixture.Client, "opennvr://frames/text/latest.jpg"),
            HttpStatusCode.UnsupportedMediaType, "not a JPEG or PNG");
    }

    [Fact]
    public async Task An_unreachable_recorder_is_a_prompt_502()
    {
        // A port that was just free: nothing listens there.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var inference = fixture.Factory.WithWebHostBuilder(host => host.UseSetting("services:recorder:http:0", $"http://127.0.0.1:{port}"));
        using var client = inference.CreateClient();
        client.DefaultRequestHeaders.Add(SharedKeyClientExtensions.InferenceKeyHeader, RemoteFramesFixture.InternalKey);

        var stopwatch = Stopwatch.StartNew();
        await InferErrorTests.AssertProblemAsync(await InferAsync(client, "opennvr://frames/persons/vtest_0000.jpg"),
            HttpStatusCode.BadGateway, "the Recorder could not be reached");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(15), $"took {stopwatch.Elapsed}");
    }

    private static Task<HttpResponseMessage> InferAsync(HttpClient client, string uri) =>
        client.PostAsJsonAsync("/infer", InferenceServiceFixture.InferBody("person_counting", uri));
}
