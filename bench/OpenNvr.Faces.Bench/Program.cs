// Faces benchmark: per-stage latency of the face pipeline on real photos (detection per frame; landmarks, alignment,
// embedding and age/gender per face) and search time of the face index over 1,000, 10,000 and 100,000 synthetic
// identities (512-d unit vectors). Not a test: it prints tables for BENCHMARKS.md.
//
//   dotnet run -c Release --project bench/OpenNvr.Faces.Bench [-- --runs 30 --queries 200]

using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenCvSharp;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Telemetry;

var runs = IntArg("--runs", 30);
var queries = IntArg("--queries", 200);
var repoRoot = FindRepositoryRoot();

using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
using var telemetry = new InferenceTelemetry(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
using var models = new OnnxModelRegistry(Options.Create(new InferenceOptions { IntraOpThreads = 1 }),
    Options.Create(new ModelsOptions { Root = Path.Combine(repoRoot, "models") }), NullLogger<OnnxModelRegistry>.Instance);
var options = new FacesOptions();
var detector = new UltraFaceDetector(models.Get("fr_detect.onnx")!);
var landmarker = new FaceLandmarker(models.Get("fr_landmark.onnx")!);
var embedder = new BundledFaceEmbedder(models.Get("fr_feature.onnx")!);
var attributes = new AgeGenderEstimator(models.Get("fr_age.onnx"), models.Get("fr_gender.onnx"));

Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, load average {LoadAverage()}, .NET {Environment.Version}, ONNX Runtime intra-op threads 1");
Console.WriteLine();
Console.WriteLine("| frame | faces | detect ms/frame | landmarks ms/face | align ms/face | embed ms/face | age+gender ms/face | detect + landmarks + align + embed, ms per face |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
foreach (var (label, path) in new[]
{
    ("grace_hopper.jpg 512x600", Path.Combine(repoRoot, "testdata", "persons", "grace_hopper.jpg")),
    ("2007_007763.jpg 500x375", Path.Combine(repoRoot, "testdata", "faces", "pascal", "2007_007763.jpg")),
    ("bald_guys.jpg 1986x1545", Path.Combine(repoRoot, "testdata", "faces", "bald_guys.jpg")),
})
{
    using var frame = Cv2.ImRead(path);
    var detect = new List<double>();
    var landmarks = new List<double>();
    var align = new List<double>();
    var embed = new List<double>();
    var ageGender = new List<double>();
    var faceCount = 0;
    for (var run = -3; run < runs; run++)
    {
        var started = Stopwatch.GetTimestamp();
        var faces = detector.Detect(frame, options.DetectionThreshold, options.NmsIouThreshold);
        var detectMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        faceCount = faces.Count;
        foreach (var face in faces)
        {
            started = Stopwatch.GetTimestamp();
            var points = FaceLandmarker.ToFivePoints(landmarker.Detect68(frame, face));
            var landmarkMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            started = Stopwatch.GetTimestamp();
            using var aligned = FaceAlignment.Align(frame, points);
            var alignMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            started = Stopwatch.GetTimestamp();
            embedder.Embed(aligned);
            var embedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            started = Stopwatch.GetTimestamp();
            attributes.Estimate(frame, face);
            var attributesMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (run >= 0)
            {
                landmarks.Add(landmarkMs);
                align.Add(alignMs);
                embed.Add(embedMs);
                ageGender.Add(attributesMs);
            }
        }

        if (run >= 0)
        {
            detect.Add(detectMs);
        }
    }

    var perFace = Median(detect) / Math.Max(1, faceCount) + Median(landmarks) + Median(align) + Median(embed);
    Console.WriteLine($"| {label} | {faceCount} | {F(Median(detect))} | {F(Median(landmarks))} | {F(Median(align))} | {F(Median(embed))} | {F(Median(ageGender))} | {F(perFace)} |");
}

Console.WriteLine();
Console.WriteLine("| identities | index memory MB | search p50 ms | search p99 ms | exact float scan p50 ms | same answer as the exact scan |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
var random = new Random(1234);
foreach (var size in new[] { 1_000, 10_000, 100_000 })
{
    var index = new FaceIndex(512, size);
    var stored = new float[size][];
    for (var i = 0; i < size; i++)
    {
        stored[i] = RandomUnit(random);
        index.Set($"p{i}", new IndexedIdentity($"p{i}", $"Person {i}", FaceCategories.All[i % 5]), [stored[i]]);
    }

    var fast = new List<double>();
    var exact = new List<double>();
    var agree = 0;
    for (var q = -5; q < queries; q++)
    {
        // Half the queries are a second photo of a stored person (similarity ~0.6), half a stranger.
        var query = q % 2 == 0 ? Near(stored[random.Next(size)], 0.6f, random) : RandomUnit(random);
        var started = Stopwatch.GetTimestamp();
        var found = index.Search(query, options.MatchThreshold, limit: 1);
        var fastMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        started = Stopwatch.GetTimestamp();
        var reference = index.SearchExact(query, options.MatchThreshold, limit: 1);
        var exactMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (q < 0)
        {
            continue;
        }

        fast.Add(fastMs);
        exact.Add(exactMs);
        agree += found.Select(m => m.Identity.PersonId).SequenceEqual(reference.Select(m => m.Identity.PersonId)) ? 1 : 0;
    }

    var memoryMb = size * 512 * (4 + 1) / 1e6;
    Console.WriteLine($"| {size:N0} | {F(memoryMb, 0)} | {F(Median(fast))} | {F(Percentile(fast, 0.99))} | {F(Median(exact))} | {agree}/{queries} |");
}

static float[] RandomUnit(Random random)
{
    var v = new float[512];
    for (var i = 0; i < v.Length; i++)
    {
        v[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
    }

    return FaceTensors.L2Normalise(v);
}

static float[] Near(float[] v, float similarity, Random random)
{
    var noise = RandomUnit(random);
    var mixed = new float[v.Length];
    for (var i = 0; i < v.Length; i++)
    {
        mixed[i] = similarity * v[i] + MathF.Sqrt(1 - similarity * similarity) * noise[i];
    }

    return FaceTensors.L2Normalise(mixed);
}

static double Median(List<double> values) => Percentile(values, 0.5);

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return 0;
    }

    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

static string F(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

int IntArg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
}

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "OpenNvr.sln")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("OpenNvr.sln not found above the bench binaries.");
}
