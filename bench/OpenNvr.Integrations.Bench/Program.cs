using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using Npgsql;
using OpenNvr.Bench;

// Integrations benchmark: the real Core as its own process over a fresh PostgreSQL, ingest of batches of 100 events
// through POST /api/v1/internal/events, once with every integration off and once with MQTT (Core's embedded broker,
// one subscriber of opennvr/events) and one webhook (a local Kestrel receiver answering 204) on. Prints ingest
// throughput and batch latency for both, and the rate at which the events reached the MQTT subscriber and the webhook
// receiver. Run: dotnet run -c Release --project bench/OpenNvr.Integrations.Bench [-- --events 5000 --batch 100]

var events = BenchHost.ArgInt(args, "--events", 5000);
var batch = BenchHost.ArgInt(args, "--batch", 100);
const string AdminPassword = "bench-admin-password-0123";
const string InternalKey = "bench-internal-key-0123456789abcdef";
const string MqttPassword = "bench-mqtt-password-0123";

var root = Path.Combine(Path.GetTempPath(), "opennvr-integrations-bench-" + Guid.NewGuid().ToString("N")[..8]);
await using var postgres = await BenchHost.StartPostgresAsync(root);
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
var results = new List<string>();
try
{
    foreach (var integrations in new[] { false, true, false, true })
    {
        results.Add(await RunAsync(integrations));
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}

Console.WriteLine();
Console.WriteLine($"| integrations | events | ingest events/s | batch p50 ms | batch p99 ms | MQTT events/s (received) | webhook events/s (received) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
foreach (var line in results)
{
    Console.WriteLine(line);
}

Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
return;

async Task<string> RunAsync(bool integrations)
{
    var nvrdb = await postgres.CreateDatabaseAsync("nvrdb_" + Guid.NewGuid().ToString("N")[..8]);
    var corePort = BenchHost.FreePort();
    var brokerPort = BenchHost.FreePort();
    var environment = new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__nvrdb"] = nvrdb,
        ["Auth__AdminPassword"] = AdminPassword,
        ["Auth__JwtSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
        ["ServiceKeys__RecorderCore"] = InternalKey,
        ["Logging__LogLevel__Default"] = "Warning",
    };
    if (integrations)
    {
        environment["Mqtt__Embedded"] = "true";
        environment["Mqtt__EmbeddedPort"] = brokerPort.ToString(CultureInfo.InvariantCulture);
        environment["Mqtt__EmbeddedBindAddress"] = "127.0.0.1";
        environment["Mqtt__Password"] = MqttPassword;
        environment["Mqtt__QueueCapacity"] = (events * 2).ToString(CultureInfo.InvariantCulture);
    }

    using var core = BenchHost.StartProcess("dotnet", [BenchHost.ServiceDll("OpenNvr.Core"), "--urls", $"http://127.0.0.1:{corePort}"], environment, "core");
    await using var receiver = await Receiver.StartAsync();
    IMqttClient? subscriber = null;
    var mqttReceived = new ConcurrentQueue<long>();
    try
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{corePort}") };
        await BenchHost.WaitForAsync(async () => (await http.GetAsync("/health")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(120));
        int cameraId;
        await using (var c = new NpgsqlConnection(nvrdb))
        {
            await c.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO cameras (name, stream_url, is_active, recording_enabled, retention_days, recording_state, created_at, updated_at) " +
                "VALUES ('bench', 'rtsp://10.0.0.1/main', true, true, 30, 'recording', now(), now()) RETURNING id", c);
            cameraId = (int)(await insert.ExecuteScalarAsync())!;
        }

        if (integrations)
        {
            using var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = AdminPassword });
            var token = (string)JsonNode.Parse(await login.Content.ReadAsStringAsync())!["access_token"]!;
            using var hook = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhooks")
            {
                Content = JsonContent.Create(new { url = receiver.Url, secret = "bench-webhook-secret-0123" }),
            };
            hook.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            (await http.SendAsync(hook)).EnsureSuccessStatusCode();

            subscriber = new MqttClientFactory().CreateMqttClient();
            var clock = Stopwatch.StartNew();
            subscriber.ApplicationMessageReceivedAsync += _ =>
            {
                mqttReceived.Enqueue(Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            };
            await BenchHost.WaitForAsync(async () =>
            {
                var result = await subscriber.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", brokerPort)
                    .WithCredentials("opennvr", MqttPassword).Build());
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                {
                    throw new InvalidOperationException(result.ResultCode.ToString());
                }
            }, TimeSpan.FromSeconds(60));
            await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("opennvr/events", MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }

        http.DefaultRequestHeaders.Add("X-Internal-Key", InternalKey);
        var t0 = 1_795_000_000_000L;
        async Task<double> PostBatchAsync(int index)
        {
            var body = new
            {
                events = Enumerable.Range(0, batch).Select(i => new
                {
                    camera_id = cameraId,
                    task = "person_counting",
                    label = "person",
                    count = i % 7,
                    confidence = 0.8,
                    bbox = new[] { new[] { 10, 20, 30, 60 }, new[] { 50, 60, 25, 55 } },
                    executed_at_unix_ms = t0 + (long)index * batch + i,
                    captured_at_unix_ms = t0 + (long)index * batch + i - 120,
                    latency_ms = 35.5,
                    payload = new { task = "person_counting", count = i % 7, detections = new[] { new { bbox = new[] { 10, 20, 30, 60 }, confidence = 0.9 } } },
                }).ToArray(),
            };
            var watch = Stopwatch.StartNew();
            using var response = await http.PostAsJsonAsync("/api/v1/internal/events", body);
            response.EnsureSuccessStatusCode();
            return watch.Elapsed.TotalMilliseconds;
        }

        for (var i = 0; i < 10; i++)
        {
            await PostBatchAsync(-1 - i); // warm-up (not counted by the subscribers' totals below)
        }

        var warmMqtt = mqttReceived.Count;
        await WaitAsync(() => !integrations || mqttReceived.Count >= 10 * batch && receiver.Count >= 10 * batch, TimeSpan.FromSeconds(120));
        warmMqtt = mqttReceived.Count;
        var warmHooks = receiver.Count;

        var latencies = new List<double>();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < events / batch; i++)
        {
            latencies.Add(await PostBatchAsync(i));
        }

        var ingestSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var total = events / batch * batch;
        string mqttRate = "off", hookRate = "off";
        if (integrations)
        {
            await WaitAsync(() => mqttReceived.Count - warmMqtt >= total, TimeSpan.FromSeconds(300));
            var mqttSeconds = Stopwatch.GetElapsedTime(started, mqttReceived.ToArray()[^1]).TotalSeconds;
            mqttRate = $"{total / mqttSeconds:F0} ({mqttReceived.Count - warmMqtt})";
            await WaitAsync(() => receiver.Count - warmHooks >= total, TimeSpan.FromSeconds(600));
            var hookSeconds = Stopwatch.GetElapsedTime(started, receiver.LastAt).TotalSeconds;
            hookRate = $"{total / hookSeconds:F0} ({receiver.Count - warmHooks})";
        }

        latencies.Sort();
        return $"| {(integrations ? "MQTT + 1 webhook" : "off")} | {total} | {total / ingestSeconds:F0} | {latencies[latencies.Count / 2]:F1} | " +
               $"{latencies[(int)(latencies.Count * 0.99)]:F1} | {mqttRate} | {hookRate} |";
    }
    finally
    {
        subscriber?.Dispose();
        core.Kill();
        await core.WaitForExitAsync();
    }
}

static async Task WaitAsync(Func<bool> condition, TimeSpan timeout)
{
    var watch = Stopwatch.StartNew();
    while (!condition())
    {
        if (watch.Elapsed > timeout)
        {
            throw new TimeoutException($"gave up after {timeout.TotalSeconds} s");
        }

        await Task.Delay(20);
    }
}

/// <summary>A webhook receiver answering 204 to every POST, counting them.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;
    private long _lastAt;

    private Receiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public int Count => Volatile.Read(ref _count);

    public long LastAt => Interlocked.Read(ref _lastAt);

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/hook", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            Interlocked.Exchange(ref receiver._lastAt, Stopwatch.GetTimestamp());
            Interlocked.Increment(ref receiver._count);
            return Results.NoContent();
        });
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/hook";
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
