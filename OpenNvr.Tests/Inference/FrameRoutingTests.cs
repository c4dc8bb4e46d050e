using Microsoft.AspNetCore.Builder;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Web;

namespace OpenNvr.Tests.Inference;

/// <summary>
/// With several Recorders, Inference reads a camera's frames from the one that holds the camera's lease, asked of the
/// real Core, never by service discovery's round robin: two Recorders' frame routes (each publishing only its own
/// cameras, behind the internal key) and a real Inference on real models whose <c>services:recorder</c> names only
/// one of them. Every frame request reaches the right Recorder; a moved lease costs one 404 and is followed.
/// </summary>
public sealed class FrameRoutingTests
{
    [Fact]
    public async Task Each_frame_request_goes_to_the_Recorder_that_holds_the_camera_and_follows_a_moved_lease()
    {
        var face = await File.ReadAllBytesAsync(RepositoryPaths.TestData("faces", "grace_hopper_512x512.jpg"));
        var dogs = await File.ReadAllBytesAsync(RepositoryPaths.TestData("negative", "dogs.jpg"));
        await using var core = await CoreServer.StartAsync(leaseSeconds: 600);
        var cameraA = await core.CreateCameraAsync("route-a", "rtsp://cam-a.local/stream");
        var cameraB = await core.CreateCameraAsync("route-b", "rtsp://cam-b.local/stream");
        var unheld = await core.CreateCameraAsync("route-none", "rtsp://cam-c.local/stream");
        var framesA = new Dictionary<string, byte[][]> { [cameraA.ToString()] = [face] };
        var framesB = new Dictionary<string, byte[][]> { [cameraB.ToString()] = [dogs] };
        await using var recorderA = await FrameServer.StartAsync(CoreFixture.RecorderInferenceKey, framesA, TimeSpan.FromHours(1));
        await using var recorderB = await FrameServer.StartAsync(CoreFixture.RecorderInferenceKey, framesB, TimeSpan.FromHours(1));
        using (var internalClient = core.Internal())
        {
            foreach (var (id, url) in new[] { ("rec-a", recorderA.BaseUrl), ("rec-b", recorderB.BaseUrl) })
            {
                using var beat = await internalClient.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat", new { recorder_id = id, base_url = url, max_cameras = 10 });
                await HttpAssert.OkJsonAsync(beat);
            }
        }

        // The split a balancer makes (set here, so that the test does not depend on the balancing rule).
        await SetLeasesAsync(core, (cameraA, "rec-a"), (cameraB, "rec-b"));
        await SetLeasesAsync(core, (unheld, null));

        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("routing");
        await using var inference = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:inferencedb", database);
            host.UseSetting("Models:Root", RepositoryPaths.Models());
            // Inference's two keys: the Recorders' frame routes take one, Core's holder route the other.
            host.UseSetting(ServiceKeys.RecorderInference, CoreFixture.RecorderInferenceKey);
            host.UseSetting(ServiceKeys.CoreInference, CoreFixture.CoreInferenceKey);
            host.UseSetting("services:core:http:0", core.BaseUrl);
            // Service discovery knows one Recorder: right for camera A, wrong for camera B.
            host.UseSetting("services:recorder:http:0", recorderA.BaseUrl);
        });
        using var client = inference.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", CoreFixture.RecorderInferenceKey);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1, await FaceCountAsync(client, cameraA));
            Assert.Equal(0, await FaceCountAsync(client, cameraB));
        }

        Assert.Equal((5L, 0L), (recorderA.Served, recorderA.NotFound));
        Assert.Equal((5L, 0L), (recorderB.Served, recorderB.NotFound));

        // Camera B moves to Recorder A (a hand-off): the remembered holder answers 404 once, Core is asked again.
        framesA[cameraB.ToString()] = [dogs];
        framesB.Remove(cameraB.ToString());
        await SetLeasesAsync(core, (cameraB, "rec-a"));
        Assert.Equal(0, await FaceCountAsync(client, cameraB));
        Assert.Equal(0, await FaceCountAsync(client, cameraB));
        Assert.Equal((7L, 0L), (recorderA.Served, recorderA.NotFound));
        Assert.Equal((5L, 1L), (recorderB.Served, recorderB.NotFound));

        // A camera no Recorder holds: a 404 problem that says so, and no Recorder is asked.
        using var none = await client.PostAsJsonAsync("/infer", Request(unheld));
        var problem = await none.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains($"no Recorder holds camera {unheld}", problem.GetProperty("detail").GetString());
        Assert.Equal(1L, recorderA.NotFound + recorderB.NotFound);
        Assert.Equal(0, recorderA.Unauthorized + recorderB.Unauthorized);
    }

    private static object Request(int camera) => new { task = "face_detection", input = new { frame = new { uri = $"opennvr://frames/{camera}/latest.jpg" } } };

    private static async Task<int> FaceCountAsync(HttpClient client, int camera)
    {
        using var response = await client.PostAsJsonAsync("/infer", Request(camera));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"camera {camera}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("face_count").GetInt32();
    }

    /// <summary>Sets (or, with a null holder, removes) camera leases in Core's table, valid for ten minutes.</summary>
    private static async Task SetLeasesAsync(CoreServer core, params (int Camera, string? Recorder)[] leases)
    {
        await using var connection = new NpgsqlConnection(core.ConnectionString);
        await connection.OpenAsync();
        foreach (var (camera, recorder) in leases)
        {
            await using var command = recorder is null
                ? new NpgsqlCommand("DELETE FROM recorder_leases WHERE camera_id = $1", connection) { Parameters = { new() { Value = camera } } }
                : new NpgsqlCommand(
                    "INSERT INTO recorder_leases (camera_id, recorder_id, expires_at) VALUES ($1, $2, now() + interval '10 minutes') " +
                    "ON CONFLICT (camera_id) DO UPDATE SET recorder_id = excluded.recorder_id, expires_at = excluded.expires_at", connection)
                {
                    Parameters = { new() { Value = camera }, new() { Value = recorder } },
                };
            await command.ExecuteNonQueryAsync();
        }
    }
}
