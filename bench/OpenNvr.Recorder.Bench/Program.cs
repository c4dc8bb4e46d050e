using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using OpenNvr.AppHost;
using OpenNvr.Bench;
using OpenNvr.Storage;
using static OpenNvr.Bench.BenchProcesses;

// Recorder bench: CPU and memory of the Recorder process tree (the .NET host plus its ffmpeg children, from
// /proc/<pid>/stat utime+stime and RSS) per camera at 1, 8 and 16 cameras of 720p H.264 in copy mode, the lag from a
// chunk's end to its row in Core (a chunk is registered only once it is in the recording store, so this is the
// seal-to-playable lag), and lost chunks (stored chunks without a row, holes over 1 s between a camera's chunks), and
// whether every indexed chunk plays through Core (a ranged read of its head through Core's file route).
// Everything real: local PostgreSQL, Core and the Recorder as their own processes, the RTSP test server serving one
// pre-encoded 720p clip without re-encoding (one shared pipeline), Azurite for --store azureblob.
// With --analysed N (the single-host ceiling) Inference runs too, as its own process on the bundled models, and the
// first N cameras of each round carry a person-counting policy at 2 fps (frames decoded by the Recorder, analysed by
// Inference); its CPU and memory are reported beside the Recorder's, and per camera with it.
// Run: dotnet run -c Release --project bench/OpenNvr.Recorder.Bench [-- --seconds 60 --cameras 1,8,16 --store filesystem|azureblob --analysed 0]

var measureSeconds = BenchHost.ArgInt(args, "--seconds", 60);
var counts = (BenchHost.ArgValue(args, "--cameras") ?? "1,8,16").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var storeProvider = BenchHost.ArgValue(args, "--store") ?? StorageProviders.FileSystem;
var analysed = BenchHost.ArgInt(args, "--analysed", 0);
const string InferenceKey = "bench-recorder-inference-key-0123456789";
const string AdminPassword = "bench-admin-password-0123";
const string InternalKey = "bench-internal-key-0123456789abcdef";
var repo = BenchHost.RepositoryRoot;
var work = Path.Combine(Path.GetTempPath(), "opennvr-recorder-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
var processes = new List<Process>();
LocalPostgresServer? postgres = null;
try
{
    // 0. The recording store Core and the Recorder share (Core serves every chunk from it).
    var storeSettings = new Dictionary<string, string>();
    var storeOptions = new StorageOptions { Root = Path.Combine(work, "store") };
    if (storeProvider == StorageProviders.AzureBlob)
    {
        var (azurite, connectionString) = await BenchHost.StartAzuriteAsync(Path.Combine(work, "azurite"));
        Started(processes, azurite);
        storeSettings["Storage__Provider"] = StorageProviders.AzureBlob;
        storeSettings["ConnectionStrings__recordings"] = connectionString;
        storeSettings["Storage__Container"] = "bench";
        storeOptions = new StorageOptions { Provider = StorageProviders.AzureBlob, ConnectionString = connectionString, Container = "bench" };
    }

    var store = StorageServiceCollectionExtensions.Create(storeOptions);

    // 1. A 720p H.264 clip, encoded once (no B-frames, keyframe every 2 s like the test cameras).
    var clip = Path.Combine(work, "vtest-720p.mp4");
    Run("ffmpeg", "-v", "error", "-i", Path.Combine(repo, "testdata", "video", "vtest.mp4"), "-vf", "scale=1280:720", "-c:v", "libx264",
        "-preset", "veryfast", "-bf", "0", "-g", "20", "-an", clip);
    Console.WriteLine($"720p clip: {new FileInfo(clip).Length / 1024} KB");

    // 2. The RTSP camera server.
    var rtsp = StartRtspServer(Path.Combine(repo, "eng", "rtsp-test-server.py"), clip, processes);
    var rtspUrl = await ReadyLineAsync(rtsp);

    // 3. PostgreSQL and Core.
    postgres = await BenchHost.StartPostgresAsync(Path.Combine(work, "pg"));
    var nvrdb = await postgres.CreateDatabaseAsync("nvrdb");
    var corePort = BenchHost.FreePort();
    Started(processes, BenchHost.StartProcess("dotnet", [BenchHost.ServiceDll("OpenNvr.Core"), "--urls", $"http://127.0.0.1:{corePort}"], new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__nvrdb"] = nvrdb,
        ["Auth__AdminPassword"] = AdminPassword,
        ["Auth__JwtSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
        ["ServiceKeys__RecorderCore"] = InternalKey,
        ["Recorder__RecordingsRoot"] = Path.Combine(work, "store"),
        ["Logging__LogLevel__Default"] = "Warning",
    }.Concat(storeSettings).ToDictionary(), "core"));
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{corePort}") };
    await BenchHost.WaitForAsync(async () => (await http.GetAsync("/health")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(300));
    var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = AdminPassword })).Content.ReadFromJsonAsync<JsonObject>();
    http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", (string)login!["access_token"]!);

    // 4. Inference, when cameras are analysed: its own process on the bundled models, reading frames from the shared frames folder.
    Process? inference = null;
    var inferenceSettings = new Dictionary<string, string>();
    if (analysed > 0)
    {
        var inferencePort = BenchHost.FreePort();
        inference = Started(processes, BenchHost.StartProcess("dotnet", [BenchHost.ServiceDll("OpenNvr.Inference"), "--urls", $"http://127.0.0.1:{inferencePort}"], new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__inferencedb"] = await postgres.CreateDatabaseAsync("inferencedb"),
            ["Models__Root"] = Path.Combine(repo, "models"),
            ["Frames__Root"] = Path.Combine(work, "frames"),
            ["ServiceKeys__RecorderInference"] = InferenceKey,
            ["Logging__LogLevel__Default"] = "Warning",
        }, "inference"));
        using var probe = new HttpClient();
        await BenchHost.WaitForAsync(async () => (await probe.GetAsync($"http://127.0.0.1:{inferencePort}/health")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(180));
        inferenceSettings["services__inference__http__0"] = $"http://127.0.0.1:{inferencePort}";
        inferenceSettings["ServiceKeys__RecorderInference"] = InferenceKey;
        inferenceSettings["Recorder__FrameRate"] = "2";
    }

    var results = new List<string>();
    foreach (var n in counts)
    {
        // Cameras of this round (earlier rounds' cameras are disabled).
        await using (var c = new NpgsqlConnection(nvrdb))
        {
            await c.OpenAsync();
            await new NpgsqlCommand("UPDATE cameras SET is_active = false", c).ExecuteNonQueryAsync();
        }

        var ids = new List<int>();
        for (var i = 0; i < n; i++)
        {
            object camera = i < analysed
                ? new { name = $"bench-{n}-{i}", rtsp_url = rtspUrl + "/cam", ai_policies = new[] { new { task = "person_counting", interval_ms = 500, min_confidence = 0.35, motion_gating = false } } }
                : new { name = $"bench-{n}-{i}", rtsp_url = rtspUrl + "/cam" };
            var created = await (await http.PostAsJsonAsync("/api/v1/cameras", camera)).Content.ReadFromJsonAsync<JsonObject>();
            ids.Add((int)created!["id"]!);
        }

        // One folder for all rounds: with a filesystem store it is the store Core reads.
        var root = Path.Combine(work, "store");
        var recorder = Started(processes, BenchHost.StartProcess("dotnet", [BenchHost.ServiceDll("OpenNvr.Recorder"), "--urls", $"http://127.0.0.1:{BenchHost.FreePort()}"], new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["services__core__http__0"] = $"http://127.0.0.1:{corePort}",
            ["ServiceKeys__RecorderCore"] = InternalKey,
            ["Recorder__RecordingsRoot"] = root,
            ["Frames__Root"] = Path.Combine(work, "frames"),
            ["Recorder__MinFreePercent"] = "0",
            // One Recorder takes every camera of the round (its default cap, 32, would leave the rest unleased).
            ["Recorder__MaxCameras"] = n.ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
        }.Concat(storeSettings).Concat(inferenceSettings).ToDictionary(), "recorder"));

        // Warm-up: every camera connected and past its first chunk.
        await Task.Delay(TimeSpan.FromSeconds(25));
        var (cpu0, _, _) = Tree(recorder.Id);
        var inferenceCpu0 = inference is null ? 0 : Tree(inference.Id).CpuSeconds;
        var wall = Stopwatch.StartNew();
        var rssSamples = new List<long>();
        var pssSamples = new List<long>();
        var inferenceRssSamples = new List<long>();
        var inferencePssSamples = new List<long>();
        var ffmpegs = 0;
        while (wall.Elapsed < TimeSpan.FromSeconds(measureSeconds))
        {
            await Task.Delay(2000);
            var (_, rss, pss) = Tree(recorder.Id);
            rssSamples.Add(rss);
            pssSamples.Add(pss);
            var (_, inferenceRss, inferencePss) = inference is null ? default : Tree(inference.Id);
            inferenceRssSamples.Add(inferenceRss);
            inferencePssSamples.Add(inferencePss);
            ffmpegs = Descendants(recorder.Id).Count;
        }

        var (cpu1, _, _) = Tree(recorder.Id);
        var cpuCores = (cpu1 - cpu0) / wall.Elapsed.TotalSeconds;
        var inferenceCores = inference is null ? 0 : (Tree(inference.Id).CpuSeconds - inferenceCpu0) / wall.Elapsed.TotalSeconds;
        var measuredUntil = DateTimeOffset.UtcNow;

        // Stop (SIGTERM: chunks closed and drained to Core) and count.
        _ = Signal(recorder.Id, 15);
        await recorder.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(40)).Token);
        await Task.Delay(1000);
        // What the store holds of this round's cameras (with blob storage the local files are only a cache).
        var files = new HashSet<string>();
        foreach (var id in ids)
        {
            await foreach (var stored in store.ListAsync(id.ToString(CultureInfo.InvariantCulture) + "/"))
            {
                if (stored.Key.EndsWith(".mp4", StringComparison.Ordinal))
                {
                    files.Add(stored.Key);
                }
            }
        }

        var rows = new List<(int Camera, long Id, string Path, double Start, double End, double LagS)>();
        await using (var c = new NpgsqlConnection(nvrdb))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "SELECT camera_id, id, path, extract(epoch FROM start_at)::float8, extract(epoch FROM end_at)::float8, " +
                "extract(epoch FROM created_at - end_at)::float8 FROM recordings WHERE camera_id = ANY($1) ORDER BY camera_id, start_at", c);
            cmd.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray() });
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt32(0), reader.GetInt64(1), reader.GetString(2), reader.GetDouble(3), reader.GetDouble(4), reader.GetDouble(5)));
            }
        }

        var unregistered = files.Count(f => !rows.Any(r => r.Path == f));
        var holes = rows.GroupBy(r => r.Camera).Sum(g => g.Zip(g.Skip(1)).Count(p => p.Second.Start - p.First.End > 1.0));
        // The lag of chunks that ended during the measurement (the last ones are registered at shutdown).
        var lags = rows.Where(r => r.End < measuredUntil.ToUnixTimeMilliseconds() / 1000.0).Select(r => r.LagS).Order().ToList();
        // Every indexed chunk plays through Core: the first 64 KB (ftyp, moov, the first fragments) by a ranged read.
        var unplayable = 0;
        foreach (var row in rows)
        {
            using var head = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/recordings/{row.Camera}/{row.Id}/file") { Headers = { Range = new RangeHeaderValue(0, 65535) } };
            using var answer = await http.SendAsync(head);
            unplayable += answer.StatusCode == HttpStatusCode.PartialContent ? 0 : 1;
        }

        var withInference = analysed == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $" {Math.Min(analysed, n)} | {inferenceCores * 100:F1} % | {inferenceRssSamples.Average() / 1048576:F0} MB | {(rssSamples.Average() + inferenceRssSamples.Average()) / 1048576 / n:F0} MB | {(pssSamples.Average() + inferencePssSamples.Average()) / 1048576 / n:F0} MB |");
        var line = string.Create(CultureInfo.InvariantCulture,
            $"| {n} | {ffmpegs} | {cpuCores * 100:F1} % | {cpuCores * 100 / n:F2} % | {rssSamples.Average() / 1048576:F0} MB | {rssSamples.Average() / 1048576 / n:F0} MB | {pssSamples.Average() / 1048576 / n:F0} MB | " +
            $"{rows.Count} | {unregistered} | {holes} | {unplayable} | {Percentile(lags, 0.5) * 1000:F0} ms | {Percentile(lags, 0.95) * 1000:F0} ms | {lags.DefaultIfEmpty().Max() * 1000:F0} ms |") + withInference;
        results.Add(line);
        Console.WriteLine(line);
        await using (var c = new NpgsqlConnection(nvrdb))
        {
            await c.OpenAsync();
            await new NpgsqlCommand("UPDATE cameras SET is_active = false", c).ExecuteNonQueryAsync();
        }
    }

    Console.WriteLine();
    Console.WriteLine($"Recorder process tree (dotnet + ffmpeg children), 720p H.264 10 fps copy mode, 10-s chunks, {measureSeconds} s per round, {Environment.ProcessorCount} cores, store {storeProvider}, load at end {File.ReadAllText("/proc/loadavg").Trim()}:");
    Console.WriteLine("| cameras | ffmpeg processes | CPU (of one core) | CPU per camera | RSS | RSS per camera | PSS per camera | chunks indexed | stored without a row | holes > 1 s | not playable through Core | seal-to-playable p50 | p95 | max |" +
        (analysed > 0 ? " analysed at 2 fps | Inference CPU | Inference RSS | RSS per camera with Inference | PSS per camera with Inference |" : ""));
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" + (analysed > 0 ? "---|---|---|---|---|" : ""));
    foreach (var line in results)
    {
        Console.WriteLine(line);
    }
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

[System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
static extern int Signal(int pid, int signal);
