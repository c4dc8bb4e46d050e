using Npgsql;
using OpenNvr.Storage;
using OpenNvr.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// Hosts that share nothing but PostgreSQL and the blob store: the real Core and two Recorder processes, each with a
/// data root of its own (chunk cache and frames), recording real RTSP cameras into Azurite. A Recorder killed with
/// SIGKILL whose data root is then deleted (the host is gone) loses no chunk it had registered: each one downloads
/// through Core and ffprobe decodes every frame, and its cameras move to the other Recorder.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class MultiHostTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_Recorder_killed_with_its_data_root_deleted_loses_no_registered_chunk_and_each_plays_through_Core()
    {
        var azurite = await AzuriteServer.SharedAsync();
        var blob = new Dictionary<string, string>
        {
            ["Storage:Provider"] = StorageProviders.AzureBlob,
            ["ConnectionStrings:recordings"] = azurite.ConnectionString,
            ["Storage:Container"] = "multi-" + Guid.NewGuid().ToString("N")[..12],
        };
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        // Short leases so that the dead Recorder's cameras move quickly; production uses 30 s.
        await using var core = await CoreServer.StartAsync(leaseSeconds: 6, extraSettings: blob);
        var roots = new Dictionary<string, string> { ["host-a"] = TestTemp.NewFolder("host-a"), ["host-b"] = TestTemp.NewFolder("host-b") };
        var recorders = new Dictionary<string, RecorderProcess>();
        try
        {
            foreach (var (id, root) in roots)
            {
                recorders[id] = await RecorderProcess.StartAsync(core, Path.Combine(root, "recordings"), id,
                    new Dictionary<string, string>(blob) { ["Frames:Root"] = Path.Combine(root, "frames") });
            }

            await Wait.UntilAsync(async () => await ScalarAsync<long>(core, "SELECT count(*) FROM recorders") == 2, TimeSpan.FromSeconds(60), "both Recorders to heartbeat");
            var cameras = new List<int>();
            for (var i = 0; i < 2; i++)
            {
                cameras.Add(await core.CreateCameraAsync($"multi-{i}", camera.Url("/cam")));
            }

            await Wait.UntilAsync(async () =>
            {
                foreach (var id in cameras)
                {
                    if ((await core.RowsAsync(id)).Count < 3)
                    {
                        return false;
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(180), "3 registered chunks of every camera", pollMs: 500);

            // The Recorder holding the first camera dies with its host: SIGKILL, then its data root is gone.
            var victim = await ScalarAsync<string>(core, "SELECT recorder_id FROM recorder_leases WHERE camera_id = $1", cameras[0]);
            var survivor = roots.Keys.Single(id => id != victim);
            var victimCameras = await CamerasOfAsync(core, victim);
            recorders[victim].KillHard();
            var killedAt = DateTimeOffset.UtcNow;
            await Wait.UntilAsync(() => recorders[victim].HasExited, TimeSpan.FromSeconds(10), "the Recorder to die");
            var registered = new List<(int Camera, IndexRow Row)>();
            foreach (var id in victimCameras)
            {
                registered.AddRange((await core.RowsAsync(id)).Select(row => (id, row)));
            }

            Directory.Delete(roots[victim], recursive: true);
            output.WriteLine($"{victim} held cameras {string.Join(", ", victimCameras)} with {registered.Count} registered chunks; {survivor} survives");

            // Its cameras move to the survivor within 30 s (6 s leases), and recording goes on there.
            await Wait.UntilAsync(async () => (await CamerasOfAsync(core, survivor)).Count == cameras.Count, TimeSpan.FromSeconds(30),
                "the survivor to hold every camera");
            output.WriteLine($"cameras moved {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s after the kill");

            // Every chunk the dead Recorder registered comes whole from Core, and every frame decodes.
            var downloads = TestTemp.NewFolder("multi-downloads");
            using var admin = await core.AdminAsync();
            foreach (var (id, row) in registered)
            {
                var file = Path.Combine(downloads, $"{id}-{row.Id}.mp4");
                using (var response = await admin.GetAsync($"/api/v1/recordings/{id}/{row.Id}/file", HttpCompletionOption.ResponseHeadersRead))
                {
                    Assert.True(response.IsSuccessStatusCode, $"{row.Path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    await using var target = File.Create(file);
                    await response.Content.CopyToAsync(target);
                }

                Assert.Equal(row.SizeBytes, new FileInfo(file).Length);
                var probe = await Ffprobe.ReadAllFramesAsync(file);
                Assert.True(probe.Errors.Length == 0, $"{row.Path}: {probe.Errors}");
                Assert.InRange(probe.Frames, (int)Math.Round(probe.DurationSeconds * 10) - 1, (int)Math.Round(probe.DurationSeconds * 10) + 1);
            }

            Assert.NotEmpty(registered);
        }
        finally
        {
            foreach (var recorder in recorders.Values)
            {
                await recorder.DisposeAsync();
            }
        }
    }

    private static async Task<List<int>> CamerasOfAsync(CoreServer core, string recorderId)
    {
        await using var connection = new NpgsqlConnection(core.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT camera_id FROM recorder_leases WHERE recorder_id = $1 AND expires_at > now() ORDER BY camera_id", connection)
        {
            Parameters = { new() { Value = recorderId } },
        };
        await using var reader = await command.ExecuteReaderAsync();
        var cameras = new List<int>();
        while (await reader.ReadAsync())
        {
            cameras.Add(reader.GetInt32(0));
        }

        return cameras;
    }

    private static async Task<T> ScalarAsync<T>(CoreServer core, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(core.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }
}
