using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using OpenNvr.Storage;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Core;

/// <summary>
/// Core serves chunks, HLS playlists and event snapshots from the recording store, whichever backend holds it: the
/// same tests against a filesystem store and against Azure Blob Storage (a real Azurite). Media is put into the store
/// as a Recorder does (a verified upload) and registered through the internal API; Core never sees the file it came
/// from.
/// </summary>
public abstract class StoredMediaTests<TFixture>(TFixture core) : IClassFixture<TFixture>
    where TFixture : CoreFixture, IStoredMediaFixture
{
    private const double T0 = 1_795_784_700;

    protected TFixture Core => core;

    [Fact]
    public async Task A_chunk_is_served_from_the_store_whole_and_by_every_kind_of_range()
    {
        var source = RepositoryPaths.TestData("video", "vtest.mp4");
        var (camera, url) = await StoredChunkAsync(source);
        var expected = await File.ReadAllBytesAsync(source);
        using var admin = await core.AdminAsync();

        using var whole = await admin.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("video/mp4", whole.Content.Headers.ContentType?.MediaType);
        Assert.Contains("bytes", whole.Headers.AcceptRanges);
        Assert.Equal(expected, await whole.Content.ReadAsByteArrayAsync());

        await AssertRangeAsync(admin, url, 1000, 1999, expected[1000..2000], $"bytes 1000-1999/{expected.Length}");
        await AssertRangeAsync(admin, url, null, 16, expected[^16..], $"bytes {expected.Length - 16}-{expected.Length - 1}/{expected.Length}");
        await AssertRangeAsync(admin, url, expected.Length - 100, null, expected[(expected.Length - 100)..],
            $"bytes {expected.Length - 100}-{expected.Length - 1}/{expected.Length}");
        // A range that runs past the end is cut at the end.
        await AssertRangeAsync(admin, url, expected.Length - 10, expected.Length + 5000, expected[(expected.Length - 10)..],
            $"bytes {expected.Length - 10}-{expected.Length - 1}/{expected.Length}");

        // A range that starts past the end: 416 with the size, no body.
        using var beyond = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Range = new RangeHeaderValue(expected.Length, null) } };
        using var unsatisfiable = await admin.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
        Assert.Equal($"bytes */{expected.Length}", unsatisfiable.Content.Headers.ContentRange?.ToString());

        // Core keeps nothing of its own: the recordings folder it was given holds no file of this camera.
        Assert.Equal(core.ServesFromLocalFolder, Directory.Exists(Path.Combine(core.RecordingsRoot, camera.ToString(System.Globalization.CultureInfo.InvariantCulture))));

        // Deleted from the store (retention): 404 problem, not 500.
        Assert.True(await core.Store.DeleteAsync(ChunkKey(camera)));
        await HttpAssert.ProblemAsync(await admin.GetAsync(url), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_playlist_reads_each_init_segment_from_the_store_and_a_player_fetches_both_byte_ranges()
    {
        var fragmented = await FragmentedChunkAsync();
        var bytes = await File.ReadAllBytesAsync(fragmented);
        var (camera, _) = await StoredChunkAsync(fragmented);
        using var admin = await core.AdminAsync();

        using var response = await admin.GetAsync($"/api/v1/recordings/{camera}/playlist.m3u8?start_unix={T0}&end_unix={T0 + 60}");
        var playlist = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, playlist);
        var map = Regex.Match(playlist, "#EXT-X-MAP:URI=\"([^\"]+)\",BYTERANGE=\"(\\d+)@0\"");
        var range = Regex.Match(playlist, "#EXT-X-BYTERANGE:(\\d+)@(\\d+)\n([^\n]+)");
        Assert.True(map.Success && range.Success, playlist);

        // The init segment ends where the first moof starts (the box header is 4 bytes of size, then the type).
        var initLength = IndexOf(bytes, "moof"u8) - 4;
        Assert.Equal(initLength, long.Parse(map.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(bytes.Length - initLength, long.Parse(range.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        var segmentUrl = new Uri(new Uri($"http://core/api/v1/recordings/{camera}/playlist.m3u8"), range.Groups[3].Value).PathAndQuery;
        using var player = core.Anonymous();
        await AssertRangeAsync(player, segmentUrl, 0, initLength - 1, bytes[..initLength], $"bytes 0-{initLength - 1}/{bytes.Length}");
        await AssertRangeAsync(player, segmentUrl, initLength, bytes.Length - 1, bytes[initLength..], $"bytes {initLength}-{bytes.Length - 1}/{bytes.Length}");
    }

    [Fact]
    public async Task An_event_snapshot_is_served_from_the_store_and_is_a_404_once_deleted()
    {
        var camera = await core.CreateCameraAsync("snap-" + Guid.NewGuid().ToString("N")[..6]);
        var key = $"{camera}/snapshots/2026-11-27/130510123.jpg";
        var jpeg = RepositoryPaths.TestData("persons", "grace_hopper.jpg");
        await core.Store.UploadFileAsync(key, jpeg);
        using var recorder = core.Internal();
        (await recorder.PostAsJsonAsync("/api/v1/internal/events", new JsonObject
        {
            ["events"] = new JsonArray(new JsonObject
            {
                ["camera_id"] = camera, ["task"] = "face_detection", ["count"] = 1, ["snapshot_path"] = key, ["executed_at_unix_ms"] = 1_795_784_710_000,
            }),
        })).EnsureSuccessStatusCode();

        using var admin = await core.AdminAsync();
        var latest = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/latest?camera_id={camera}"));
        var snapshotUrl = (string)latest["events"]![0]!["snapshot_url"]!;
        using var snapshot = await admin.GetAsync(snapshotUrl);
        Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
        Assert.Equal("image/jpeg", snapshot.Content.Headers.ContentType?.MediaType);
        Assert.Equal(await File.ReadAllBytesAsync(jpeg), await snapshot.Content.ReadAsByteArrayAsync());

        await core.Store.DeleteAsync(key);
        await HttpAssert.ProblemAsync(await admin.GetAsync(snapshotUrl), HttpStatusCode.NotFound);
    }

    protected static string ChunkKey(int camera) => $"{camera}/2026-11-27/13/00-00.mp4";

    /// <summary>A camera with one chunk uploaded to the store as a Recorder does it, then registered; its file URL.</summary>
    protected async Task<(int Camera, string Url)> StoredChunkAsync(string source)
    {
        var camera = await core.CreateCameraAsync("stored-" + Guid.NewGuid().ToString("N")[..6]);
        var stored = await core.Store.UploadFileAsync(ChunkKey(camera), source);
        using var recorder = core.Internal();
        (await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new
        {
            recordings = new[] { new { camera_id = camera, path = ChunkKey(camera), start_unix = T0, end_unix = T0 + 10, duration_s = 10.0, size_bytes = stored.Size, codec = "h264" } },
        })).EnsureSuccessStatusCode();
        using var admin = await core.AdminAsync();
        var window = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0}&end_unix={T0 + 10}"));
        return (camera, (string)window["recordings"]![0]!["url"]!);
    }

    /// <summary>What the Recorder writes: the clip stream-copied into fragmented MP4 (moov first, then moof/mdat pairs).</summary>
    protected async Task<string> FragmentedChunkAsync()
    {
        var fragmented = Path.Combine(core.ScratchFolder, Guid.NewGuid().ToString("N")[..8] + ".mp4");
        var (exitCode, _, errors) = await TestProcesses.RunAsync("ffmpeg", "-v", "error", "-y", "-i", RepositoryPaths.TestData("video", "vtest.mp4"),
            "-t", "10", "-c", "copy", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", fragmented);
        Assert.True(exitCode == 0, errors);
        return fragmented;
    }

    protected static async Task AssertRangeAsync(HttpClient client, string url, long? from, long? to, byte[] expected, string contentRange)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Range = new RangeHeaderValue(from, to) } };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(contentRange, response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}

/// <summary>What <see cref="StoredMediaTests{TFixture}"/> needs of its Core: the store Core reads, for putting media in.</summary>
public interface IStoredMediaFixture
{
    /// <summary>The store Core was configured with, opened by the test as a Recorder opens it.</summary>
    IRecordingStore Store { get; }

    /// <summary>A folder for files made by the test (removed with the fixture).</summary>
    string ScratchFolder { get; }

    /// <summary>True when the store is Core's own recordings folder (filesystem mode).</summary>
    bool ServesFromLocalFolder { get; }
}

/// <summary>Core over a filesystem store (the single-host default: Recorder:RecordingsRoot).</summary>
public sealed class FileSystemMediaFixture : CoreFixture, IStoredMediaFixture
{
    private IRecordingStore? _store;

    public IRecordingStore Store => _store ??= StorageServiceCollectionExtensions.Create(new StorageOptions { Root = RecordingsRoot });

    public string ScratchFolder { get; } = TestTemp.NewFolder("media-scratch");

    public bool ServesFromLocalFolder => true;

    protected override Task StopDependenciesAsync()
    {
        TestTemp.TryDelete(ScratchFolder);
        return Task.CompletedTask;
    }
}

/// <summary>Core over Azure Blob Storage: its own Azurite (the outage test stops it), its own container.</summary>
public sealed class BlobMediaFixture : CoreFixture, IStoredMediaFixture
{
    private readonly StorageOptions _options = new() { Provider = StorageProviders.AzureBlob, Container = "media-" + Guid.NewGuid().ToString("N")[..12] };

    public AzuriteServer Azurite { get; private set; } = null!;

    public IRecordingStore Store { get; private set; } = null!;

    public string ScratchFolder { get; } = TestTemp.NewFolder("media-scratch");

    public bool ServesFromLocalFolder => false;

    protected override async Task StartDependenciesAsync()
    {
        Azurite = await AzuriteServer.StartAsync();
        _options.ConnectionString = Azurite.ConnectionString;
        Store = StorageServiceCollectionExtensions.Create(_options);
    }

    protected override void Configure(IWebHostBuilder host)
    {
        host.UseSetting("Storage:Provider", StorageProviders.AzureBlob);
        host.UseSetting("ConnectionStrings:recordings", _options.ConnectionString);
        host.UseSetting("Storage:Container", _options.Container);
    }

    protected override async Task StopDependenciesAsync()
    {
        await Azurite.DisposeAsync();
        TestTemp.TryDelete(ScratchFolder);
    }
}

public sealed class FileSystemStoredMediaTests(FileSystemMediaFixture core) : StoredMediaTests<FileSystemMediaFixture>(core);

public sealed class BlobStoredMediaTests(BlobMediaFixture core) : StoredMediaTests<BlobMediaFixture>(core)
{
    [Fact]
    public async Task A_store_outage_is_a_503_problem_for_files_and_playlists_and_playback_resumes_when_it_returns()
    {
        var (camera, url) = await StoredChunkAsync(await FragmentedChunkAsync());
        using var admin = await Core.AdminAsync();
        var playlistUrl = $"/api/v1/recordings/{camera}/playlist.m3u8?start_unix=1795784700&end_unix=1795784760";
        await Core.Azurite.StopAsync();
        try
        {
            Assert.Contains("recording store", await HttpAssert.ProblemAsync(await admin.GetAsync(url), HttpStatusCode.ServiceUnavailable));
            Assert.Contains("recording store", await HttpAssert.ProblemAsync(await admin.GetAsync(playlistUrl), HttpStatusCode.ServiceUnavailable));
        }
        finally
        {
            await Core.Azurite.StartAgainAsync();
        }

        using var whole = await admin.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal((await Core.Store.GetPropertiesAsync(ChunkKey(camera)))!.Size, (await whole.Content.ReadAsByteArrayAsync()).Length);
        using var playlist = await admin.GetAsync(playlistUrl);
        Assert.Equal(HttpStatusCode.OK, playlist.StatusCode);
    }
}
