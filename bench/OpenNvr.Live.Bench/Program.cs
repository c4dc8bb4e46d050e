using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenNvr.AppHost;
using OpenNvr.Bench;
using OpenNvr.Core.Exports;
using static OpenNvr.Bench.BenchProcesses;

// Live view and export bench. Everything real: local PostgreSQL, Core and the Recorder as their own processes, the RTSP
// test server serving testdata/video/vtest.mp4 (768x576 H.264, 10 fps) without re-encoding.
// 1. Latency of the console's stream (fMP4 over WebSocket through Core): receipt time minus the fragment's capture
//    time (wall clock when the Recorder read the frame from the camera connection), p50/p95 over every fragment.
// 2. Latency of live HLS through Core (LL-HLS, blocking reload on the preload hint): the time the playlist announcing a
//    part arrives minus the capture time of that part's last frame (PROGRAM-DATE-TIME + part durations); a player adds
//    its hold-back (PART-HOLD-BACK) on top, shown in a second column.
// 3. CPU and memory per viewer: Core's and the Recorder's process trees (utime+stime, RSS from /proc) with 0, 1, 8
//    and 32 WebSocket viewers of the main stream; per viewer = (round - no viewers) / viewers.
// 4. Export time of 10 minutes of video: 60 ten-second fMP4 chunks cut from the clip looped (stream copy), exported by
//    Core's ExportEngine (one MP4, stream copy, +faststart) from the middle of the first chunk.
// Run: dotnet run -c Release --project bench/OpenNvr.Live.Bench [-- --seconds 30 --viewers 1,8,32]

var measureSeconds = BenchHost.ArgInt(args, "--seconds", 30);
var counts = (BenchHost.ArgValue(args, "--viewers") ?? "1,8,32").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
const string AdminPassword = "bench-admin-password-0123";
const string InternalKey = "bench-internal-key-0123456789abcdef";
var repo = BenchHost.RepositoryRoot;
var clip = Path.Combine(repo, "testdata", "video", "vtest.mp4");
var work = Path.Combine(Path.GetTempPath(), "opennvr-live-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
var processes = new List<Process>();
LocalPostgresServer? postgres = null;
try
{
    Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");

    // Export first (no services running yet): 10 minutes of 10-s chunks.
    var chunkDir = Path.Combine(work, "chunks");
    Directory.CreateDirectory(chunkDir);
    Run("ffmpeg", "-v", "error", "-nostdin", "-stream_loop", "-1", "-i", clip, "-t", "600", "-c", "copy", "-an",
        "-f", "segment", "-segment_time", "10", "-reset_timestamps", "1", "-segment_format", "mp4",
        "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof", Path.Combine(chunkDir, "chunk%03d.mp4"));
    var files = Directory.GetFiles(chunkDir, "chunk*.mp4").Order(StringComparer.Ordinal).ToArray();
    var t0 = Math.Floor(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 10.0) * 10 - 3600;
    var chunks = files.Select((f, i) => new ExportChunk(i + 1, Path.GetFileName(f), t0 + 10 * i, t0 + 10 * (i + 1))).ToList();
    var plan = ExportPlanner.Plan(chunks, t0 + 5, t0 + 5 + 600) ?? throw new InvalidOperationException("no export plan");
    var engine = new ExportEngine(Options.Create(new ExportOptions { Root = Path.Combine(work, "exports") }), new FolderChunks(chunkDir), NullLogger<ExportEngine>.Instance);
    var exportWatch = Stopwatch.StartNew();
    var exported = await engine.ExportAsync(plan, Path.Combine(work, "clip.mp4"), "bench", null, CancellationToken.None);
    exportWatch.Stop();
    var exportLine = string.Create(CultureInfo.InvariantCulture,
        $"| {chunks.Count} chunks, {plan.Seconds:F0} s planned | {exported.DurationSeconds:F1} s | {exported.SizeBytes / 1048576.0:F1} MB | {exportWatch.Elapsed.TotalSeconds:F2} s | {exported.DurationSeconds / exportWatch.Elapsed.TotalSeconds:F0}x |");
    Console.WriteLine(exportLine);

    var rtsp = StartRtspServer(Path.Combine(repo, "eng", "rtsp-test-server.py"), clip, processes);
    var rtspUrl = await ReadyLineAsync(rtsp);

    postgres = await BenchHost.StartPostgresAsync(Path.Combine(work, "pg"));
    var nvrdb = await postgres.CreateDatabaseAsync("nvrdb");
    var corePort = BenchHost.FreePort();
    var core = Started(processes, BenchHost.StartProcess("dotnet", [BenchHost.ServiceDll("OpenNvr.Core"), "--urls", $"http://127.0.0.1:{corePort}"], new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__nvrdb"] = nvrdb,
        ["Auth__AdminPassword"] = AdminPassword,
        ["Auth__JwtSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
        ["ServiceKeys__RecorderCore"] = InternalKey,
        ["Recorder__RecordingsRoot"] = Path.Combine(work, "recordings"),
        ["Exports__Root"] = Path.Combine(work, "exports-core"),
        ["Logging__LogLevel__Default"] = "Warning",
    }, "core"));
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{corePort}"), Timeout = TimeSpan.FromSeconds(30) };
    await BenchHost.WaitForAsync(async () => (await http.GetAsync("/health")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(90));
    var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = AdminPassword })).Content.ReadFromJsonAsync<JsonObject>();
    var bearer = (string)login!["access_token"]!;
    http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
    var created = await (await http.PostAsJsonAsync("/api/v1/cameras", new { name = "bench-live", rtsp_url = rtspUrl + "/cam" })).Content.ReadFromJsonAsync<JsonObject>();
    var cameraId = (int)created!["id"]!;

    var recorderPort = BenchHost.FreePort();
    var recorder = Started(processes, BenchHost.StartProcess("dotnet", [BenchHost.ServiceDll("OpenNvr.Recorder"), "--urls", $"http://127.0.0.1:{recorderPort}"], new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["services__core__http__0"] = $"http://127.0.0.1:{corePort}",
        ["ServiceKeys__RecorderCore"] = InternalKey,
        ["Recorder__BaseUrl"] = $"http://127.0.0.1:{recorderPort}",
        ["Recorder__RecordingsRoot"] = Path.Combine(work, "recordings"),
        ["Frames__Root"] = Path.Combine(work, "frames"),
        ["Recorder__MinFreePercent"] = "0",
        ["Logging__LogLevel__Default"] = "Warning",
    }, "recorder"));

    // Live once Core says the main stream is live (the Recorder holds the lease and its run produces fragments).
    await BenchHost.WaitForAsync(async () =>
    {
        var status = await http.GetFromJsonAsync<JsonObject>($"/api/v1/cameras/{cameraId}/live/status");
        if (!status!["streams"]!.AsArray().Any(s => (string)s!["stream"]! == "main" && (bool)s["live"]!))
        {
            throw new InvalidOperationException("not live yet");
        }
    }, TimeSpan.FromSeconds(90));
    var wsUrl = new Uri($"ws://127.0.0.1:{corePort}/api/v1/cameras/{cameraId}/live/ws?stream=main");

    // Baseline without viewers.
    var baseline = await MeasureAsync([core.Id, recorder.Id], TimeSpan.FromSeconds(measureSeconds / 2.0));
    var rows = new List<string>();
    var consoleLatencies = new List<double>();
    foreach (var n in counts)
    {
        using var stop = new CancellationTokenSource();
        var viewers = Enumerable.Range(0, n).Select(_ => ViewAsync(wsUrl, bearer, stop.Token)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(5)); // viewers connected and past their first keyframe before measuring
        var measured = await MeasureAsync([core.Id, recorder.Id], TimeSpan.FromSeconds(measureSeconds));
        stop.Cancel();
        var results = await Task.WhenAll(viewers);
        var latencies = results.SelectMany(r => r.Latencies).Order().ToList();
        if (n == counts[0])
        {
            consoleLatencies = latencies;
        }

        var fragments = results.Sum(r => r.Fragments);
        var dropped = results.Count(r => r.Dropped);
        var cpuPerViewer = (measured.CpuCores - baseline.CpuCores) * 100 / n;
        var rssPerViewer = (measured.RssBytes - baseline.RssBytes) / 1048576.0 / n;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"| {n} | {measured.CpuCores * 100:F1} % | {cpuPerViewer:F2} % | {measured.RssBytes / 1048576.0:F0} MB | {rssPerViewer:F1} MB | {fragments} | {dropped} | {Percentile(latencies, 0.5):F0} ms | {Percentile(latencies, 0.95):F0} ms | {File.ReadAllText("/proc/loadavg").Split(' ')[0]} |");
        rows.Add(line);
        Console.WriteLine(line);
    }

    // Live HLS through Core: blocking reloads on the preload hint.
    var token = (string)(await (await http.PostAsync($"/api/v1/recordings/{cameraId}/media-token", null)).Content.ReadFromJsonAsync<JsonObject>())!["token"]!;
    var hls = await HlsLatencyAsync(http, cameraId, token, TimeSpan.FromSeconds(measureSeconds));

    Console.WriteLine();
    Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}; {Environment.ProcessorCount} cores");
    Console.WriteLine("Live latency, capture to receipt, one camera 768x576 10 fps, through Core:");
    Console.WriteLine("| path | samples | p50 | p95 | with player hold-back p50 |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| console WebSocket (fMP4 per frame), {counts[0]} viewer(s) | {consoleLatencies.Count} | {Percentile(consoleLatencies, 0.5):F0} ms | {Percentile(consoleLatencies, 0.95):F0} ms | n/a |"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| LL-HLS live.m3u8 (part announced) | {hls.Latencies.Count} | {Percentile(hls.Latencies, 0.5):F0} ms | {Percentile(hls.Latencies, 0.95):F0} ms | {Percentile(hls.Latencies, 0.5) + hls.HoldBackMs:F0} ms |"));
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Core + Recorder process trees, main stream WebSocket viewers, {measureSeconds} s per round; no viewers: {baseline.CpuCores * 100:F1} % CPU, {baseline.RssBytes / 1048576.0:F0} MB:"));
    Console.WriteLine("| viewers | CPU (of one core) | CPU per viewer | RSS | RSS per viewer | fragments received | viewers dropped | latency p50 | latency p95 | load (1 min) |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    rows.ForEach(Console.WriteLine);
    Console.WriteLine();
    Console.WriteLine("Export (ExportEngine, stream copy, +faststart):");
    Console.WriteLine("| input | clip duration | size | time | speed |");
    Console.WriteLine("|---|---:|---:|---:|---:|");
    Console.WriteLine(exportLine);
}
finally
{
    foreach (var p in Enumerable.Reverse(processes))
    {
        try
        {
            if (!p.HasExited)
            {
                _ = Signal(p.Id, 15);
                if (!p.WaitForExit(15000))
                {
                    p.Kill(entireProcessTree: true);
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    if (postgres is not null)
    {
        await postgres.DisposeAsync();
    }

    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (IOException)
    {
    }
}

// One console viewer: latency of every fragment (receipt - capture), until stopped or closed by the server (dropped).
static async Task<(List<double> Latencies, int Fragments, bool Dropped)> ViewAsync(Uri url, string bearer, CancellationToken stop)
{
    using var socket = new ClientWebSocket();
    socket.Options.SetRequestHeader("Authorization", "Bearer " + bearer);
    await socket.ConnectAsync(url, CancellationToken.None);
    var buffer = new byte[8 * 1024 * 1024];
    var latencies = new List<double>();
    var fragments = 0;
    try
    {
        while (!stop.IsCancellationRequested)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), stop);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (latencies, fragments, true);
            }

            if (result.MessageType == WebSocketMessageType.Binary && buffer[0] == 2 && length >= 24)
            {
                var received = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                latencies.Add(received - BinaryPrimitives.ReadDoubleBigEndian(buffer.AsSpan(8)));
                fragments++;
            }
        }
    }
    catch (OperationCanceledException)
    {
    }

    return (latencies, fragments, false);
}

static async Task<(List<double> Latencies, double HoldBackMs)> HlsLatencyAsync(HttpClient http, int cameraId, string token, TimeSpan duration)
{
    var latencies = new List<double>();
    var holdBack = 0.0;
    var query = "";
    var watch = Stopwatch.StartNew();
    double lastPartEnd = 0;
    while (watch.Elapsed < duration)
    {
        var playlist = await http.GetStringAsync($"/api/v1/cameras/{cameraId}/live.m3u8?token={Uri.EscapeDataString(token)}{query}");
        var received = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        double segmentStart = 0, offset = 0, newest = 0;
        query = "";
        foreach (var line in playlist.Split('\n'))
        {
            if (line.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            {
                segmentStart = DateTimeOffset.Parse(line["#EXT-X-PROGRAM-DATE-TIME:".Length..], CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
                offset = 0;
            }
            else if (line.StartsWith("#EXT-X-PART:DURATION=", StringComparison.Ordinal))
            {
                offset += double.Parse(line["#EXT-X-PART:DURATION=".Length..].Split(',')[0], CultureInfo.InvariantCulture) * 1000;
                newest = Math.Max(newest, segmentStart + offset);
            }
            else if (line.StartsWith("#EXT-X-SERVER-CONTROL:", StringComparison.Ordinal) && line.Split("PART-HOLD-BACK=") is [_, var value])
            {
                holdBack = double.Parse(value.Split(',')[0], CultureInfo.InvariantCulture) * 1000;
            }
            else if (line.StartsWith("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"", StringComparison.Ordinal))
            {
                // live/part-M.N.m4s?token=...: block until that part is announced.
                var name = line.Split("part-")[1].Split(".m4s")[0].Split('.');
                query = $"&_HLS_msn={name[0]}&_HLS_part={name[1]}";
            }
        }

        if (newest > lastPartEnd && lastPartEnd > 0)
        {
            latencies.Add(received - newest);
        }

        lastPartEnd = Math.Max(lastPartEnd, newest);
    }

    latencies.Sort();
    return (latencies, holdBack);
}

static async Task<(double CpuCores, double RssBytes)> MeasureAsync(int[] roots, TimeSpan duration)
{
    var cpu0 = roots.Sum(r => Tree(r).CpuSeconds);
    var wall = Stopwatch.StartNew();
    var rss = new List<long>();
    while (wall.Elapsed < duration)
    {
        await Task.Delay(1000);
        rss.Add(roots.Sum(r => Tree(r).RssBytes));
    }

    var cpu1 = roots.Sum(r => Tree(r).CpuSeconds);
    return ((cpu1 - cpu0) / wall.Elapsed.TotalSeconds, rss.Average());
}

[System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
static extern int Signal(int pid, int signal);

/// <summary>Chunks of the bench's folder as local files.</summary>
internal sealed class FolderChunks(string root) : IChunkFileSource
{
    public Task<LocalChunk> OpenAsync(string relativePath, CancellationToken ct) => Task.FromResult(new LocalChunk(Path.Combine(root, relativePath)));
}
