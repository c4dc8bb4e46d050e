using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using OpenNvr.Bench;

// Core benchmark: a fresh PostgreSQL cluster, the real Core as its own process over HTTP, 1,000,000 recording rows
// over 50 cameras and 1,000,000 events; prints median and p99 of the one-hour window query and of events/latest,
// and the ingest throughput in batches of 100. Run: dotnet run -c Release --project bench/OpenNvr.Core.Bench [-- --rows N]

var recordingRows = BenchHost.ArgInt(args, "--rows", 1_000_000);
var eventRows = BenchHost.ArgInt(args, "--events", 1_000_000);
var iterations = BenchHost.ArgInt(args, "--iterations", 500);
const int Cameras = 50;
const double ChunkSeconds = 10;
const string AdminPassword = "bench-admin-password-0123";
const string InternalKey = "bench-internal-key-0123456789abcdef";
var started = Stopwatch.StartNew();

var root = Path.Combine(Path.GetTempPath(), "opennvr-core-bench-" + Guid.NewGuid().ToString("N")[..8]);
await using var postgres = await BenchHost.StartPostgresAsync(root);
Process? core = null;
try
{
    var nvrdb = await postgres.CreateDatabaseAsync("nvrdb");
    var corePort = BenchHost.FreePort();
    var coreDll = BenchHost.ServiceDll("OpenNvr.Core");
    Console.WriteLine($"PostgreSQL on {postgres.Port}, Core ({coreDll}) on {corePort}");
    core = BenchHost.StartProcess("dotnet", [coreDll, "--urls", $"http://127.0.0.1:{corePort}"], new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["ConnectionStrings__nvrdb"] = nvrdb,
        ["Auth__AdminPassword"] = AdminPassword,
        ["Auth__JwtSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)),
        ["ServiceKeys__RecorderCore"] = InternalKey,
        ["Logging__LogLevel__Default"] = "Warning",
    }, "core");
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{corePort}") };
    await BenchHost.WaitForAsync(async () => (await http.GetAsync("/health")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(60));

    // Seed through binary COPY (what a year of Recorder traffic would have left behind).
    var seedWatch = Stopwatch.StartNew();
    var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    var chunksPerCamera = recordingRows / Cameras;
    await using (var c = new NpgsqlConnection(nvrdb))
    {
        await c.OpenAsync();
        await using (var cams = await c.BeginBinaryImportAsync(
            "COPY cameras (id, name, stream_url, is_active, recording_enabled, retention_days, recording_state, created_at, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var id = 1; id <= Cameras; id++)
            {
                await cams.WriteRowAsync(default, id, $"bench-{id}", $"rtsp://10.0.0.{id}/main", true, true, 30, "recording", t0, t0);
            }

            await cams.CompleteAsync();
        }

        await new NpgsqlCommand($"SELECT setval(pg_get_serial_sequence('cameras', 'id'), {Cameras})", c).ExecuteNonQueryAsync();
        await using (var rec = await c.BeginBinaryImportAsync(
            "COPY recordings (camera_id, path, start_at, end_at, duration_s, size_bytes, codec, width, height, is_evidence, created_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < chunksPerCamera; i++)
            {
                for (var cam = 1; cam <= Cameras; cam++)
                {
                    var start = t0.AddSeconds(i * ChunkSeconds);
                    await rec.StartRowAsync();
                    await rec.WriteAsync(cam, NpgsqlDbType.Integer);
                    await rec.WriteAsync($"{cam}/{start:yyyy-MM-dd/HH/mm-ss}.mp4", NpgsqlDbType.Varchar);
                    await rec.WriteAsync(start, NpgsqlDbType.TimestampTz);
                    await rec.WriteAsync(start.AddSeconds(ChunkSeconds), NpgsqlDbType.TimestampTz);
                    await rec.WriteAsync(ChunkSeconds, NpgsqlDbType.Double);
                    await rec.WriteAsync(1_250_000L, NpgsqlDbType.Bigint);
                    await rec.WriteAsync("h264", NpgsqlDbType.Varchar);
                    await rec.WriteAsync(1280, NpgsqlDbType.Integer);
                    await rec.WriteAsync(720, NpgsqlDbType.Integer);
                    await rec.WriteAsync(false, NpgsqlDbType.Boolean);
                    await rec.WriteAsync(start, NpgsqlDbType.TimestampTz);
                }
            }

            await rec.CompleteAsync();
        }

        string[] tasks = ["person_counting", "object_detection", "face_detection", "person_detection"];
        string[] labels = ["person", "car", "face", "dog", "bicycle"];
        var span = chunksPerCamera * ChunkSeconds;
        await using (var ev = await c.BeginBinaryImportAsync(
            "COPY events (camera_id, task, label, count, confidence, bbox, executed_at, latency_ms, trace_id, payload, inserted_at) FROM STDIN (FORMAT BINARY)"))
        {
            var random = new Random(7);
            for (var i = 0; i < eventRows; i++)
            {
                var at = t0.AddSeconds(span * i / eventRows);
                var task = tasks[i / Cameras % tasks.Length];
                await ev.StartRowAsync();
                await ev.WriteAsync(1 + i % Cameras, NpgsqlDbType.Integer);
                await ev.WriteAsync(task, NpgsqlDbType.Varchar);
                await ev.WriteAsync(labels[random.Next(labels.Length)], NpgsqlDbType.Varchar);
                await ev.WriteAsync(random.Next(0, 6), NpgsqlDbType.Integer);
                await ev.WriteAsync(random.NextDouble(), NpgsqlDbType.Double);
                await ev.WriteAsync("[[10,20,30,40]]", NpgsqlDbType.Jsonb);
                await ev.WriteAsync(at, NpgsqlDbType.TimestampTz);
                await ev.WriteAsync(40 + random.NextDouble() * 40, NpgsqlDbType.Double);
                await ev.WriteAsync(Guid.NewGuid().ToString("N"), NpgsqlDbType.Varchar);
                await ev.WriteAsync($$"""{"task":"{{task}}","count":2,"detections":[{"bbox":[10,20,30,40],"confidence":0.8}]}""", NpgsqlDbType.Jsonb);
                await ev.WriteAsync(at, NpgsqlDbType.TimestampTz);
            }

            await ev.CompleteAsync();
        }

        await new NpgsqlCommand("ANALYZE", c).ExecuteNonQueryAsync();
    }

    Console.WriteLine($"Seeded {recordingRows:N0} recordings over {Cameras} cameras and {eventRows:N0} events in {seedWatch.Elapsed.TotalSeconds:F1} s");

    using var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = AdminPassword });
    var token = (string)JsonNode.Parse(await login.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!["access_token"]!;
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

    var rows = new List<string[]>();
    var rng = new Random(11);
    var lastHourStart = t0.ToUnixTimeSeconds() + chunksPerCamera * ChunkSeconds - 3600;

    rows.Add(await MeasureAsync("GET /api/v1/recordings/{cam}?1-hour window (360 chunks)", iterations, () =>
    {
        var start = t0.ToUnixTimeSeconds() + rng.NextDouble() * (lastHourStart - t0.ToUnixTimeSeconds());
        return $"/api/v1/recordings/{rng.Next(1, Cameras + 1)}?start_unix={start.ToString(CultureInfo.InvariantCulture)}&end_unix={(start + 3600).ToString(CultureInfo.InvariantCulture)}";
    }, body => JsonNode.Parse(body)!["recordings"]!.AsArray().Count is >= 359 and <= 361));
    rows.Add(await MeasureAsync("GET /api/v1/events/latest (limit 50)", iterations, () => "/api/v1/events/latest", body => (int)JsonNode.Parse(body)!["count"]! == 50));
    rows.Add(await MeasureAsync("GET /api/v1/events/latest?camera_id&task (limit 50)", iterations,
        () => $"/api/v1/events/latest?camera_id={rng.Next(1, Cameras + 1)}&task=person_counting", body => (int)JsonNode.Parse(body)!["count"]! > 0));
    rows.Add(await MeasureAsync("GET /api/v1/events?label&start_unix&end_unix (limit 100)", iterations, () =>
    {
        var start = t0.ToUnixTimeSeconds() + rng.NextDouble() * (lastHourStart - t0.ToUnixTimeSeconds());
        return $"/api/v1/events?label=car&start_unix={start.ToString(CultureInfo.InvariantCulture)}&end_unix={(start + 86_400).ToString(CultureInfo.InvariantCulture)}&limit=100";
    }, _ => true));

    // Ingest: batches of 100 through the real endpoint, sequential and with 4 concurrent senders.
    using var ingestClient = new HttpClient { BaseAddress = http.BaseAddress };
    ingestClient.DefaultRequestHeaders.Add("X-Internal-Key", InternalKey);
    string Batch(int seed)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var events = new JsonArray();
        for (var i = 0; i < 100; i++)
        {
            events.Add(new JsonObject
            {
                ["camera_id"] = 1 + (seed + i) % Cameras, ["task"] = "person_counting", ["label"] = "person", ["count"] = 2,
                ["confidence"] = 0.8, ["bbox"] = new JsonArray(new JsonArray(10, 20, 30, 40), new JsonArray(50, 60, 70, 80)),
                ["executed_at_unix_ms"] = now, ["captured_at_unix_ms"] = now - 60, ["latency_ms"] = 55.5,
                ["trace_id"] = Guid.NewGuid().ToString("N"),
                ["payload"] = JsonNode.Parse("""{"task":"person_counting","count":2,"confidence":0.8,"detections":[{"bbox":[10,20,30,40],"confidence":0.9,"track_id":null},{"bbox":[50,60,70,80],"confidence":0.7,"track_id":null}],"latency_ms":55.5}"""),
            });
        }

        return new JsonObject { ["events"] = events }.ToJsonString();
    }

    for (var i = 0; i < 10; i++)
    {
        (await ingestClient.PostAsync("/api/v1/internal/events", new StringContent(Batch(i), System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
    }

    foreach (var senders in new[] { 1, 4 })
    {
        const int batchesPerSender = 100;
        var bodies = Enumerable.Range(0, senders * batchesPerSender).Select(Batch).ToArray();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(async s =>
        {
            for (var b = 0; b < batchesPerSender; b++)
            {
                using var response = await ingestClient.PostAsync("/api/v1/internal/events",
                    new StringContent(bodies[s * batchesPerSender + b], System.Text.Encoding.UTF8, "application/json"));
                response.EnsureSuccessStatusCode();
            }
        }));
        var perSecond = senders * batchesPerSender * 100 / watch.Elapsed.TotalSeconds;
        rows.Add([$"POST /api/v1/internal/events, batches of 100, {senders} sender(s)", $"{senders * batchesPerSender * 100:N0} events", "", "",
            $"{perSecond:N0} events/s"]);
    }

    Console.WriteLine();
    Console.WriteLine("| operation | samples | median ms | p99 ms | throughput |");
    Console.WriteLine("|---|---|---|---|---|");
    foreach (var row in rows)
    {
        Console.WriteLine($"| {string.Join(" | ", row)} |");
    }

    Console.WriteLine();
    // The machine may be shared: the load average says how much the tail latencies are worth.
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
    Console.WriteLine($"Total bench time {started.Elapsed.TotalSeconds:F0} s ({Environment.ProcessorCount} cores, load average at the end: {load}).");

    async Task<string[]> MeasureAsync(string name, int count, Func<string> url, Func<string, bool> check)
    {
        for (var i = 0; i < 30; i++)
        {
            (await http.GetAsync(url())).EnsureSuccessStatusCode();
        }

        var samples = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var requestUrl = url();
            var watch = Stopwatch.StartNew();
            using var response = await http.GetAsync(requestUrl);
            var body = await response.Content.ReadAsStringAsync();
            samples.Add(watch.Elapsed.TotalMilliseconds);
            if (!response.IsSuccessStatusCode || !check(body))
            {
                throw new InvalidOperationException($"{requestUrl}: {(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}");
            }
        }

        samples.Sort();
        var median = samples[samples.Count / 2];
        var p99 = samples[(int)Math.Ceiling(samples.Count * 0.99) - 1];
        return [name, count.ToString(CultureInfo.InvariantCulture), median.ToString("F2", CultureInfo.InvariantCulture), p99.ToString("F2", CultureInfo.InvariantCulture),
            $"{1000 / samples.Average():N0} req/s sequential"];
    }
}
finally
{
    if (core is { HasExited: false })
    {
        core.Kill(entireProcessTree: true);
        await core.WaitForExitAsync();
    }

    await postgres.DisposeAsync();

    try
    {
        Directory.Delete(root, recursive: true);
    }
    catch (IOException)
    {
    }
}
