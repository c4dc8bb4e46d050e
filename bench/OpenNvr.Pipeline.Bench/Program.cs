using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Bench;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Recorder.Analytics;
using OpenNvr.Recorder.Recording;

// AI pipeline bench: Core, Inference and the Recorder hosted in this process and talking real HTTP (Core and
// Inference on Kestrel, local PostgreSQL, the bundled model, file cameras decoded by ffmpeg at 2 fps with a
// person_counting policy every 500 ms, as the app host's demo camera).
//  1. Throughput: N cameras of a moving scene (vtest) and of a static scene (one frame looped), motion gating on
//     and off: policy runs due, /infer calls, frames analysed, skipped by motion and dropped, per second. The moving
//     scene is measured on, off, off, on and the CPU of either setting averaged.
//  2. Latency on the demo configuration (one vtest camera): capture to stored event (Core's pipeline_latency_ms of
//     every event) p50/p95, against the model's own latency (Inference's `model` stage) in the same run.
//  3. Faces per track (issue 13): Inference face requests a minute on the moving scene for a camera with
//     person_counting + face_recognition (faces asked per tracked person) against a camera with face_recognition
//     alone (the per-frame path, which is what every face policy ran before), measured side by side.
// Run: dotnet run -c Release --project bench/OpenNvr.Pipeline.Bench [-- --cameras 8 --seconds 30 --latency-seconds 90
//      --faces-seconds 120 --only faces]

var cameras = BenchHost.ArgInt(args, "--cameras", 8);
var seconds = BenchHost.ArgInt(args, "--seconds", 30);
var latencySeconds = BenchHost.ArgInt(args, "--latency-seconds", 90);
var facesSeconds = BenchHost.ArgInt(args, "--faces-seconds", 120);
var only = BenchHost.ArgValue(args, "--only");
const string AdminPassword = "bench-admin-password-0123";
const string InternalKey = "bench-internal-key-0123456789abcdef";
const string InferenceKey = "bench-inference-key-0123456789abcdef";
var repo = BenchHost.RepositoryRoot;
using var workFolder = new BenchWorkFolder("opennvr-pipeline-bench-");
var work = workFolder.Path;
var recordings = Path.Combine(work, "recordings");
var frames = Path.Combine(work, "frames");
Directory.CreateDirectory(recordings);
Directory.CreateDirectory(frames);

var modelMs = new ConcurrentQueue<double>();
using var meters = new MeterListener();
meters.InstrumentPublished = (instrument, listener) =>
{
    if (instrument.Name is "opennvr.inference.duration" or "opennvr.people.face.attempts")
    {
        listener.EnableMeasurementEvents(instrument);
    }
};
var faceOutcomes = new ConcurrentDictionary<string, long>();
meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
{
    foreach (var tag in tags)
    {
        if (tag.Key == "outcome")
        {
            faceOutcomes.AddOrUpdate((string)tag.Value!, value, (_, sum) => sum + value);
        }
    }
});
meters.SetMeasurementEventCallback<double>((_, value, tags, _) =>
{
    foreach (var tag in tags)
    {
        if (tag is { Key: "stage", Value: "model" })
        {
            modelMs.Enqueue(value);
        }
    }
});
meters.Start();

await using var postgres = await BenchHost.StartPostgresAsync(Path.Combine(work, "pg"), "fsync=off");
var nvrdb = await postgres.CreateDatabaseAsync("nvrdb");
var inferencedb = await postgres.CreateDatabaseAsync("inferencedb");
var corePort = BenchHost.FreePort();
var inferencePort = BenchHost.FreePort();
await using var core = new WebApplicationFactory<NvrDbContext>().WithWebHostBuilder(h => Settings(h, new()
{
    ["ConnectionStrings:nvrdb"] = nvrdb,
    ["Auth:AdminPassword"] = AdminPassword,
    ["Auth:JwtSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
    ["ServiceKeys:RecorderCore"] = InternalKey,
    ["Cameras:AllowFileSources"] = "true",
    ["Recorder:RecordingsRoot"] = recordings,
    ["services:inference:http:0"] = $"http://127.0.0.1:{inferencePort}",
    ["ServiceKeys:CoreInference"] = InferenceKey,
}));
core.UseKestrel(o => o.Listen(IPAddress.Loopback, corePort));
core.StartServer();
await using var inference = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(h => Settings(h, new()
{
    ["ConnectionStrings:inferencedb"] = inferencedb,
    ["Frames:Root"] = frames,
    ["Models:Root"] = Path.Combine(repo, "models"),
    ["ServiceKeys:RecorderInference"] = InferenceKey,
    ["ServiceKeys:CoreInference"] = InferenceKey,
}));
inference.UseKestrel(o => o.Listen(IPAddress.Loopback, inferencePort));
inference.StartServer();
await using var recorder = new WebApplicationFactory<RecordingCoordinator>().WithWebHostBuilder(h => Settings(h, new()
{
    ["services:core:http:0"] = $"http://127.0.0.1:{corePort}",
    ["services:inference:http:0"] = $"http://127.0.0.1:{inferencePort}",
    ["ServiceKeys:RecorderCore"] = InternalKey,
    ["ServiceKeys:RecorderInference"] = InferenceKey,
    ["Recorder:RecordingsRoot"] = recordings,
    ["Frames:Root"] = frames,
    ["Recorder:HeartbeatSeconds"] = "1",
    ["Recorder:FrameRate"] = "2",
    ["Recorder:MaxCameras"] = "64",
    ["Recorder:MinFreePercent"] = "0",
}));
_ = recorder.Server;
var pipeline = recorder.Services.GetRequiredService<AnalyticsPipeline>();
var coordinator = recorder.Services.GetRequiredService<RecordingCoordinator>();

using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{corePort}") };
var login = await (await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = AdminPassword })).Content.ReadFromJsonAsync<JsonObject>();
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)login!["access_token"]!);

var vtest = new Uri(Path.Combine(repo, "testdata", "video", "vtest.mp4")).AbsoluteUri;
var stillFile = Path.Combine(work, "still.mp4");
Run("ffmpeg", "-v", "error", "-loop", "1", "-t", "4", "-i", Path.Combine(repo, "testdata", "persons", "vtest_0200.jpg"),
    "-c:v", "libx264", "-bf", "0", "-g", "20", "-pix_fmt", "yuv420p", "-r", "10", stillFile);
var still = new Uri(stillFile).AbsoluteUri;

if (only == "faces")
{
    await FacesPerTrackAsync();
    return;
}

Console.WriteLine($"Pipeline bench: {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; {cameras} cameras x 2 fps, {seconds} s per round");
var rows = new List<string>();
var movingCpu = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
// The moving scene in the order on, off, off, on: the first round after start-up pays for JIT and heap growth, and
// the machine's load drifts; ABBA gives both settings the same share of either.
foreach (var (scene, url, order) in new[] { ("moving (vtest)", vtest, new[] { true, false, false, true }), ("static (one frame looped)", still, new[] { true, false }) })
{
    foreach (var gating in order)
    {
        var ids = new List<int>();
        for (var i = 0; i < cameras; i++)
        {
            ids.Add(await CreateCameraAsync($"bench-{ids.Count}-{Guid.NewGuid():N}"[..20], url, gating));
        }

        await WaitAsync(() => ids.All(id => pipeline.Statistics(id).Analysed >= 1), TimeSpan.FromSeconds(60));
        await Task.Delay(3000);
        var before = ids.Select(id => Snapshot(pipeline.Statistics(id))).ToList();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var elapsed = watch.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / elapsed * 100;
        var after = ids.Select(id => Snapshot(pipeline.Statistics(id))).ToList();
        double Rate(Func<Counts, long> f) => after.Zip(before).Sum(p => f(p.First) - f(p.Second)) / elapsed;
        rows.Add($"| {scene} | {(gating ? "on" : "off")} | {cameras} | {Rate(c => c.Due):F1} | {Rate(c => c.Calls):F1} | {Rate(c => c.Analysed):F1} | " +
                 $"{Rate(c => c.Skipped):F1} | {Rate(c => c.Dropped):F1} | {cpu:F0} % |");
        Console.WriteLine(rows[^1]);
        if (url == vtest)
        {
            movingCpu[gating].Add(cpu);
        }
        foreach (var id in ids)
        {
            await http.DeleteAsync($"/api/v1/cameras/{id}");
        }

        await WaitAsync(() => !coordinator.RecordingCameraIds.Intersect(ids).Any(), TimeSpan.FromSeconds(30));
        await Task.Delay(2000);
    }
}

// Latency on the demo camera's configuration.
modelMs.Clear();
var demo = await CreateCameraAsync("demo", vtest, gating: true);
await WaitAsync(() => pipeline.Statistics(demo).Analysed >= 1, TimeSpan.FromSeconds(60));
await Task.Delay(TimeSpan.FromSeconds(latencySeconds));
var events = (await http.GetFromJsonAsync<JsonObject>($"/api/v1/events/latest?camera_id={demo}&limit=500"))!["events"]!.AsArray();
var latencies = events.Select(e => (double)e!["pipeline_latency_ms"]!).Order().ToList();
var models = modelMs.Order().ToList();
var stats = pipeline.Statistics(demo);
var goal = 1.5 * Percentile(models, 0.5) + 250;
Console.WriteLine();
Console.WriteLine("| scene | motion gating | cameras | due /s | /infer calls /s | analysed /s | skipped by motion /s | dropped /s | CPU (this process) |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
rows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine($"Moving scene, mean of the ABBA rounds: gating on {movingCpu[true].Average():F0} %, off {movingCpu[false].Average():F0} % " +
                  $"(gating costs {(movingCpu[true].Average() / movingCpu[false].Average() - 1) * 100:F1} % more)");
Console.WriteLine();
Console.WriteLine($"Demo camera ({latencySeconds} s, {stats}):");
Console.WriteLine("| measure | samples | p50 ms | p95 ms | max ms |");
Console.WriteLine("|---|---:|---:|---:|---:|");
Console.WriteLine($"| capture → stored event (Core's pipeline_latency_ms) | {latencies.Count} | {Percentile(latencies, 0.5):F0} | {Percentile(latencies, 0.95):F0} | {latencies.LastOrDefault():F0} |");
Console.WriteLine($"| model (Inference's `model` stage) | {models.Count} | {Percentile(models, 0.5):F0} | {Percentile(models, 0.95):F0} | {models.LastOrDefault():F0} |");
Console.WriteLine($"Goal: p95 {Percentile(latencies, 0.95):F0} ms < 1.5 x model p50 + 250 ms = {goal:F0} ms: {(Percentile(latencies, 0.95) < goal ? "met" : "NOT met")}");
await http.DeleteAsync($"/api/v1/cameras/{demo}");
await FacesPerTrackAsync();
return;

async Task FacesPerTrackAsync()
{
    object Policy(string task, int intervalMs) => new { task, interval_ms = intervalMs, min_confidence = task == "person_counting" ? 0.35 : 0.4, motion_gating = true };
    var perTrack = await CreateCameraWithAsync($"faces-track-{Guid.NewGuid():N}"[..20], vtest, Policy("person_counting", 500), Policy("face_recognition", 1000));
    var perFrame = await CreateCameraWithAsync($"faces-frame-{Guid.NewGuid():N}"[..20], vtest, Policy("face_recognition", 1000));
    await WaitAsync(() => pipeline.Statistics(perTrack).Analysed >= 1 && pipeline.Statistics(perFrame).Analysed >= 1, TimeSpan.FromSeconds(60));
    var (track0, frame0) = (pipeline.Statistics(perTrack).FaceCalls, pipeline.Statistics(perFrame).InferenceCalls);
    faceOutcomes.Clear();
    var startedAt = DateTimeOffset.UtcNow;
    var watch = Stopwatch.StartNew();
    await Task.Delay(TimeSpan.FromSeconds(facesSeconds));
    var minutes = watch.Elapsed.TotalMinutes;
    var (track1, frame1) = (pipeline.Statistics(perTrack).FaceCalls, pipeline.Statistics(perFrame).InferenceCalls);
    var stored = (await http.GetFromJsonAsync<JsonObject>($"/api/v1/events?camera_id={perTrack}&limit=500"))!["events"]!.AsArray()
        .Where(e => (long)e!["executed_at"]! >= startedAt.ToUnixTimeMilliseconds()).ToList();
    var entered = stored.Count(e => (string?)e!["event_type"] == "person.entered");
    Console.WriteLine();
    Console.WriteLine($"Faces per track, moving scene (vtest), {facesSeconds} s, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end:");
    Console.WriteLine("| camera's policies | face requests to Inference a minute | people entering a minute |");
    Console.WriteLine("|---|---:|---:|");
    Console.WriteLine($"| face_recognition every 1000 ms (per frame: every face policy before) | {(frame1 - frame0) / minutes:F1} | - |");
    Console.WriteLine($"| person_counting every 500 ms + face_recognition (faces per track) | {(track1 - track0) / minutes:F1} | {entered / minutes:F1} |");
    Console.WriteLine($"Per-track attempts by outcome: {string.Join(", ", faceOutcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}");
    foreach (var id in new[] { perTrack, perFrame })
    {
        await http.DeleteAsync($"/api/v1/cameras/{id}");
    }
}

async Task<int> CreateCameraWithAsync(string name, string url, params object[] policies)
{
    using var response = await http.PostAsJsonAsync("/api/v1/cameras", new { name, rtsp_url = url, ai_policies = policies });
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"camera {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    return (int)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
}

async Task<int> CreateCameraAsync(string name, string url, bool gating)
{
    using var response = await http.PostAsJsonAsync("/api/v1/cameras", new
    {
        name, rtsp_url = url,
        ai_policies = new[] { new { task = "person_counting", interval_ms = 500, min_confidence = 0.35, motion_gating = gating } },
    });
    response.EnsureSuccessStatusCode();
    return (int)(await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!;
}

static Counts Snapshot(PipelineStatistics s) => new(s.Due, s.InferenceCalls, s.Analysed, s.SkippedMotion, s.Dropped);

static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static void Settings(IWebHostBuilder host, Dictionary<string, string> settings)
{
    settings["Logging:LogLevel:Default"] = "Warning";
    foreach (var (key, value) in settings)
    {
        host.UseSetting(key, value);
    }
}

static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
{
    var watch = Stopwatch.StartNew();
    while (!condition())
    {
        if (watch.Elapsed > timeout)
        {
            throw new TimeoutException("bench setup did not reach its state in time");
        }

        await Task.Delay(250);
    }
}

static void Run(string file, params string[] args)
{
    var start = new ProcessStartInfo(file) { RedirectStandardError = true };
    foreach (var arg in args)
    {
        start.ArgumentList.Add(arg);
    }

    using var process = Process.Start(start)!;
    var errors = process.StandardError.ReadToEnd();
    process.WaitForExit();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"{file} failed: {errors}");
    }
}

internal readonly record struct Counts(long Due, long Calls, long Analysed, long Skipped, long Dropped);
