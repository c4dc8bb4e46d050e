using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Retention;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>A real Core with short leases and a real fragmented-MP4 chunk to copy into place.</summary>
public sealed class RetentionFixture : IAsyncLifetime
{
    public CoreServer Core { get; private set; } = null!;

    public string SampleChunk { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Core = await CoreServer.StartAsync(leaseSeconds: 3);
        SampleChunk = Path.Combine(TestTemp.NewFolder("sample"), "chunk.mp4");
        var (exitCode, _, errors) = await TestProcesses.RunAsync("ffmpeg", "-v", "error", "-i", RepositoryPaths.TestData("video", "vtest.mp4"),
            "-t", "4", "-c", "copy", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", SampleChunk);
        Assert.True(exitCode == 0, errors);
    }

    public async Task DisposeAsync() => await Core.DisposeAsync();
}

/// <summary>Retention by age, quota and free-space floor against real files and real index rows; evidence survives.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class RetentionTests(RetentionFixture fixture) : IClassFixture<RetentionFixture>
{
    private CoreServer Core => fixture.Core;

    [Fact]
    public async Task Age_deletes_old_chunks_files_and_rows_repairs_halfway_deletions_and_keeps_evidence()
    {
        await using var recorder = RecorderInstance.Start(Core);
        var camera = await HeldCameraAsync(recorder, new { retention_days = 1 });
        var now = Now();
        var evidence = await PlaceAsync(recorder, camera, now - 3 * 86400);
        var old = await PlaceAsync(recorder, camera, now - 3 * 86400 + 10);
        var fileAlreadyGone = await PlaceAsync(recorder, camera, now - 2 * 86400);
        File.Delete(Path.Combine(recorder.RecordingsRoot, fileAlreadyGone)); // a pass that died after the file, before the row
        var recent1 = await PlaceAsync(recorder, camera, now - 3600);
        var recent2 = await PlaceAsync(recorder, camera, now - 1800);
        var orphan = ChunkPath(camera, now - 3 * 86400 + 600); // a file whose row is gone
        CopySample(recorder, orphan);
        await Core.FlagEvidenceAsync(camera, (await Core.RowsAsync(camera)).Single(r => r.Path == evidence).Id);

        var result = await recorder.Retention.RunPassAsync(CancellationToken.None);

        Assert.Equal((2, 1), (result.Age, result.Orphans));
        Assert.Equal([evidence, recent1, recent2], (await Core.RowsAsync(camera)).Select(r => r.Path));
        Assert.Equal(new[] { evidence, recent1, recent2 }.Order(StringComparer.Ordinal), recorder.ChunkFiles(camera));
        await ReleaseAsync(camera);
    }

    [Fact]
    public async Task Quota_deletes_the_oldest_chunks_until_the_camera_fits_and_keeps_evidence()
    {
        var size = new FileInfo(fixture.SampleChunk).Length;
        await using var recorder = RecorderInstance.Start(Core);
        var camera = await HeldCameraAsync(recorder, new { storage_quota_bytes = size * 5 / 2 });
        var now = Now();
        var paths = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            paths.Add(await PlaceAsync(recorder, camera, now - 600 + i * 10));
        }

        await Core.FlagEvidenceAsync(camera, (await Core.RowsAsync(camera)).Single(r => r.Path == paths[0]).Id);

        var result = await recorder.Retention.RunPassAsync(CancellationToken.None);

        // 5 chunks over a 2.5-chunk quota: the three oldest that are not evidence go.
        Assert.Equal(3, result.Quota);
        Assert.Equal([paths[0], paths[4]], (await Core.RowsAsync(camera)).Select(r => r.Path));
        Assert.Equal(new[] { paths[0], paths[4] }.Order(StringComparer.Ordinal), recorder.ChunkFiles(camera));
        Assert.Equal(0, (await recorder.Retention.RunPassAsync(CancellationToken.None)).Quota);
        await ReleaseAsync(camera);
    }

    [Fact]
    public async Task Free_space_floor_deletes_chunks_whatever_their_age_but_never_evidence()
    {
        await using var recorder = RecorderInstance.Start(Core);
        var camera = await HeldCameraAsync(recorder, new { retention_days = 30 });
        var now = Now();
        var paths = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            paths.Add(await PlaceAsync(recorder, camera, now - 300 + i * 10));
        }

        await Core.FlagEvidenceAsync(camera, (await Core.RowsAsync(camera)).Single(r => r.Path == paths[1]).Id);

        // Floor under the free space: nothing goes, however recent or old.
        var options = recorder.Services.GetRequiredService<IOptions<RecorderOptions>>().Value;
        Assert.Equal(0, (await recorder.Retention.RunPassAsync(CancellationToken.None)).FreeSpace);
        Assert.Equal(4, (await Core.RowsAsync(camera)).Count);

        // Floor above the free space (configurable, so the disk need not be filled): every chunk that may go, goes.
        options.MinFreeBytes = RetentionService.VolumeSpace(recorder.RecordingsRoot).Free + (1L << 40);
        var result = await recorder.Retention.RunPassAsync(CancellationToken.None);

        Assert.Equal(3, result.FreeSpace);
        Assert.Equal([paths[1]], (await Core.RowsAsync(camera)).Select(r => r.Path));
        Assert.Equal([paths[1]], recorder.ChunkFiles(camera));
        options.MinFreeBytes = 0;
        await ReleaseAsync(camera);
    }

    /// <summary>A camera leased to this recorder (unreachable stream: only retention is under test here).</summary>
    private async Task<int> HeldCameraAsync(RecorderInstance recorder, object settings)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(settings, CoreFixture.Json)!.AsObject();
        var id = await Core.CreateCameraAsync($"retention-{Guid.NewGuid():N}"[..20], "rtsp://127.0.0.1:9/none", body);
        await Wait.UntilAsync(() => recorder.Coordinator.Cameras.Any(c => c.Id == id), TimeSpan.FromSeconds(20), "the camera's lease");
        return id;
    }

    private async Task ReleaseAsync(int camera) => await Core.UpdateCameraAsync(camera, new { is_active = false });

    private static string ChunkPath(int camera, double startUnix)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds((long)(startUnix * 1000)).UtcDateTime;
        return $"{camera}/{at:yyyy-MM-dd}/{at:HH}/{at:mm-ss}.mp4";
    }

    private void CopySample(RecorderInstance recorder, string path)
    {
        var full = Path.Combine(recorder.RecordingsRoot, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.Copy(fixture.SampleChunk, full);
    }

    /// <summary>A real chunk file at the place and time given, registered like the Recorder registers chunks.</summary>
    private async Task<string> PlaceAsync(RecorderInstance recorder, int camera, double startUnix)
    {
        var path = ChunkPath(camera, startUnix);
        CopySample(recorder, path);
        using var http = Core.Internal();
        using var response = await http.PostAsJsonAsync("/api/v1/internal/recordings", new
        {
            recordings = new[]
            {
                new { camera_id = camera, path, start_unix = startUnix, end_unix = startUnix + 4, size_bytes = new FileInfo(fixture.SampleChunk).Length },
            },
        });
        Assert.Equal(1, (int)(await HttpAssert.OkJsonAsync(response))["inserted"]!);
        return path;
    }

    private static double Now() => Math.Round(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
}
