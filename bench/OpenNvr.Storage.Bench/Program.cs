using System.Diagnostics;
using System.Globalization;
using OpenNvr.Bench;
using OpenNvr.Storage;

// The recording store's two backends side by side on real chunks: verified upload time and ranged-read latency
// (what Core's playback asks of the store: the init segment, a fragment-sized range, a whole chunk).
// dotnet run -c Release --project bench/OpenNvr.Storage.Bench [-- --reads 300]
var reads = BenchHost.ArgInt(args, "--reads", 300);
var work = Directory.CreateTempSubdirectory("opennvr-bench-storage-").FullName;
Process? azurite = null;
try
{
    var chunks = await CutChunksAsync(Path.Combine(BenchHost.RepositoryRoot, "testdata", "video", "vtest.mp4"), Path.Combine(work, "chunks"));
    Console.Error.WriteLine($"{chunks.Count} real 10 s chunks of vtest.mp4, {chunks.Average(c => new FileInfo(c).Length) / 1024:F0} KB on average");
    (azurite, var connectionString) = await BenchHost.StartAzuriteAsync(Path.Combine(work, "azurite"));
    var stores = new (string Name, IRecordingStore Store)[]
    {
        ("filesystem", new FileSystemRecordingStore(Path.Combine(work, "store"))),
        ("azureblob (Azurite)", StorageServiceCollectionExtensions.Create(new StorageOptions
        {
            Provider = StorageProviders.AzureBlob, ConnectionString = connectionString, Container = "bench",
        })),
    };

    Console.WriteLine($"Load at start: {File.ReadAllText("/proc/loadavg").Trim()}");
    Console.WriteLine();
    Console.WriteLine("| store | verified upload p50 | p95 | init 4 KB read p50 | p99 | 256 KB range p50 | p99 | whole chunk p50 | p99 |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
    foreach (var (name, store) in stores)
    {
        // Warm-up: connection, container creation, JIT.
        await store.UploadFileAsync("warm/up.mp4", chunks[0]);
        await ReadAsync(store, "warm/up.mp4", 0, 4096);

        var uploads = new List<double>();
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await store.UploadFileAsync(Key(round * chunks.Count + i), chunks[i]);
                uploads.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        var keys = Enumerable.Range(0, 4 * chunks.Count).Select(Key).ToList();
        var sizes = keys.ToDictionary(k => k, k => new FileInfo(chunks[int.Parse(k.Split('/')[^1][..2], CultureInfo.InvariantCulture) % chunks.Count]).Length);
        var random = new Random(7);
        var head = new List<double>();
        var range = new List<double>();
        var whole = new List<double>();
        for (var i = 0; i < reads; i++)
        {
            var key = keys[random.Next(keys.Count)];
            head.Add(await ReadAsync(store, key, 0, 4096));
            var offset = random.NextInt64(0, Math.Max(1, sizes[key] - 256 * 1024));
            range.Add(await ReadAsync(store, key, offset, 256 * 1024));
            whole.Add(await ReadAsync(store, key, 0, null));
        }

        Console.WriteLine($"| {name} | {P(uploads, 50)} | {P(uploads, 95)} | {P(head, 50)} | {P(head, 99)} | {P(range, 50)} | {P(range, 99)} | {P(whole, 50)} | {P(whole, 99)} |");
    }

    Console.WriteLine();
    Console.WriteLine($"Load at end: {File.ReadAllText("/proc/loadavg").Trim()}; {reads} reads of each kind per store, sequential; times to the last byte.");
}
finally
{
    if (azurite is { HasExited: false })
    {
        azurite.Kill();
        await azurite.WaitForExitAsync();
    }

    Directory.Delete(work, recursive: true);
}

static string Key(int i) => $"1/2026-11-27/13/{i % 100:D2}-{i / 100:D2}.mp4";

static string P(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    var value = sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
    return value.ToString("F1", CultureInfo.InvariantCulture) + " ms";
}

static async Task<double> ReadAsync(IRecordingStore store, string key, long offset, long? length)
{
    var started = Stopwatch.GetTimestamp();
    await using var stream = await store.OpenReadAsync(key, offset, length) ?? throw new InvalidOperationException($"{key} is missing");
    var buffer = new byte[81920];
    while (await stream.ReadAsync(buffer) > 0)
    {
    }

    return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

// Real chunks as the Recorder makes them: stream copy into fragmented MP4, cut at keyframes every 10 s.
static async Task<List<string>> CutChunksAsync(string clip, string folder)
{
    Directory.CreateDirectory(folder);
    using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg",
    [
        "-v", "error", "-i", clip, "-map", "0:v:0", "-c", "copy", "-f", "segment", "-segment_time", "10", "-segment_format", "mp4",
        "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof", "-reset_timestamps", "1",
        Path.Combine(folder, "%02d.mp4"),
    ]) { RedirectStandardError = true })!;
    var errors = await ffmpeg.StandardError.ReadToEndAsync();
    await ffmpeg.WaitForExitAsync();
    return ffmpeg.ExitCode == 0
        ? Directory.GetFiles(folder, "*.mp4").Order(StringComparer.Ordinal).ToList()
        : throw new InvalidOperationException("ffmpeg: " + errors);
}
