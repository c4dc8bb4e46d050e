using System.Security.Cryptography;
using OpenNvr.Storage;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// Recording into Azure Blob Storage (a real Azurite) from a real RTSP camera through the real Core: every chunk Core
/// lists is in the store and plays when downloaded through Core, local copies are only a cache, and a 60 s blob outage loses nothing.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class BlobRecordingTests
{
    [Fact]
    public async Task Every_indexed_chunk_is_in_the_store_when_Core_lists_it_and_plays_and_local_copies_are_evicted()
    {
        var azurite = await AzuriteServer.SharedAsync();
        var container = "rec-" + Guid.NewGuid().ToString("N")[..12];
        var store = Store(azurite, container);
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        // Core reads the same store (and nothing of the Recorder's folder): every chunk is downloaded through it.
        await using var core = await CoreServer.StartAsync(extraSettings: BlobSettings(azurite, container, []));
        var cameraId = await core.CreateCameraAsync("blob", camera.Url("/cam"));
        var recorder = RecorderInstance.Start(core, settings: BlobSettings(azurite, container, new() { ["Recorder:LocalCacheMaxBytes"] = "0" }));
        List<IndexRow> rows;
        try
        {
            await Wait.UntilAsync(async () =>
            {
                // The order that lets Core serve every chunk it lists: stored first, registered after.
                var seen = await core.RowsAsync(cameraId);
                foreach (var row in seen)
                {
                    Assert.True(await store.GetPropertiesAsync(row.Path) is not null, $"{row.Path} is indexed but not stored");
                }

                return seen.Count >= 5;
            }, TimeSpan.FromSeconds(120), "5 indexed chunks", pollMs: 500);
        }
        finally
        {
            await recorder.DisposeAsync();
        }

        rows = await core.RowsAsync(cameraId);
        foreach (var row in rows)
        {
            var stored = await store.GetPropertiesAsync(row.Path);
            Assert.Equal(row.SizeBytes, stored!.Size);
            var copy = await DownloadThroughCoreAsync(core, cameraId, row);
            Assert.Equal(stored.ContentMd5, MD5.HashData(await File.ReadAllBytesAsync(copy)));
            var probe = await Ffprobe.ReadAllFramesAsync(copy);
            Assert.True(probe.Errors.Length == 0, $"{row.Path}: {probe.Errors}");
            Assert.InRange(probe.Frames, (int)Math.Round(probe.DurationSeconds * 10) - 1, (int)Math.Round(probe.DurationSeconds * 10) + 1);
        }

        // With a cache of 0 bytes each uploaded copy goes at the next round: only the last one or two remain.
        var local = recorder.ChunkFiles(cameraId);
        Assert.All(local, path => Assert.Contains(path, rows.Select(r => r.Path)));
        Assert.InRange(local.Count, 0, 2);
    }

    [Fact]
    public async Task A_60_s_blob_outage_stops_no_recording_and_loses_no_chunk()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var container = "outage-" + Guid.NewGuid().ToString("N")[..12];
        var store = Store(azurite, container);
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync(extraSettings: BlobSettings(azurite, container, []));
        var cameraId = await core.CreateCameraAsync("outage", camera.Url("/cam"));
        var recorder = RecorderInstance.Start(core, settings: BlobSettings(azurite, container, new()
        {
            ["Storage:BlobMaxRetries"] = "0",
            ["Storage:BlobNetworkTimeoutSeconds"] = "5",
        }));
        try
        {
            await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= 2, TimeSpan.FromSeconds(90), "2 chunks before the outage");

            await azurite.StopAsync();
            var indexedAtOutage = (await core.RowsAsync(cameraId)).Count;
            var localAtOutage = recorder.ChunkFiles(cameraId).Count;
            // The outage itself: 60 s of scenario time, not a synchronisation.
            await Task.Delay(TimeSpan.FromSeconds(60));

            // Recording went on (4 s chunks: about 15 more) while nothing new reached the index (at most one in flight).
            var localAtReturn = recorder.ChunkFiles(cameraId);
            Assert.True(localAtReturn.Count >= localAtOutage + 10, $"{localAtReturn.Count - localAtOutage} chunks recorded during the outage");
            Assert.InRange((await core.RowsAsync(cameraId)).Count, indexedAtOutage, indexedAtOutage + 1);
            Assert.Equal("recording", (string?)(await core.CameraAsync(cameraId))["recording_state"]);

            await azurite.StartAgainAsync();
            var back = DateTimeOffset.UtcNow;
            await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= localAtReturn.Count,
                TimeSpan.FromSeconds(60), "the chunks of the outage to be uploaded and registered", pollMs: 500);
            Console.WriteLine($"Caught up {localAtReturn.Count - indexedAtOutage} chunks {(DateTimeOffset.UtcNow - back).TotalSeconds:F1} s after the store returned.");
        }
        finally
        {
            await recorder.DisposeAsync();
        }

        // Every chunk recorded is stored, indexed once, and the index has no hole across the outage.
        var rows = await core.RowsAsync(cameraId);
        var files = recorder.ChunkFiles(cameraId);
        Assert.Equal(files, rows.Select(r => r.Path).Order(StringComparer.Ordinal).ToList());
        for (var i = 0; i < rows.Count; i++)
        {
            var stored = await store.GetPropertiesAsync(rows[i].Path);
            Assert.True(stored is not null, $"{rows[i].Path} is indexed but not stored");
            Assert.Equal(MD5.HashData(await File.ReadAllBytesAsync(Path.Combine(recorder.RecordingsRoot, rows[i].Path))), stored.ContentMd5);
            if (i > 0)
            {
                Assert.InRange(rows[i].StartUnix - rows[i - 1].EndUnix, -0.05, 1.0);
            }
        }
    }

    private static IRecordingStore Store(AzuriteServer azurite, string container) => StorageServiceCollectionExtensions.Create(new StorageOptions
    {
        Provider = StorageProviders.AzureBlob,
        ConnectionString = azurite.ConnectionString,
        Container = container,
    });

    private static Dictionary<string, string> BlobSettings(AzuriteServer azurite, string container, Dictionary<string, string> more)
    {
        more["Storage:Provider"] = StorageProviders.AzureBlob;
        more["ConnectionStrings:recordings"] = azurite.ConnectionString;
        more["Storage:Container"] = container;
        return more;
    }

    /// <summary>The chunk as a player gets it: Core's file route, which reads the blob store.</summary>
    private static async Task<string> DownloadThroughCoreAsync(CoreServer core, int cameraId, IndexRow row)
    {
        var file = Path.Combine(TestTemp.NewFolder("blob-download"), Path.GetFileName(row.Path));
        using var admin = await core.AdminAsync();
        using var response = await admin.GetAsync($"/api/v1/recordings/{cameraId}/{row.Id}/file", HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode, $"{row.Path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await using (var target = File.Create(file))
        {
            await response.Content.CopyToAsync(target);
        }

        return file;
    }
}
