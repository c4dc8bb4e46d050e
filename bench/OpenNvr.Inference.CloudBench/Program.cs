// Cloud-routing benchmark: what the adapter adds around a Hugging Face call, measured against a stand-in that answers
// instantly on loopback (so the figures are the adapter's own cost: frame read, Refit request, resilience pipeline,
// two loopback HTTP hops, normalisation), and how fast an open circuit refuses. Not a test: it prints a table.
//
//   dotnet run -c Release --project bench/OpenNvr.Inference.CloudBench [-- --requests 200]

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenNvr.Bench;
using OpenNvr.Inference.Infrastructure;

const string Token = "hf_bench_token";
const string Detr = """[{"score":0.9987,"label":"person","box":{"xmin":10,"ymin":20,"xmax":110,"ymax":220}},{"score":0.9412,"label":"person","box":{"xmin":120,"ymin":40,"xmax":301,"ymax":470}}]""";

var requests = BenchHost.ArgInt(args, "--requests", 200);
var repoRoot = BenchHost.RepositoryRoot;
var workRoot = Path.Combine(Path.GetTempPath(), "opennvr-cloudbench-" + Guid.NewGuid().ToString("N")[..8]);
var framesRoot = Path.Combine(workRoot, "frames");
Directory.CreateDirectory(Path.Combine(framesRoot, "bench"));
File.Copy(Path.Combine(repoRoot, "testdata", "persons", "vtest_0200.jpg"), Path.Combine(framesRoot, "bench", "frame.jpg"));

// The stand-in: "instant/*" answers DETR detections at once, "failing/*" answers 500.
var fakeBuilder = WebApplication.CreateSlimBuilder();
fakeBuilder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
fakeBuilder.Logging.ClearProviders();
await using var fake = fakeBuilder.Build();
fake.MapPost("/models/{**model}", async (string model, HttpContext http) =>
{
    await http.Request.Body.CopyToAsync(Stream.Null);
    return model.StartsWith("failing/", StringComparison.Ordinal)
        ? Results.Json(new { error = "Internal Server Error" }, statusCode: 500)
        : Results.Content(Detr, "application/json");
});
await fake.StartAsync();
var fakeUrl = fake.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

Console.Error.WriteLine("Starting a throw-away PostgreSQL...");
var postgres = await BenchHost.StartPostgresAsync(Path.Combine(workRoot, "pg"), "fsync=off");
await using var factory = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
{
    host.UseSetting("ConnectionStrings:inferencedb", postgres.ConnectionString("inferencedb"));
    host.UseSetting("Frames:Root", framesRoot);
    host.UseSetting("Models:Root", Path.Combine(repoRoot, "models"));
    host.UseSetting("HuggingFace:BaseUrl", fakeUrl);
    host.UseSetting("HuggingFace:Token", Token);
    host.UseSetting("HuggingFace:MaxRetries", "0");
    host.UseSetting("HuggingFace:CircuitMinimumThroughput", "2");
    host.UseSetting("HuggingFace:CircuitBreakSeconds", "600");
    host.UseEnvironment("Production");
    host.UseSetting("Logging:LogLevel:Default", "Critical"); // the open-circuit row logs a warning per call
});
factory.UseKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0));
factory.StartServer();
var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
using var http = new HttpClient { BaseAddress = new Uri(address) };

var rows = new List<string>();
const string Uri = "opennvr://frames/bench/frame.jpg";

// Direct call to the stand-in (same bytes, same loopback): the floor the adapter's figures sit on.
var frameBytes = await File.ReadAllBytesAsync(Path.Combine(framesRoot, "bench", "frame.jpg"));
using var direct = new HttpClient { BaseAddress = new Uri(fakeUrl) };
var directLatencies = await MeasureAsync(requests, async () =>
{
    using var content = new ByteArrayContent(frameBytes);
    content.Headers.ContentType = new("image/jpeg");
    using var response = await direct.PostAsync("/models/instant/direct", content);
    await response.Content.ReadAsByteArrayAsync();
});
rows.Add(Row("stand-in called directly (no adapter)", directLatencies, 200));

var cloud = await MeasureAsync(requests, () => InferAsync(http, "object_detection_detr", Uri, "instant/detr", 200));
rows.Add(Row("/infer object_detection_detr, raw-bytes body", cloud, 200));

var withParameters = await MeasureAsync(requests, () => InferAsync(http, "object_detection_detr", Uri, "instant/detr", 200, new { threshold = 0.9 }));
rows.Add(Row("/infer object_detection_detr, JSON body with parameters", withParameters, 200));

// Two 500s open the circuit of this model (MaxRetries 0, minimum throughput 2); later calls are refused locally.
await InferAsync(http, "object_detection_detr", Uri, "failing/model", 502);
await InferAsync(http, "object_detection_detr", Uri, "failing/model", 502);
var open = await MeasureAsync(requests, () => InferAsync(http, "object_detection_detr", Uri, "failing/model", 503));
rows.Add(Row("/infer with the model's circuit open (503)", open, 503));

var throughput = new List<string>();
foreach (var concurrency in new[] { 1, 4 })
{
    var remaining = requests;
    var started = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (Interlocked.Decrement(ref remaining) >= 0)
        {
            await InferAsync(http, "object_detection_detr", Uri, "instant/detr", 200);
        }
    }));
    throughput.Add($"c={concurrency}: {F(requests / Stopwatch.GetElapsedTime(started).TotalSeconds, 1)} req/s");
}

var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
Console.WriteLine($"Machine: {Environment.ProcessorCount} cores ({cpu}), load average {load}, .NET {Environment.Version}");
Console.WriteLine($"Frame 768x576 JPEG ({frameBytes.Length} bytes), {requests} requests per row after 10 warm-up calls");
Console.WriteLine();
Console.WriteLine("| path | p50 ms | p95 ms | max ms |");
Console.WriteLine("|---|---:|---:|---:|");
rows.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine("Throughput of object_detection_detr against the stand-in: " + string.Join(", ", throughput));

await factory.DisposeAsync();
await postgres.DisposeAsync();
Directory.Delete(workRoot, recursive: true);
return;

static async Task InferAsync(HttpClient http, string task, string uri, string model, int expected, object? parameters = null)
{
    using var response = await http.PostAsJsonAsync("/infer", new { task, input_data = new { model_name = model, inputs = new { image = uri }, parameters } });
    var body = await response.Content.ReadAsStringAsync();
    if ((int)response.StatusCode != expected)
    {
        throw new InvalidOperationException($"/infer answered {(int)response.StatusCode}, expected {expected}: {body}");
    }
}

static async Task<List<double>> MeasureAsync(int count, Func<Task> call)
{
    for (var i = 0; i < 10; i++)
    {
        await call();
    }

    var latencies = new List<double>(count);
    for (var i = 0; i < count; i++)
    {
        var started = Stopwatch.GetTimestamp();
        await call();
        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    return latencies;
}

static string Row(string path, List<double> latencies, int status) =>
    $"| {path} | {F(Percentile(latencies, 0.5))} | {F(Percentile(latencies, 0.95))} | {F(latencies.Max())} |";

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
}

static string F(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

