using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Bench;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Auth.UserCheck;
using OpenNvr.Core.Infrastructure;

// Per-request user check benchmark: three Core processes over one PostgreSQL database, identical but for the check:
// off (baseline), on with the 5 s cache (the default), on without a cache (a database read per request). Requests
// to GET /api/v1/cameras go round-robin to the three, so load on a shared machine hits every mode alike; the added
// latency is the difference of each mode's median (and p99) to the baseline's. On a loaded machine that difference
// drowns in noise, so the check itself is also timed in-process (the same code a request runs, over the same
// database): per call, on a warm cache and without a cache.
// Run: dotnet run -c Release --project bench/OpenNvr.Security.Bench [-- --iterations N --cameras N]

var iterations = BenchHost.ArgInt(args, "--iterations", 5000);
var cameraCount = BenchHost.ArgInt(args, "--cameras", 20);
const string AdminPassword = "bench-admin-password-0123";
var started = Stopwatch.StartNew();
var signingKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
(string Name, string Enabled, string CacheSeconds)[] modes =
[
    ("check off (baseline)", "false", "5"),
    ("check on, 5 s cache (default)", "true", "5"),
    ("check on, no cache", "true", "0"),
];

var root = Path.Combine(Path.GetTempPath(), "opennvr-security-bench-" + Guid.NewGuid().ToString("N")[..8]);
await using var postgres = await BenchHost.StartPostgresAsync(root);
var cores = new List<Process>();
try
{
    var nvrdb = await postgres.CreateDatabaseAsync("nvrdb");
    var coreDll = BenchHost.ServiceDll("OpenNvr.Core");
    var clients = new List<HttpClient>();
    foreach (var (name, enabled, cacheSeconds) in modes)
    {
        var port = BenchHost.FreePort();
        cores.Add(BenchHost.StartProcess("dotnet", [coreDll, "--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__nvrdb"] = nvrdb,
            ["Auth__AdminPassword"] = AdminPassword,
            ["Auth__JwtSigningKey"] = signingKey,
            ["Auth__LoginPermitsPerMinute"] = "1000",
            ["Auth__UserCheck__Enabled"] = enabled,
            ["Auth__UserCheck__CacheSeconds"] = cacheSeconds,
            ["Logging__LogLevel__Default"] = "Warning",
        }, $"core:{name}"));
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await BenchHost.WaitForAsync(async () => (await client.GetAsync("/health")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(300));
        clients.Add(client);
    }

    // One login is valid on every replica (same key): the same token, the same user, the same cameras everywhere.
    using var login = await clients[0].PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = AdminPassword });
    var token = (string)JsonNode.Parse(await login.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!["access_token"]!;
    foreach (var client in clients)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    for (var i = 0; i < cameraCount; i++)
    {
        (await clients[0].PostAsJsonAsync("/api/v1/cameras", new { name = $"bench-{i}", rtsp_url = $"rtsp://user:secret@10.0.0.{i + 1}/main" })).EnsureSuccessStatusCode();
    }

    Console.WriteLine($"PostgreSQL on {postgres.Port}; {modes.Length} Core processes; {cameraCount} cameras; {iterations} requests per mode");
    var samples = modes.Select(_ => new List<double>(iterations)).ToArray();
    for (var i = 0; i < iterations + 300; i++)
    {
        for (var m = 0; m < modes.Length; m++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await clients[m].GetAsync("/api/v1/cameras");
            var body = await response.Content.ReadAsStringAsync();
            var elapsed = watch.Elapsed.TotalMilliseconds;
            if (!response.IsSuccessStatusCode || (int)JsonNode.Parse(body)!["total"]! != cameraCount)
            {
                throw new InvalidOperationException($"{modes[m].Name}: {(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}");
            }

            if (i >= 300)
            {
                samples[m].Add(elapsed);
            }
        }
    }

    double Percentile(List<double> values, double p) => values[(int)Math.Ceiling(values.Count * p) - 1];
    foreach (var list in samples)
    {
        list.Sort();
    }

    var baseP50 = Percentile(samples[0], 0.5);
    var baseP99 = Percentile(samples[0], 0.99);
    Console.WriteLine();
    Console.WriteLine("| GET /api/v1/cameras | samples | p50 ms | p99 ms | added p50 ms | added p99 ms |");
    Console.WriteLine("|---|---|---|---|---|---|");
    for (var m = 0; m < modes.Length; m++)
    {
        var p50 = Percentile(samples[m], 0.5);
        var p99 = Percentile(samples[m], 0.99);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {modes[m].Name} | {samples[m].Count} | {p50:F3} | {p99:F3} | {(m == 0 ? "" : (p50 - baseP50).ToString("+0.000;-0.000", CultureInfo.InvariantCulture))} | {(m == 0 ? "" : (p99 - baseP99).ToString("+0.000;-0.000", CultureInfo.InvariantCulture))} |"));
    }

    // In-process: the check as the JWT handler runs it, for the admin's token, in batches of 1000 calls.
    var admin = new JsonWebTokenReader(token);
    await using var db = new NvrDbContext(new DbContextOptionsBuilder<NvrDbContext>().UseNpgsql(nvrdb).UseSnakeCaseNamingConvention().Options);
    Console.WriteLine();
    Console.WriteLine("| user check, in-process | calls | p50 µs/call | p99 µs/call |");
    Console.WriteLine("|---|---|---|---|");
    foreach (var (label, cacheSeconds, batches, perBatch) in new[] { ("warm 5 s cache", 5.0, 1000, 1000), ("no cache (a database read)", 0.0, 200, 10) })
    {
        var options = Options.Create(new UserCheckOptions { CacheSeconds = cacheSeconds });
        var check = new UserCheck(new UserStandingCache(TimeProvider.System, options), options, TimeProvider.System);
        if (await check.CheckAsync(admin.Principal, db, CancellationToken.None) is { } refusal)
        {
            throw new InvalidOperationException("the admin's token was refused: " + refusal.Message);
        }

        var perCall = new List<double>(batches);
        for (var b = 0; b < batches; b++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < perBatch; i++)
            {
                await check.CheckAsync(admin.Principal, db, CancellationToken.None);
            }

            perCall.Add(watch.Elapsed.TotalMicroseconds / perBatch);
        }

        perCall.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {batches * perBatch} | {Percentile(perCall, 0.5):F2} | {Percentile(perCall, 0.99):F2} |"));
    }

    Console.WriteLine();
    var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
    Console.WriteLine($"Total bench time {started.Elapsed.TotalSeconds:F0} s ({Environment.ProcessorCount} cores, load average at the end: {load}).");
}
finally
{
    foreach (var core in cores.Where(c => !c.HasExited))
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

/// <summary>The claims of an access token, as the JWT handler hands them to the user check.</summary>
internal sealed class JsonWebTokenReader(string token)
{
    public ClaimsPrincipal Principal { get; } = new(new ClaimsIdentity(
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Claims, "bench", TokenClaims.Name, TokenClaims.Role));
}
