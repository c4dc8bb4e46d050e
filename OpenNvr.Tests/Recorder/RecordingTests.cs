using System.Globalization;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>Continuous recording at the default chunk length from a real RTSP camera into the real Core's index.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class RecordingTests
{
    [Fact]
    public async Task Records_60_s_into_valid_contiguous_chunks_all_indexed_with_their_times_and_leaves_no_ffmpeg_behind()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("gate", camera.Url("/cam"));
        var startedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var recorder = RecorderInstance.Start(core, settings: new Dictionary<string, string> { ["Recorder:ChunkSeconds"] = "10" });
        var pids = new HashSet<int>();
        var children = recorder.Children;
        try
        {
            // 60 s of indexed video (chunks are registered as they close).
            await Wait.UntilAsync(async () =>
            {
                if (recorder.Coordinator.Recorder(cameraId)?.CurrentProcess is { } p)
                {
                    pids.Add(p.Id);
                }

                var rows = await core.RowsAsync(cameraId);
                return rows.Sum(r => r.DurationS) >= 60;
            }, TimeSpan.FromSeconds(110), "60 s of indexed chunks", pollMs: 1000);
        }
        finally
        {
            await recorder.DisposeAsync();
        }

        // Host shutdown stopped every ffmpeg it started.
        Assert.NotEmpty(pids);
        foreach (var pid in pids)
        {
            Assert.False(Directory.Exists($"/proc/{pid}") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("ffmpeg"), $"ffmpeg {pid} outlived the Recorder host");
        }

        Assert.Equal(0, children.Count);

        var files = recorder.ChunkFiles(cameraId);
        var rows = await core.RowsAsync(cameraId);
        Assert.True(files.Count >= 6, $"only {files.Count} chunks");
        Assert.Equal(files, rows.Select(r => r.Path).Order(StringComparer.Ordinal).ToList());

        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var file = Path.Combine(recorder.RecordingsRoot, row.Path);
            var probe = await Ffprobe.ReadAllFramesAsync(file);
            Assert.True(probe.Errors.Length == 0, $"{row.Path}: {probe.Errors}");
            Assert.Equal(("h264", 768, 576), (probe.Codec, probe.Width, probe.Height));
            Assert.Equal(("h264", 768, 576), (row.Codec, row.Width, row.Height));
            Assert.Equal(new FileInfo(file).Length, row.SizeBytes);
            // vtest is 10 fps: every frame of the chunk's duration decodes.
            Assert.InRange(probe.Frames, (int)Math.Round(probe.DurationSeconds * 10) - 1, (int)Math.Round(probe.DurationSeconds * 10) + 1);
            Assert.InRange(row.DurationS, probe.DurationSeconds - 0.15, probe.DurationSeconds + 0.15);
            Assert.InRange(row.EndUnix - row.StartUnix, row.DurationS - 0.01, row.DurationS + 0.01);
            Assert.InRange(row.StartUnix, startedAt - 5, startedAt + 200);

            // The file name is the wall clock (UTC) when ffmpeg opened the chunk.
            var named = DateTimeOffset.ParseExact(string.Join(' ', row.Path.Split('/')[1..]), "yyyy-MM-dd HH mm-ss'.mp4'",
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeSeconds();
            Assert.InRange(row.StartUnix - named, i == 0 ? -5 : -1.5, 1.5);

            if (i > 0)
            {
                var hole = row.StartUnix - rows[i - 1].EndUnix;
                Assert.InRange(hole, -0.05, 1.0);
            }

            if (i < rows.Count - 1)
            {
                // Cut at keyframes (every 2 s) after 10 s: whole chunks are 10 s long.
                Assert.InRange(row.DurationS, 9.9, 12.1);
            }
        }

        // Core's window query sees continuous recording.
        var window = await core.WindowAsync(cameraId, rows[0].StartUnix, rows[^1].EndUnix);
        Assert.Empty(window["gaps"]!.AsArray());
        Assert.Equal(rows.Count, window["recordings"]!.AsArray().Count);
    }
}
