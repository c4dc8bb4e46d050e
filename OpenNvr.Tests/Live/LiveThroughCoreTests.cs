using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using OpenNvr.Recorder.Live;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Live;

/// <summary>
/// Live view and playback through Core as a player sees them: the real Core and Recorder on Kestrel, a real RTSP
/// camera, and ffmpeg with its default options as the player (the library behind ffplay and mpv).
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class LiveThroughCoreTests
{
    [Fact]
    public async Task Ffmpeg_with_default_options_reads_the_live_playlist_and_a_30_s_vod_window_and_the_console_stream_is_fresh()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        // Core serves the chunks the Recorder writes: one recordings folder for both (as on a single host).
        var recordings = TestTemp.NewFolder("rec");
        await using var core = await CoreServer.StartAsync(extraSettings: new Dictionary<string, string> { ["Recorder:RecordingsRoot"] = recordings });
        var cameraId = await core.CreateCameraAsync("gate", camera.Url("/cam"));
        var hidden = await core.CreateCameraAsync("hidden", camera.Url("/cam"), new { recording_enabled = false });
        await using var recorder = await KestrelRecorder.StartAsync(core, new Dictionary<string, string> { ["Recorder:RecordingsRoot"] = recordings });
        await recorder.WaitForLiveAsync(cameraId, LiveStream.Main);
        var startedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        using var admin = await core.AdminAsync();
        var token = (string)(await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{cameraId}/media-token", null)))["token"]!;
        var query = "?token=" + Uri.EscapeDataString(token);

        // The live playlist through Core: every URI ends in a media extension and carries the token.
        using var player = core.Http();
        var playlist = await player.GetStringAsync($"/api/v1/cameras/{cameraId}/live.m3u8{query}");
        var uris = playlist.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Concat(System.Text.RegularExpressions.Regex.Matches(playlist, "URI=\"([^\"]+)\"").Select(m => m.Groups[1].Value)).ToList();
        Assert.NotEmpty(uris);
        Assert.All(uris, uri => Assert.Matches(@"^live/(init-\d+\.mp4|seg-\d+\.m4s|part-\d+\.\d+\.m4s)\?token=", uri));
        Assert.Contains("#EXT-X-PROGRAM-DATE-TIME:", playlist, StringComparison.Ordinal);

        var folder = TestTemp.NewFolder("live-core");
        var live = Path.Combine(folder, "live.mp4");
        var ffmpeg = await RunAsync("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", $"{core.BaseUrl}/api/v1/cameras/{cameraId}/live.m3u8{query}",
            "-t", "5", "-c", "copy", "-y", live);
        Assert.True(ffmpeg.ExitCode == 0, ffmpeg.Errors);
        var liveProbe = await Ffprobe.ReadAllFramesAsync(live);
        Assert.Equal(("h264", 768, 576), (liveProbe.Codec, liveProbe.Width, liveProbe.Height));
        Assert.InRange(liveProbe.Frames, 48, 52);

        // The console's WebSocket through Core: fragments well formed, and fresh (capture to receipt well under a second).
        await using (var console = await LiveClient.ConnectAsync(new Uri($"ws://127.0.0.1:{core.Port}/api/v1/cameras/{cameraId}/live/ws?stream=main&token={Uri.EscapeDataString(token)}"), key: null))
        {
            await console.ReadForAsync(TimeSpan.FromSeconds(30), stopWhen: () => console.Fragments.Count >= 60);
            console.AssertWellFormed("avc1.4D401F", 768, 576);
            var lags = console.Fragments.Skip(30).Select(f => f.ReceivedUnixMs - f.CaptureUnixMs).Order().ToList();
            Assert.True(lags[lags.Count / 2] < 1000, $"median capture-to-receipt {lags[lags.Count / 2]:F0} ms");
        }

        // Grants: another camera's token, a camera without a recorder, no token: 404/404/401 problems.
        var otherToken = (string)(await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{hidden}/media-token", null)))["token"]!;
        await HttpAssert.ProblemAsync(await player.GetAsync($"/api/v1/cameras/{cameraId}/live.m3u8?token={Uri.EscapeDataString(otherToken)}"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await player.GetAsync($"/api/v1/cameras/{hidden}/live.m3u8?token={Uri.EscapeDataString(otherToken)}"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await player.GetAsync($"/api/v1/cameras/{cameraId}/live.m3u8"), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await player.GetAsync($"/api/v1/cameras/{cameraId}/live/secret.txt{query}"), HttpStatusCode.BadRequest);
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => LiveClient.ConnectAsync(
            new Uri($"ws://127.0.0.1:{core.Port}/api/v1/cameras/{cameraId}/live/ws?token={Uri.EscapeDataString(otherToken)}"), key: null));
        Assert.Contains("404", refused.Message, StringComparison.Ordinal);

        // 30 s of recordings: the VOD playlist of that window, read by ffmpeg with default options (segment URIs end in .mp4).
        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Where(r => r.StartUnix >= startedAt - 5).Sum(r => r.DurationS) >= 34,
            TimeSpan.FromSeconds(120), "34 s of indexed chunks");
        var rows = (await core.RowsAsync(cameraId)).OrderBy(r => r.StartUnix).ToList();
        var windowStart = rows[^1].EndUnix - 30;
        var windowEnd = rows[^1].EndUnix;
        var covered = rows.Where(r => r.EndUnix > windowStart && r.StartUnix < windowEnd).ToList();
        var vodQuery = string.Create(CultureInfo.InvariantCulture, $"start_unix={windowStart:F3}&end_unix={windowEnd:F3}&token={Uri.EscapeDataString(token)}");
        var vod = await player.GetStringAsync($"/api/v1/recordings/{cameraId}/playlist.m3u8?{vodQuery}");
        Assert.All(vod.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')), uri => Assert.Matches(@"^\d+/file\.mp4\?token=", uri));
        var vodFile = Path.Combine(folder, "vod.mp4");
        ffmpeg = await RunAsync("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", $"{core.BaseUrl}/api/v1/recordings/{cameraId}/playlist.m3u8?{vodQuery}",
            "-c", "copy", "-y", vodFile);
        Assert.True(ffmpeg.ExitCode == 0, ffmpeg.Errors);
        var vodProbe = await Ffprobe.ReadAllFramesAsync(vodFile);
        var expectedFrames = (int)Math.Round(covered.Sum(r => r.DurationS) * 10);
        Assert.InRange(vodProbe.Frames, expectedFrames - covered.Count, expectedFrames + covered.Count);
    }

    private static async Task<(int ExitCode, string Errors)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, "timed out: " + await errors);
        }

        return (process.ExitCode, await errors);
    }
}
