using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Live;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Recording;

/// <summary>How one ffmpeg run ended.</summary>
public sealed record SegmenterOutcome(int Chunks, int? ExitCode, bool Stalled, bool Stopped, string? Reason);

/// <summary>
/// One ffmpeg run for one camera: stream copy into fragmented-MP4 chunks
/// <c>&lt;root&gt;/&lt;camera&gt;/%Y-%m-%d/%H/%M-%S.mp4</c> (UTC, TZ=UTC for the child), chunk list in csv. Each chunk closed by
/// ffmpeg is handed to <c>onChunk</c> with times from <see cref="ChunkClock"/>; after a crash (kill -9, power cut)
/// the chunk being written is probed with ffprobe and handed over as well (it is playable up to its last fragment).
/// A stall watchdog kills ffmpeg when the chunk being written stops growing for <c>StallSeconds</c>.
/// </summary>
public sealed partial class FfmpegSegmenter(
    RecorderOptions options,
    string recordingsRoot,
    ChildProcesses children,
    TimeProvider clock,
    ILogger logger,
    LiveHub? live = null)
{
    private static readonly TimeSpan QuitGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(3);

    /// <summary>Raised with the ffmpeg process when it starts (tests kill it; the bench measures it).</summary>
    public event Action<Process>? Started;

    /// <summary>Raised when the first chunk file of the run is opened: the camera is being recorded.</summary>
    public event Action? Recording;

    /// <summary>Raised by the watchdog just before it kills a stalled ffmpeg.</summary>
    public event Action? StallDetected;

    public static IReadOnlyList<string> BuildArguments(RecorderOptions options, string sourceUrl, string outputPattern, string listPath, bool liveOutput = false)
    {
        var args = new List<string> { "-hide_banner", "-nostats", "-loglevel", "info" };
        if (sourceUrl.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            // A local file played in real time, looped forever: the demo camera and tests.
            args.AddRange(["-re", "-stream_loop", "-1", "-i", new Uri(sourceUrl).LocalPath]);
        }
        else
        {
            // TCP: no UDP packet loss; -timeout (µs) ends a read that hangs on a dead connection.
            args.AddRange(["-rtsp_transport", "tcp", "-timeout", "10000000", "-i", sourceUrl]);
        }

        args.AddRange([
            "-map", "0:v:0", "-c", "copy",
            "-f", "segment",
            "-segment_time", options.Chunk.TotalSeconds.ToString(CultureInfo.InvariantCulture),
            "-segment_format", "mp4",
            // Fragmented MP4: a killed ffmpeg leaves a file playable up to its last fragment (one per keyframe).
            // flush_packets=1 pushes each fragment to the file at once: without it ffmpeg keeps up to 256 KB
            // (several seconds of video) in its output buffer, which a kill -9 would lose.
            "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof:flush_packets=1",
            "-reset_timestamps", "1",
            "-strftime", "1",
            "-segment_list", listPath,
            "-segment_list_type", "csv",
            outputPattern,
        ]);
        if (liveOutput)
        {
            args.AddRange(LiveOutputArguments("pipe:1"));
        }

        return args;
    }

    /// <summary>
    /// The live output added to a run that already holds the camera connection (Live/): the same packets, copied
    /// into fragmented MP4 with one fragment per frame, flushed at once, no trailer.
    /// </summary>
    public static IEnumerable<string> LiveOutputArguments(string url) =>
    [
        "-map", "0:v:0", "-c", "copy", "-f", "mp4",
        "-movflags", "+frag_keyframe+empty_moov+default_base_moof+frag_every_frame+skip_trailer",
        "-flush_packets", "1",
        url,
    ];

    public async Task<SegmenterOutcome> RunAsync(CameraConfig camera, Action<ChunkRegistration> onChunk, CancellationToken stop)
    {
        var cameraDir = Path.Combine(recordingsRoot, camera.Id.ToString(CultureInfo.InvariantCulture));
        var listDir = Path.Combine(recordingsRoot, ".segments");
        Directory.CreateDirectory(listDir);
        var listPath = Path.Combine(listDir, $"{camera.Id}-{clock.GetUtcNow().ToUnixTimeMilliseconds()}.csv");
        // ffmpeg's segment muxer does not create directories: the hour folders are made ahead of time.
        EnsureDirectories(cameraDir, clock.GetUtcNow());
        var pattern = Path.Combine(cameraDir.Replace("%", "%%", StringComparison.Ordinal), "%Y-%m-%d", "%H", "%M-%S.mp4");

        var start = new ProcessStartInfo(options.FfmpegPath)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in BuildArguments(options, camera.StreamUrl, pattern, listPath, liveOutput: live?.Enabled == true))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TZ"] = "UTC";

        var run = new Run(camera, cameraDir, new SegmentList(listPath));
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                run.OnStderr(line, WallNow());
            }
        };
        process.OutputDataReceived += (_, _) => { };
        try
        {
            await ChildProcesses.StartDyingWithUsAsync(process);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new SegmenterOutcome(0, null, false, false, $"cannot start {options.FfmpegPath}: {ex.Message}");
        }

        children.Track(process);
        process.BeginErrorReadLine();
        // Standard output carries the live view (read to its end whatever happens, so ffmpeg never waits on it).
        var liveFeed = live is { Enabled: true } ? live.Feed(camera.Id, LiveStream.Main).PumpAsync(process.StandardOutput.BaseStream) : null;
        if (liveFeed is null)
        {
            process.BeginOutputReadLine();
        }

        Started?.Invoke(process);
        RecorderLog.FfmpegStarted(logger, camera.Id, process.Id);

        var stalled = false;
        var stopped = false;
        var startedAt = clock.GetUtcNow();
        var lastGrowth = startedAt;
        long lastSize = -1;
        string? watchedFile = null;
        var announced = false;
        var lastDirCheck = DateTimeOffset.MinValue;
        try
        {
            while (!process.HasExited)
            {
                if (stop.IsCancellationRequested)
                {
                    stopped = true;
                    await StopProcessAsync(process);
                    break;
                }

                var now = clock.GetUtcNow();
                if (now - lastDirCheck > TimeSpan.FromSeconds(5))
                {
                    EnsureDirectories(cameraDir, now);
                    lastDirCheck = now;
                }

                EmitFinished(run, onChunk, exitWall: null);

                var current = run.CurrentFile;
                if (current is not null && !announced)
                {
                    announced = true;
                    Recording?.Invoke();
                }

                if (current != watchedFile)
                {
                    watchedFile = current;
                    lastSize = -1;
                    lastGrowth = now;
                }

                var size = current is not null && File.Exists(current) ? new FileInfo(current).Length : -1;
                if (size != lastSize)
                {
                    lastSize = size;
                    lastGrowth = now;
                }

                var limit = TimeSpan.FromSeconds(options.StallSeconds + (current is null ? 10 : 0));
                if (now - lastGrowth > limit)
                {
                    stalled = true;
                    RecorderLog.Stalled(logger, camera.Id, (now - lastGrowth).TotalSeconds);
                    StallDetected?.Invoke();
                    _ = ChildProcesses.Signal(process, 2);
                    await WaitOrKillAsync(process, InterruptGrace);
                    break;
                }

                try
                {
                    await Task.WhenAny(process.WaitForExitAsync(stop), run.SegmentOpenedSignal.WaitAsync(TimeSpan.FromMilliseconds(500), stop));
                }
                catch (OperationCanceledException)
                {
                }
            }

            await process.WaitForExitAsync(CancellationToken.None);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            children.Untrack(process);
        }

        // Let the stderr reader drain the last lines (the final "Opening" of a crash must be seen).
        process.WaitForExit();
        if (liveFeed is not null)
        {
            await liveFeed;
        }

        var exitWall = WallNow();
        var exitCode = process.ExitCode;
        EmitFinished(run, onChunk, exitWall);
        await EmitPartialAsync(run, onChunk, stop.IsCancellationRequested ? CancellationToken.None : stop);
        TryDelete(listPath);
        RecorderLog.FfmpegExited(logger, camera.Id, exitCode, run.Emitted, run.LastError ?? "");
        return new SegmenterOutcome(run.Emitted, exitCode, stalled, stopped, stalled ? "no new video data (stall watchdog)" : run.LastError);
    }

    /// <summary>Creates the hour folders for now and the next 90 s (ffmpeg opens chunks there by wall clock).</summary>
    public static void EnsureDirectories(string cameraDir, DateTimeOffset now)
    {
        foreach (var at in new[] { now, now.AddSeconds(90) })
        {
            Directory.CreateDirectory(Path.Combine(cameraDir, at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                at.UtcDateTime.ToString("HH", CultureInfo.InvariantCulture)));
        }
    }

    private double WallNow() => clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private void EmitFinished(Run run, Action<ChunkRegistration> onChunk, double? exitWall)
    {
        foreach (var entry in run.List.ReadNew())
        {
            run.Entries.Add(entry);
        }

        while (run.NextEntry < run.Entries.Count)
        {
            var index = run.NextEntry;
            var entry = run.Entries[index];
            var opened = run.OpenedSnapshot();
            if (opened.Count > index + 1)
            {
                run.Clock.SegmentOpened(index + 1, opened[index + 1].Wall, entry.EndSeconds);
            }

            var placed = run.Clock.Place(entry);
            if (placed is null)
            {
                // No anchor: only the run's last segment, once ffmpeg has exited (its end is now).
                if (exitWall is null || index != run.Entries.Count - 1)
                {
                    return;
                }

                placed = ChunkClock.PlaceByEnd(entry.DurationSeconds, exitWall.Value);
            }

            var file = index < opened.Count && Path.GetFileName(opened[index].Path) == entry.FileName
                ? opened[index].Path
                : opened.FirstOrDefault(o => Path.GetFileName(o.Path) == entry.FileName).Path;
            run.NextEntry++;
            if (file is null || !File.Exists(file))
            {
                RecorderLog.ChunkFileMissing(logger, run.Camera.Id, entry.FileName);
                continue;
            }

            Emit(run, onChunk, file, placed.Value.Start, placed.Value.End, partial: false, run.Codec, run.Width, run.Height);
        }
    }

    private async Task EmitPartialAsync(Run run, Action<ChunkRegistration> onChunk, CancellationToken ct)
    {
        var opened = run.OpenedSnapshot();
        if (opened.Count <= run.Entries.Count)
        {
            return;
        }

        // The chunk being written when ffmpeg died without closing it (kill -9, crash, power cut).
        var file = opened[^1].Path;
        if (!File.Exists(file))
        {
            return;
        }

        var cut = Mp4Probe.TruncateIncompleteTail(file);
        if (cut > 0)
        {
            RecorderLog.TornFragmentCut(logger, run.Camera.Id, file, cut);
        }

        var probe = await Mp4Probe.ProbeAsync(options.FfprobePath, file, ct);
        if (probe is null || probe.Frames == 0 || probe.DurationSeconds <= 0)
        {
            RecorderLog.EmptyPartialDeleted(logger, run.Camera.Id, file);
            TryDelete(file);
            return;
        }

        double start, end;
        if (run.Clock.Anchor is { } anchor && run.Entries.Count > 0)
        {
            start = anchor + run.Entries[^1].EndSeconds;
            end = start + probe.DurationSeconds;
        }
        else
        {
            (start, end) = ChunkClock.PlaceByEnd(probe.DurationSeconds,
                new DateTimeOffset(File.GetLastWriteTimeUtc(file)).ToUnixTimeMilliseconds() / 1000.0);
        }

        Emit(run, onChunk, file, start, end, partial: true, probe.Codec ?? run.Codec, probe.Width ?? run.Width, probe.Height ?? run.Height);
    }

    private void Emit(Run run, Action<ChunkRegistration> onChunk, string file, double start, double end, bool partial, string? codec, int? width, int? height)
    {
        var size = new FileInfo(file).Length;
        var relative = Path.GetRelativePath(recordingsRoot, file).Replace(Path.DirectorySeparatorChar, '/');
        var chunk = new ChunkRegistration(run.Camera.Id, relative, Math.Round(start, 3), Math.Round(end, 3), Math.Round(end - start, 3), size, codec, width, height);
        run.Emitted++;
        RecorderTelemetry.Chunks.Add(1, new KeyValuePair<string, object?>("camera", run.Camera.Id), new KeyValuePair<string, object?>("partial", partial));
        RecorderTelemetry.BytesWritten.Add(size, new KeyValuePair<string, object?>("camera", run.Camera.Id));
        RecorderLog.ChunkFinished(logger, run.Camera.Id, relative, end - start, size, partial);
        onChunk(chunk);
    }

    private static async Task StopProcessAsync(Process process)
    {
        // 'q' lets ffmpeg finish the chunk and its list entry; SIGINT does too (exit 255); kill is the last resort.
        try
        {
            await process.StandardInput.WriteAsync("q");
            await process.StandardInput.FlushAsync();
        }
        catch (IOException)
        {
        }

        if (await WaitAsync(process, QuitGrace))
        {
            return;
        }

        _ = ChildProcesses.Signal(process, 2);
        await WaitOrKillAsync(process, InterruptGrace);
    }

    private static async Task WaitOrKillAsync(Process process, TimeSpan grace)
    {
        if (!await WaitAsync(process, grace))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static async Task<bool> WaitAsync(Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return process.HasExited;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"Opening '(?<path>.+\.mp4)' for writing")]
    private static partial Regex OpeningPattern();

    [GeneratedRegex(@"Stream #0:\d+.*?: Video: (?<codec>[a-z0-9_]+).*?, (?<w>\d{2,5})x(?<h>\d{2,5})")]
    private static partial Regex VideoStreamPattern();

    /// <summary>The state of one run, fed by the stderr reader thread and read by the run loop.</summary>
    private sealed class Run(CameraConfig camera, string cameraDir, SegmentList list)
    {
        private readonly object _gate = new();
        private readonly List<(string Path, double Wall)> _opened = [];

        public CameraConfig Camera { get; } = camera;
        public string CameraDir { get; } = cameraDir;
        public SegmentList List { get; } = list;
        public ChunkClock Clock { get; } = new();
        public List<SegmentListEntry> Entries { get; } = [];
        public SemaphoreSlim SegmentOpenedSignal { get; } = new(0);
        public int NextEntry { get; set; }
        public int Emitted { get; set; }
        public string? Codec { get; private set; }
        public int? Width { get; private set; }
        public int? Height { get; private set; }
        public string? LastError { get; private set; }

        public string? CurrentFile
        {
            get
            {
                lock (_gate)
                {
                    return _opened.Count > 0 ? _opened[^1].Path : null;
                }
            }
        }

        public List<(string Path, double Wall)> OpenedSnapshot()
        {
            lock (_gate)
            {
                return [.. _opened];
            }
        }

        public void OnStderr(string line, double wall)
        {
            var opening = OpeningPattern().Match(line);
            if (opening.Success)
            {
                lock (_gate)
                {
                    _opened.Add((Path.GetFullPath(opening.Groups["path"].Value), wall));
                }

                SegmentOpenedSignal.Release();
                return;
            }

            if (Codec is null && VideoStreamPattern().Match(line) is { Success: true } video)
            {
                Codec = video.Groups["codec"].Value;
                Width = int.Parse(video.Groups["w"].Value, CultureInfo.InvariantCulture);
                Height = int.Parse(video.Groups["h"].Value, CultureInfo.InvariantCulture);
                return;
            }

            if (line.Contains("error", StringComparison.OrdinalIgnoreCase) || line.Contains("failed", StringComparison.OrdinalIgnoreCase) ||
                line.Contains("refused", StringComparison.OrdinalIgnoreCase) || line.Contains("not found", StringComparison.OrdinalIgnoreCase) ||
                line.Contains("No such file", StringComparison.Ordinal) || line.Contains("Unauthorized", StringComparison.OrdinalIgnoreCase) ||
                line.Contains("Invalid data", StringComparison.Ordinal) || line.Contains("timed out", StringComparison.OrdinalIgnoreCase))
            {
                // Never the URL: it may carry credentials.
                LastError = StripUrls(line);
            }
        }

        private static string StripUrls(string line) => UrlPattern().Replace(line, "<url>") is { Length: > 300 } s ? s[..300] : UrlPattern().Replace(line, "<url>");
    }

    [GeneratedRegex(@"[a-z]+://\S+", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPattern();
}
