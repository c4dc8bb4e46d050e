// Inference benchmark: stage medians, HTTP /infer latency over loopback and throughput at concurrency 1, 2, 4, for a
// 1280x720 and a 768x576 frame, against the real service hosted on Kestrel. Not a test: it prints a table.
//
//   dotnet run -c Release --project bench/OpenNvr.Inference.Bench [-- --requests 60 --intra-op 1 --task person_counting --annotate]
// --annotate sends "options":{"annotate":true}: the annotate stage (draw, encode, write the annotated image) gets a column.

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenCvSharp;
using OpenNvr.Bench;
using OpenNvr.Inference.Bench;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Inference.Telemetry;

var requests = BenchHost.ArgInt(args, "--requests", 60);
var intraOp = BenchHost.ArgInt(args, "--intra-op", 1);
var task = BenchHost.ArgValue(args, "--task") ?? "person_counting";
var annotate = args.Contains("--annotate");
const string BenchApiKey = "inference-bench-key";
var repoRoot = BenchHost.RepositoryRoot;
using var workFolder = new BenchWorkFolder("opennvr-bench-");
var workRoot = workFolder.Path;
var framesRoot = Path.Combine(workRoot, "frames");
Directory.CreateDirectory(Path.Combine(framesRoot, "bench"));

// 768x576: a real vtest frame. 1280x720: the same frame resized (JPEG quality 95), as a 720p camera would send.
var source = Path.Combine(repoRoot, "testdata", "persons", "vtest_0200.jpg");
File.Copy(source, Path.Combine(framesRoot, "bench", "frame_768x576.jpg"));
using (var original = Cv2.ImRead(source))
using (var hd = original.Resize(new Size(1280, 720), interpolation: InterpolationFlags.Area))
{
    Cv2.ImWrite(Path.Combine(framesRoot, "bench", "frame_1280x720.jpg"), hd, [(int)ImwriteFlags.JpegQuality, 95]);
}

Console.Error.WriteLine("Starting a throw-away PostgreSQL...");
await using var postgres = await BenchHost.StartPostgresAsync(Path.Combine(workRoot, "pg"), "fsync=off");

await using var factory = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
{
    host.UseSetting("ConnectionStrings:inferencedb", postgres.ConnectionString("inferencedb"));
    host.UseSetting("Frames:Root", framesRoot);
    host.UseSetting("Models:Root", Path.Combine(repoRoot, "models"));
    host.UseSetting("Inference:IntraOpThreads", intraOp.ToString(CultureInfo.InvariantCulture));
    host.UseEnvironment("Production");
    // Outside Development Inference is closed without a key: the bench calls it as a client outside OpenNVR would.
    host.UseSetting("Inference:ApiKey", BenchApiKey);
    host.UseSetting("Logging:LogLevel:Default", "Warning");
});
factory.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
factory.StartServer();
var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
// A plain client over the loopback socket: the real HTTP path, not the in-memory test server.
using var http = new HttpClient { BaseAddress = new Uri(address) };
http.DefaultRequestHeaders.Add("X-API-Key", BenchApiKey);
Console.Error.WriteLine($"Inference on Kestrel at {address}");

var stages = new StageCollector(factory.Services.GetRequiredService<IMeterFactory>());

var rows = new List<string>();
foreach (var frame in new[] { "frame_1280x720.jpg", "frame_768x576.jpg" })
{
    var uri = $"opennvr://frames/bench/{frame}";
    for (var i = 0; i < 5; i++)
    {
        await InferAsync(http, task, uri, annotate); // warm-up
    }

    stages.Clear();
    var latencies = new List<double>();
    for (var i = 0; i < requests; i++)
    {
        var started = Stopwatch.GetTimestamp();
        await InferAsync(http, task, uri, annotate);
        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    var decode = stages.Median("decode");
    var preprocess = stages.Median("preprocess");
    var model = stages.Median("model");
    var postprocess = stages.Median("postprocess");
    var drawn = annotate ? F(stages.Median("annotate")) : "-";
    var outside = (decode + preprocess + postprocess) / model * 100;

    var throughput = new Dictionary<int, double>();
    foreach (var concurrency in new[] { 1, 2, 4 })
    {
        throughput[concurrency] = await ThroughputAsync(http, task, uri, annotate, concurrency, requests);
    }

    var size = frame["frame_".Length..^".jpg".Length];
    rows.Add($"| {size} | {F(decode)} | {F(preprocess)} | {F(model)} | {F(postprocess)} | {drawn} | {F(outside, 1)} % | {F(Median(latencies))} | {F(Percentile(latencies, 0.95))} | {F(throughput[1], 1)} | {F(throughput[2], 1)} | {F(throughput[4], 1)} | {F(throughput[2] / throughput[1])}x |");
}

var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
Console.WriteLine($"Machine: {Environment.ProcessorCount} cores ({cpu}), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"Task {task}{(annotate ? " with annotate" : "")}, {requests} requests per measurement, Inference:IntraOpThreads={intraOp}, model centernet.onnx on CPU, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
Console.WriteLine();
Console.WriteLine("| frame | decode ms | preprocess ms | model ms | postprocess ms | annotate ms | outside model / model | HTTP /infer p50 ms | p95 ms | req/s c=1 | req/s c=2 | req/s c=4 | c=2 / c=1 |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
rows.ForEach(Console.WriteLine);

await factory.DisposeAsync();
await postgres.DisposeAsync();
return;

static async Task InferAsync(HttpClient http, string task, string uri, bool annotate)
{
    using var response = await http.PostAsJsonAsync("/infer", annotate
        ? new { task, input = (object)new { frame = new { uri }, options = new { annotate } } }
        : new { task, input = (object)new { frame = new { uri } } });
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"/infer answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    await response.Content.ReadAsByteArrayAsync();
}

static async Task<double> ThroughputAsync(HttpClient http, string task, string uri, bool annotate, int concurrency, int total)
{
    var remaining = total;
    var started = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (Interlocked.Decrement(ref remaining) >= 0)
        {
            await InferAsync(http, task, uri, annotate);
        }
    }));
    return total / Stopwatch.GetElapsedTime(started).TotalSeconds;
}

static double Median(List<double> values) => Percentile(values, 0.5);

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }

    var sorted = values.Order().ToList();
    return sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
}

static string F(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);



namespace OpenNvr.Inference.Bench
{
    /// <summary>Listens to this host's <c>opennvr.inference.duration</c> histogram and keeps the samples per stage.</summary>
    internal sealed class StageCollector : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, List<double>> _samples = [];

        public StageCollector(IMeterFactory meterFactory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Name == InferenceTelemetry.DurationInstrument)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "stage" && tag.Value is string stage)
                    {
                        lock (_samples)
                        {
                            (_samples.TryGetValue(stage, out var list) ? list : _samples[stage] = []).Add(value);
                        }
                    }
                }
            });
            _listener.Start();
        }

        public void Clear()
        {
            lock (_samples)
            {
                _samples.Clear();
            }
        }

        public double Median(string stage)
        {
            lock (_samples)
            {
                if (!_samples.TryGetValue(stage, out var values) || values.Count == 0)
                {
                    return double.NaN;
                }

                var sorted = values.Order().ToList();
                return sorted[sorted.Count / 2];
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
