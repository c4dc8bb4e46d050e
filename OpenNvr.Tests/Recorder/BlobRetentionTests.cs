using System.Net;
using System.Net.Http.Json;
using OpenNvr.Storage;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// Retention with the recordings in Azure Blob Storage (a real Azurite): the Recorder deletes the stored objects, not
/// only a local copy, then the index rows; Core then answers 404 for a deleted chunk and still serves the kept ones.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class BlobRetentionTests
{
    [Fact]
    public async Task Quota_retention_deletes_the_oldest_chunks_from_the_blob_store_and_keeps_evidence()
    {
        var azurite = await AzuriteServer.SharedAsync();
        var blob = new Dictionary<string, string>
        {
            ["Storage:Provider"] = StorageProviders.AzureBlob,
            ["ConnectionStrings:recordings"] = azurite.ConnectionString,
            ["Storage:Container"] = "retention-" + Guid.NewGuid().ToString("N")[..12],
        };
        var store = StorageServiceCollectionExtensions.Create(new StorageOptions
        {
            Provider = StorageProviders.AzureBlob, ConnectionString = azurite.ConnectionString, Container = blob["Storage:Container"],
        });
        var sample = Path.Combine(TestTemp.NewFolder("blob-retention"), "chunk.mp4");
        var (exitCode, _, errors) = await TestProcesses.RunAsync("ffmpeg", "-v", "error", "-i", RepositoryPaths.TestData("video", "vtest.mp4"),
            "-t", "4", "-c", "copy", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", sample);
        Assert.True(exitCode == 0, errors);
        var size = new FileInfo(sample).Length;

        await using var core = await CoreServer.StartAsync(leaseSeconds: 3, extraSettings: blob);
        await using var recorder = RecorderInstance.Start(core, settings: blob);
        // An unreachable stream: only retention is under test.
        var camera = await core.CreateCameraAsync($"blob-retention-{Guid.NewGuid():N}"[..24], "rtsp://127.0.0.1:9/none", new { storage_quota_bytes = size * 5 / 2 });
        await Wait.UntilAsync(() => recorder.Coordinator.Cameras.Any(c => c.Id == camera), TimeSpan.FromSeconds(20), "the camera's lease");

        // Five stored and registered chunks (as the Recorder stores them: uploaded, then registered).
        var now = Math.Round(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        var paths = new List<string>();
        using (var http = core.Internal())
        {
            for (var i = 0; i < 5; i++)
            {
                var start = now - 600 + i * 10;
                var at = DateTimeOffset.FromUnixTimeMilliseconds((long)(start * 1000)).UtcDateTime;
                var path = $"{camera}/{at:yyyy-MM-dd}/{at:HH}/{at:mm-ss}.mp4";
                await store.UploadFileAsync(path, sample);
                using var response = await http.PostAsJsonAsync("/api/v1/internal/recordings", new
                {
                    recordings = new[] { new { camera_id = camera, path, start_unix = start, end_unix = start + 4, size_bytes = size } },
                });
                await HttpAssert.OkJsonAsync(response);
                paths.Add(path);
            }
        }

        var rows = await core.RowsAsync(camera);
        await core.FlagEvidenceAsync(camera, rows.Single(r => r.Path == paths[0]).Id);

        var result = await recorder.Retention.RunPassAsync(CancellationToken.None);

        // 5 chunks over a 2.5-chunk quota: the three oldest that are not evidence go, from the store and the index.
        Assert.Equal(3, result.Quota);
        Assert.Equal([paths[0], paths[4]], (await core.RowsAsync(camera)).Select(r => r.Path));
        var stored = new List<string>();
        await foreach (var item in store.ListAsync($"{camera}/"))
        {
            stored.Add(item.Key);
        }

        Assert.Equal(new[] { paths[0], paths[4] }.Order(StringComparer.Ordinal), stored);
        using var admin = await core.AdminAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/recordings/{camera}/{rows.Single(r => r.Path == paths[1]).Id}/file")).StatusCode);
        using var kept = await admin.GetAsync($"/api/v1/recordings/{camera}/{rows.Single(r => r.Path == paths[4]).Id}/file");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        Assert.Equal(size, (await kept.Content.ReadAsByteArrayAsync()).Length);
        await core.UpdateCameraAsync(camera, new { is_active = false });
    }
}
