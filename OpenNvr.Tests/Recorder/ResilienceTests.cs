using System.Diagnostics;
using OpenNvr.Contracts;
using OpenNvr.Recorder.Recording;
using OpenNvr.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Recorder;

/// <summary>The camera goes away for 20 s and comes back on the same address.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class CameraAwayTests
{
    [Fact]
    public async Task Reconnects_within_10_s_of_the_cameras_return_and_the_outage_is_a_gap_in_the_index()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("away", camera.Url("/cam"));
        await using var recorder = RecorderInstance.Start(core);

        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= 2, TimeSpan.FromSeconds(40), "two chunks before the outage");

        await camera.StopAsync();
        var awayAt = Now();
        await Wait.UntilAsync(() => recorder.States.Current.TryGetValue(cameraId, out var s) && s.State == RecordingStates.Reconnecting,
            TimeSpan.FromSeconds(15), "the reconnecting state");
        await Wait.UntilAsync(async () => (string?)(await core.CameraAsync(cameraId))["recording_state"] == RecordingStates.Reconnecting,
            TimeSpan.FromSeconds(10), "Core to show the camera reconnecting");
        // The scenario: the camera stays away for 20 s in all (a fixed outage, not a synchronisation).
        await Task.Delay(TimeSpan.FromSeconds(20) - TimeSpan.FromSeconds(Now() - awayAt));
        var rowsBeforeReturn = (await core.RowsAsync(cameraId)).Count;

        await camera.RestartAsync();
        var backAt = Now();
        await Wait.UntilAsync(() => recorder.States.Current[cameraId].State == RecordingStates.Recording, TimeSpan.FromSeconds(15),
            "recording to resume", pollMs: 100);
        var reconnectSeconds = Now() - backAt;
        Assert.True(reconnectSeconds <= 10, $"recording resumed {reconnectSeconds:F1} s after the camera came back");

        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= rowsBeforeReturn + 2, TimeSpan.FromSeconds(30), "chunks after the return");
        Assert.Equal("recording", (string?)(await core.CameraAsync(cameraId))["recording_state"]);

        var rows = await core.RowsAsync(cameraId);
        var window = await core.WindowAsync(cameraId, rows[0].StartUnix, rows[^1].EndUnix);
        var gaps = window["gaps"]!.AsArray().Select(g => ((double)g!["start_unix"]!, (double)g["end_unix"]!)).ToList();
        // One gap: from the last video before the camera went away to the first after it came back, about 20 s.
        var gap = Assert.Single(gaps);
        Assert.InRange(gap.Item2 - gap.Item1, 18, 20 + reconnectSeconds + 3);
        Assert.InRange(gap.Item1, awayAt - 3, awayAt + 1);
        Assert.InRange(gap.Item2, backAt - 1, backAt + reconnectSeconds + 3);

        // Every chunk, including the one cut by the outage, is playable.
        foreach (var row in rows)
        {
            var probe = await Ffprobe.ReadAllFramesAsync(Path.Combine(recorder.RecordingsRoot, row.Path));
            Assert.True(probe.Frames > 0 && probe.Errors.Length == 0, $"{row.Path}: {probe.Frames} frames, {probe.Errors}");
        }
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}

/// <summary>ffmpeg killed with SIGKILL in the middle of a chunk.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class FfmpegKilledTests
{
    [Fact]
    public async Task A_chunk_cut_by_kill_9_is_playable_and_indexed_and_recording_resumes()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("killed", camera.Url("/cam"));
        // 8-s chunks, keyframes (and fragments) every 2 s: a kill 5 s into a chunk leaves two fragments.
        await using var recorder = RecorderInstance.Start(core, settings: new Dictionary<string, string> { ["Recorder:ChunkSeconds"] = "8" });

        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= 1, TimeSpan.FromSeconds(40), "a first chunk");
        var rowsBefore = await core.RowsAsync(cameraId);
        // The chunk being written now: the newest file not yet indexed. Killed once two fragments are complete.
        var open = recorder.ChunkFiles(cameraId).Except(rowsBefore.Select(r => r.Path)).Single();
        await Wait.UntilAsync(() => CompleteFragments(Path.Combine(recorder.RecordingsRoot, open)) >= 2, TimeSpan.FromSeconds(20),
            $"two complete fragments in the open chunk {open}", pollMs: 100);
        var ffmpegPid = recorder.Coordinator.Recorder(cameraId)!.CurrentProcess!.Id;
        var sizeAtKill = new FileInfo(Path.Combine(recorder.RecordingsRoot, open)).Length;
        Assert.True(sizeAtKill > 10_000, $"the open chunk {open} holds only {sizeAtKill} bytes; files: " +
            string.Join(", ", recorder.ChunkFiles(cameraId).Select(f => $"{f}={new FileInfo(Path.Combine(recorder.RecordingsRoot, f)).Length}")) +
            "; rows: " + string.Join(", ", rowsBefore.Select(r => r.Path)));
        Process.GetProcessById(ffmpegPid).Kill(); // SIGKILL: no trailer, no segment list entry

        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Any(r => r.Path == open), TimeSpan.FromSeconds(20), "the cut chunk to be indexed");
        var cut = (await core.RowsAsync(cameraId)).Single(r => r.Path == open);
        var probe = await Ffprobe.ReadAllFramesAsync(Path.Combine(recorder.RecordingsRoot, open));
        Assert.True(probe.Errors.Length == 0, probe.Errors);
        Assert.InRange(probe.Frames, 20, 80);
        Assert.InRange(cut.DurationS, probe.DurationSeconds - 0.15, probe.DurationSeconds + 0.15);
        Assert.InRange(cut.StartUnix - rowsBefore[^1].EndUnix, -0.05, 1.0);

        // Recording resumes with a new ffmpeg, and its chunks are indexed too.
        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count(r => r.StartUnix > cut.EndUnix) >= 1, TimeSpan.FromSeconds(30), "chunks after the kill");
        Assert.NotEqual(ffmpegPid, recorder.Coordinator.Recorder(cameraId)!.CurrentProcess?.Id);
    }

    /// <summary>Complete <c>moof</c>+<c>mdat</c> pairs at the top level of a fragmented MP4 that ffmpeg is still writing.</summary>
    private static int CompleteFragments(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var header = new byte[8];
        long offset = 0;
        var fragments = 0;
        var inFragment = false;
        while (offset + 8 <= stream.Length)
        {
            stream.Position = offset;
            stream.ReadExactly(header);
            var size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = System.Text.Encoding.ASCII.GetString(header, 4, 4);
            if (size < 8 || offset + size > stream.Length)
            {
                break; // the box being written
            }

            fragments += type == "mdat" && inFragment ? 1 : 0;
            inFragment = type == "moof";
            offset += size;
        }

        return fragments;
    }
}

/// <summary>Core unreachable for 30 s while the camera records.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class CoreOutageTests
{
    [Fact]
    public async Task Recording_goes_on_while_Core_is_away_and_every_chunk_is_registered_once_after_it_returns()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("outage", camera.Url("/cam"));
        var recorder = RecorderInstance.Start(core);
        try
        {
            await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= 1, TimeSpan.FromSeconds(40), "a first chunk");

            await core.StopAsync();
            var filesAtOutage = recorder.ChunkFiles(cameraId).Count;
            // The scenario: Core stays away for 30 s (a fixed outage, not a synchronisation).
            await Task.Delay(TimeSpan.FromSeconds(30));
            var filesAfterOutage = recorder.ChunkFiles(cameraId).Count;
            // 30 s at 4-s chunks: about 7 more chunks were recorded and wait in the outbox.
            Assert.True(filesAfterOutage - filesAtOutage >= 5, $"{filesAfterOutage - filesAtOutage} chunks recorded while Core was away");
            Assert.True(recorder.Outbox.Depth >= 5, $"outbox depth {recorder.Outbox.Depth}");
            Assert.Equal(RecordingStates.Recording, recorder.States.Current[cameraId].State);

            await core.StartAgainAsync();
            await Wait.UntilAsync(() => recorder.Outbox.Depth == 0, TimeSpan.FromSeconds(20), "the outbox to drain");
            await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= filesAfterOutage + 1, TimeSpan.FromSeconds(20), "a chunk after the return");
        }
        finally
        {
            await recorder.DisposeAsync();
        }

        // Every chunk on disk has exactly one row (the unique index would refuse a second; the sender never makes
        // one appear under another path), with consecutive times: nothing lost, nothing twice.
        var files = recorder.ChunkFiles(cameraId);
        var rows = await core.RowsAsync(cameraId);
        Assert.Equal(files, rows.Select(r => r.Path).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(rows.Count, rows.Select(r => r.Path).Distinct().Count());
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.InRange(rows[i].StartUnix - rows[i - 1].EndUnix, -0.05, 1.0);
        }
    }
}

/// <summary>The camera hangs without closing the connection: the stall watchdog, not a socket error, must notice.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class StallWatchdogTests(ITestOutputHelper output)
{
    private const int StallSeconds = 4;

    [Fact]
    public async Task A_hung_camera_is_reported_stalled_its_ffmpeg_is_replaced_and_recording_resumes_after_a_gap()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("hung", camera.Url("/cam"));
        // StallSeconds (4) well under ffmpeg's own RTSP socket timeout (-timeout 10 s): the watchdog must fire first.
        await using var recorder = RecorderInstance.Start(core, settings: new Dictionary<string, string>
        {
            ["Recorder:StallSeconds"] = StallSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= 1, TimeSpan.FromSeconds(40), "a first chunk");
        var stalledPid = recorder.Coordinator.Recorder(cameraId)!.CurrentProcess!.Id;
        var frozenAt = Now();
        double thawedAt;
        try
        {
            camera.Freeze();
            // The connection stays open and silent: only the watchdog reports "stalled" (ffmpeg's own timeout
            // ends in "reconnecting" with its error line, and not before 10 s).
            await Wait.UntilAsync(async () => (string?)(await core.CameraAsync(cameraId))["recording_state"] == RecordingStates.Stalled,
                TimeSpan.FromSeconds(StallSeconds + 4), "Core to show the camera stalled", pollMs: 100);
            var stalledAfter = Now() - frozenAt;
            output.WriteLine($"stalled reported to Core {stalledAfter:F1} s after the freeze");
            // The last growth seen may precede the freeze by up to one fragment (2 s) plus a poll (0.5 s).
            Assert.InRange(stalledAfter, StallSeconds - 2.5, StallSeconds + 4);
            Assert.StartsWith("no new video data", recorder.States.Current[cameraId].Reason);

            // The stalled ffmpeg was killed and a new one started (it now waits for the hung camera's answer).
            await Wait.UntilAsync(() => recorder.Coordinator.Recorder(cameraId)!.CurrentProcess is { } p && p.Id != stalledPid,
                TimeSpan.FromSeconds(8), "a new ffmpeg", pollMs: 100);
            Assert.False(Directory.Exists($"/proc/{stalledPid}"), $"the stalled ffmpeg {stalledPid} is still running");
        }
        finally
        {
            camera.Thaw();
            thawedAt = Now();
        }

        // Recording resumes: a chunk that starts after the thaw is registered and the camera is recording again.
        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Any(r => r.StartUnix > thawedAt - 1), TimeSpan.FromSeconds(30), "a chunk after the thaw");
        await Wait.UntilAsync(async () => (string?)(await core.CameraAsync(cameraId))["recording_state"] == RecordingStates.Recording,
            TimeSpan.FromSeconds(10), "Core to show the camera recording again");

        var rows = await core.RowsAsync(cameraId);
        // The chunk being written when the camera hung: closed by the watchdog, indexed, every frame decodes.
        var beforeStall = rows.Last(r => r.StartUnix < frozenAt);
        var probe = await Ffprobe.ReadAllFramesAsync(Path.Combine(recorder.RecordingsRoot, beforeStall.Path));
        Assert.True(probe.Frames > 0 && probe.Errors.Length == 0, $"{beforeStall.Path}: {probe.Frames} frames, {probe.Errors}");
        Assert.InRange(beforeStall.EndUnix, frozenAt - 3, frozenAt + 1);

        // The hang is a gap in Core's timeline, from about the freeze to about the thaw.
        var after = rows.First(r => r.StartUnix > beforeStall.StartUnix);
        var window = await core.WindowAsync(cameraId, rows[0].StartUnix, after.EndUnix);
        var gaps = window["gaps"]!.AsArray().Select(g => ((double)g!["start_unix"]!, (double)g["end_unix"]!)).ToList();
        var gap = Assert.Single(gaps);
        output.WriteLine($"hang {frozenAt:F1}..{thawedAt:F1} ({thawedAt - frozenAt:F1} s); gap {gap.Item1:F1}..{gap.Item2:F1} ({gap.Item2 - gap.Item1:F1} s)");
        Assert.Equal(beforeStall.EndUnix, gap.Item1, 0.01);
        Assert.Equal(after.StartUnix, gap.Item2, 0.01);
        Assert.True(gap.Item2 - gap.Item1 >= thawedAt - frozenAt - 3, $"gap [{gap.Item1:F2}, {gap.Item2:F2}] for a hang of {thawedAt - frozenAt:F1} s");
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
}
