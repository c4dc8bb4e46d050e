using Microsoft.AspNetCore.Builder;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Npgsql;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Storage;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Pipeline;

/// <summary>
/// The AI pipeline across hosts that share no folder: two Recorder processes (each its own data root and frames) and
/// two Inference replicas on Kestrel (no frames folder at all), the Recorders calling Inference by service discovery
/// over both replicas, each replica reading a camera's frames from the Recorder that holds it (asked of Core). Over two
/// minutes of real analysis no /infer request is answered 404 (frame not found), and both replicas answered.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class MultiReplicaPipelineTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_Recorders_and_two_Inference_replicas_analyse_for_two_minutes_without_a_frame_not_found()
    {
        var azurite = await AzuriteServer.SharedAsync();
        var blob = new Dictionary<string, string>
        {
            ["Storage:Provider"] = StorageProviders.AzureBlob,
            ["ConnectionStrings:recordings"] = azurite.ConnectionString,
            ["Storage:Container"] = "pipe-" + Guid.NewGuid().ToString("N")[..12],
        };
        var inferenceDb = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("multi_inference");
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        var ports = new[] { FreePort.Tcp(), FreePort.Tcp() };
        // Each service holds only the keys of its pairs: Core–Inference (Core's CoreServer default), Recorder–Inference.
        await using var core = await CoreServer.StartAsync(extraSettings: new Dictionary<string, string>(blob)
        {
            ["services:inference:http:0"] = $"http://127.0.0.1:{ports[0]}",
        });

        var replicas = new List<(WebApplicationFactory<InferenceDbContext> Factory, MetricCollector<double> Requests)>();
        var recorders = new List<RecorderProcess>();
        try
        {
            foreach (var port in ports)
            {
                var factory = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
                {
                    host.UseSetting("ConnectionStrings:inferencedb", inferenceDb);
                    host.UseSetting("Models:Root", RepositoryPaths.Models());
                    host.UseSetting(ServiceKeys.RecorderInference, CoreFixture.RecorderInferenceKey);
                    host.UseSetting(ServiceKeys.CoreInference, CoreFixture.CoreInferenceKey);
                    host.UseSetting("services:core:http:0", core.BaseUrl);
                    host.UseSetting("Logging:LogLevel:Default", "Warning");
                });
                factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
                factory.StartServer();
                // Every answered request of this replica, with its route and status (ASP.NET Core's own metric).
                replicas.Add((factory, new MetricCollector<double>(factory.Services.GetRequiredService<IMeterFactory>(), "Microsoft.AspNetCore.Hosting", "http.server.request.duration")));
            }

            foreach (var id in new[] { "pipe-a", "pipe-b" })
            {
                var root = TestTemp.NewFolder(id);
                recorders.Add(await RecorderProcess.StartAsync(core, Path.Combine(root, "recordings"), id, new Dictionary<string, string>(blob)
                {
                    ["Frames:Root"] = Path.Combine(root, "frames"),
                    ["services:inference:http:0"] = $"http://127.0.0.1:{ports[0]}",
                    ["services:inference:http:1"] = $"http://127.0.0.1:{ports[1]}",
                    [ServiceKeys.RecorderInference] = CoreFixture.RecorderInferenceKey,
                    ["Recorder:FrameRate"] = "2",
                }));
            }

            await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 2, TimeSpan.FromSeconds(60), "both Recorders to heartbeat");
            var policy = new { task = "person_counting", interval_ms = 1000, min_confidence = 0.35, motion_gating = false };
            var cameras = new List<int>();
            for (var i = 0; i < 2; i++)
            {
                cameras.Add(await core.CreateCameraAsync($"pipe-{i}", camera.Url("/cam"), new { ai_policies = new[] { policy } }));
            }

            // Analysis runs on both cameras before the two minutes are counted.
            await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(DISTINCT camera_id) FROM events") == 2, TimeSpan.FromSeconds(120),
                "events of both cameras", pollMs: 500);
            var holders = await CountAsync(core, "SELECT count(DISTINCT recorder_id) FROM recorder_leases");
            var before = replicas.Select(r => Infer(r.Requests)).ToList();
            // The scenario: two minutes of analysis (a duration under test, not a synchronisation).
            await Task.Delay(TimeSpan.FromMinutes(2));
            var after = replicas.Select(r => Infer(r.Requests)).ToList();

            var answered = after.Select((a, i) => a.Total - before[i].Total).ToList();
            var notFound = after.Select((a, i) => a.NotFound - before[i].NotFound).ToList();
            output.WriteLine($"cameras held by {holders} Recorder(s); /infer answered per replica: {string.Join(", ", answered)}; 404s: {string.Join(", ", notFound)}");
            Assert.Equal([0L, 0L], notFound);
            // Both replicas took part (the Recorders spread their calls over them), whatever the machine's load.
            Assert.All(answered, n => Assert.True(n >= 1, $"a replica answered no /infer request in two minutes ({string.Join(", ", answered)})"));
        }
        finally
        {
            foreach (var recorder in recorders)
            {
                await recorder.DisposeAsync();
            }

            foreach (var (factory, requests) in replicas)
            {
                requests.Dispose();
                await factory.DisposeAsync();
            }
        }
    }

    /// <summary>/infer requests answered so far, and those answered 404.</summary>
    private static (long Total, long NotFound) Infer(MetricCollector<double> requests)
    {
        var infer = requests.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue("http.route", out var route) && (string?)route == "/infer").ToList();
        return (infer.Count, infer.LongCount(m => m.Tags.TryGetValue("http.response.status_code", out var status) && Convert.ToInt32(status, System.Globalization.CultureInfo.InvariantCulture) == 404));
    }

    private static async Task<long> CountAsync(CoreServer core, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(core.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }
}
