// Tracking and counting benchmark: the tracker's cost per frame at 5, 20 and 50 people; the cost of fusing faces into
// person counting; person counting's mean absolute error with and without fusion on the bundled images and on
// validation images the repository does not hold; the motion gate's cost per frame. Not a test: it prints tables.
//
//   dotnet run -c Release --project bench/OpenNvr.Tracking.Bench [-- --frames 4000 --group-photos <folder>] [--methods]
//
// --group-photos: a folder with the five PASCAL VOC test photos of dlib's face examples that testdata does not hold
// (Debian libdlib19.1, /usr/share/doc/libdlib19.1/examples/faces: `apt-get download libdlib19.1 && dpkg -x ...`).
// --methods: only the comparison of ways to run the person detector (DetectorMethods.cs), on a tuning split of the demo
// clip's frames and on held-out splits.

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenCvSharp;
using OpenNvr.Bench;
using OpenNvr.Inference.Detection;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Models;
using OpenNvr.Inference.Telemetry;
using OpenNvr.Recorder.Analytics;
using OpenNvr.Recorder.Analytics.Tracking;

var frames = BenchHost.ArgInt(args, "--frames", 4000);
var groupPhotos = BenchHost.ArgValue(args, "--group-photos");
var methodsOnly = args.Contains("--methods");
var repo = BenchHost.RepositoryRoot;
var work = Path.Combine(Path.GetTempPath(), "opennvr-tracking-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
Console.WriteLine($"Machine: {Environment.ProcessorCount} cores ({cpu}), load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the start, .NET {Environment.Version}");
Console.WriteLine();

// 1. Tracker cost per frame.
if (!methodsOnly)
{
    Console.WriteLine($"Tracker (PersonTracker.Update, default options, 2 fps, 1920x1080, {frames} frames after 200 of warm-up):");
    Console.WriteLine();
    Console.WriteLine("| people in view | detections / frame | mean µs | p50 µs | p99 µs | allocated / frame |");
    Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
    foreach (var people in new[] { 5, 20, 50 })
    {
        var (detectionsPerFrame, timings, allocated) = TrackerRun(people, frames);
        Console.WriteLine($"| {people} | {F(detectionsPerFrame, 1)} | {F(timings.Average(), 1)} | {F(Percentile(timings, 0.5), 1)} | {F(Percentile(timings, 0.99), 1)} | {allocated / 1024.0:F1} KB |");
    }

    Console.WriteLine();
}

// 2. and 3. Fusion cost and counting error.
using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
using var registry = new OnnxModelRegistry(Options.Create(new InferenceOptions()), Options.Create(new ModelsOptions { Root = Path.Combine(repo, "models") }),
    NullLogger<OnnxModelRegistry>.Instance);
var detectorOptions = new DetectorOptions();
var facesOptions = new FacesOptions();
using var detector = new CenterNetDetector(registry.Get("centernet.onnx")!, CocoLabels.All, detectorOptions.NmsIouThreshold, 1,
    new InferenceTelemetry(services.GetRequiredService<IMeterFactory>()));
var faceDetector = new UltraFaceDetector(registry.Get(facesOptions.ResolvedDetectorModel)!);

var bundled = new (string Path, int People)[]
{
    ("persons/vtest_0000.jpg", 3), ("persons/vtest_0200.jpg", 7), ("persons/vtest_0400.jpg", 3), ("persons/vtest_0600.jpg", 6),
    ("persons/astronaut.jpg", 1), ("persons/grace_hopper.jpg", 1), ("persons/basketball1.jpg", 2),
    ("faces/Tom_Cruise_avp_2014_4.jpg", 1), ("faces/grace_hopper_512x512.jpg", 1), ("faces/bald_guys.jpg", 24),
    ("faces/pascal/2007_007763.jpg", 7), ("faces/pascal/2008_001009.jpg", 2), ("faces/pascal/2008_001322.jpg", 3),
    ("negative/dogs.jpg", 0),
};

// More frames of the demo scene, counted by eye (people at least partly visible, including those half hidden behind
// the sign post or walking in pairs): frame index of testdata/video/vtest.mp4 → people.
var cctvTruth = new (int Frame, int People)[]
{
    (50, 6), (100, 7), (150, 8), (250, 7), (300, 6), (350, 6), (450, 3), (500, 4), (550, 6), (650, 6), (700, 9), (750, 8),
};
var cctv = CutFrames(Path.Combine(repo, "testdata", "video", "vtest.mp4"), cctvTruth.Select(c => c.Frame), work)
    .Zip(cctvTruth, (file, truth) => (file, truth.People)).ToList();

// The PASCAL VOC test photos of dlib's face examples (not in testdata), counted by eye: everyone in the group.
var groupTruth = new (string File, int People)[]
{
    ("2008_002470.jpg", 6), ("2008_002506.jpg", 3), ("2008_004176.jpg", 7), ("2008_007676.jpg", 7), ("2009_004587.jpg", 2),
};

if (methodsOnly)
{
    // Two more disjoint sets of frames of the same clip, counted by eye the same way: one to pick each method's
    // threshold on, one held out with the 12 above. People at the frame's edge or far away by the building count.
    var tuningTruth = new (int Frame, int People)[] { (25, 5), (125, 8), (225, 7), (325, 6), (425, 3), (525, 6), (625, 6), (725, 9) };
    var heldOutTruth = new (int Frame, int People)[] { (75, 7), (175, 7), (275, 7), (375, 5), (475, 4), (575, 7), (675, 7), (775, 8) };
    using var rawDetector = new CenterNetDetector(registry.Get("centernet.onnx")!, CocoLabels.All, 1.01f, 1,
        new InferenceTelemetry(services.GetRequiredService<IMeterFactory>()));
    var video = Path.Combine(repo, "testdata", "video", "vtest.mp4");

    // The same frames encoded two ways: counts near the threshold move with JPEG noise alone, so a method must win
    // under both to count as a win. The Recorder's frames are ffmpeg's MJPEG at -q:v 4 (Frames/FrameDecoder.cs).
    foreach (var (encoding, cut) in new (string, Func<IEnumerable<int>, string, List<string>>)[]
    {
        ("OpenCV JPEG quality 95, as in the table above", (frames, folder) => CutFrames(video, frames, folder)),
        ("ffmpeg MJPEG -q:v 4, as the Recorder sends frames", (frames, folder) => CutFramesWithFfmpeg(video, frames, folder)),
    })
    {
        var folder = Directory.CreateDirectory(Path.Combine(work, encoding.Split(' ')[0])).FullName;
        List<(string File, int People)> Cut((int Frame, int People)[] truth) =>
            [.. cut(truth.Select(c => c.Frame), folder).Zip(truth, (file, t) => (file, t.People))];

        var methodSets = new List<(string Name, bool Tuning, List<(string File, int People)> Images)>
        {
            ("tuning", true, Cut(tuningTruth)),
            ("vtest 50, 100, ... 750", false, Cut(cctvTruth)),
            ("vtest 75, 175, ... 775", false, Cut(heldOutTruth)),
            ("bundled", false, [.. bundled.Select(b => (Path.Combine(repo, "testdata", b.Path), b.People))]),
        };
        if (groupPhotos is not null)
        {
            methodSets.Add(("dlib group photos", false, [.. groupTruth.Select(g => (Path.Combine(groupPhotos, g.File), g.People))]));
        }

        DetectorMethods.Run(encoding, rawDetector, faceDetector, facesOptions, methodSets);
    }

    Directory.Delete(work, recursive: true);
    return;
}

var sets = new List<(string Name, List<(string File, int People)> Images)>
{
    ("bundled (testdata)", [.. bundled.Select(b => (Path.Combine(repo, "testdata", b.Path), b.People))]),
    ("validation: 12 more vtest frames", cctv),
};
if (groupPhotos is not null)
{
    sets.Add(("validation: 5 dlib test group photos", [.. groupTruth.Select(g => (Path.Combine(groupPhotos, g.File), g.People))]));
}

var bodyMs = new List<double>();
var faceMs = new List<double>();
var fuseUs = new List<double>();
Console.WriteLine($"Person counting (CenterNet at {detectorOptions.PersonThreshold.ToString(CultureInfo.InvariantCulture)}, faces UltraFace at {facesOptions.DetectionThreshold.ToString(CultureInfo.InvariantCulture)}, min {facesOptions.MinFaceSize} px):");
Console.WriteLine();
Console.WriteLine("| images | n | MAE bodies only | MAE with faces fused | counts (truth: bodies / fused) |");
Console.WriteLine("|---|---:|---:|---:|---|");
foreach (var (name, images) in sets)
{
    var errors = new List<(int Bodies, int Fused)>();
    var detail = new List<string>();
    foreach (var (file, people) in images)
    {
        using var image = Cv2.ImRead(file);
        if (image.Empty())
        {
            throw new InvalidOperationException($"cannot read {file}");
        }

        IReadOnlyList<DetectedObject> bodies = [];
        IReadOnlyList<DetectedFace> faces = [];
        IReadOnlyList<FusedPerson> fused = [];
        for (var i = 0; i < 5; i++)
        {
            var started = Stopwatch.GetTimestamp();
            bodies = [.. detector.DetectAsync(image, detectorOptions.PersonThreshold, CancellationToken.None).GetAwaiter().GetResult().Where(d => d.ClassId == CocoLabels.Person)];
            var afterBodies = Stopwatch.GetTimestamp();
            faces = [.. faceDetector.Detect(image, facesOptions.DetectionThreshold, facesOptions.NmsIouThreshold).Where(f => Math.Min(f.Width, f.Height) >= facesOptions.MinFaceSize)];
            var afterFaces = Stopwatch.GetTimestamp();
            fused = FaceBodyFusion.Fuse(bodies, faces);
            var afterFusion = Stopwatch.GetTimestamp();
            if (i > 0)
            {
                bodyMs.Add(Stopwatch.GetElapsedTime(started, afterBodies).TotalMilliseconds);
                faceMs.Add(Stopwatch.GetElapsedTime(afterBodies, afterFaces).TotalMilliseconds);
                fuseUs.Add(Stopwatch.GetElapsedTime(afterFaces, afterFusion).TotalMicroseconds);
            }
        }

        errors.Add((bodies.Count - people, fused.Count - people));
        detail.Add($"{people}: {bodies.Count}/{fused.Count}");
    }

    Console.WriteLine($"| {name} | {images.Count} | {F(errors.Average(e => Math.Abs(e.Bodies)))} | {F(errors.Average(e => Math.Abs(e.Fused)))} | {string.Join(", ", detail)} |");
}

Console.WriteLine();
Console.WriteLine($"Cost per image (median of 4 runs per image over all images above): body detector {F(Percentile(bodyMs, 0.5))} ms, face detector {F(Percentile(faceMs, 0.5))} ms (p95 {F(Percentile(faceMs, 0.95))}), fusion itself {F(Percentile(fuseUs, 0.5), 1)} µs: fusion adds {F(Percentile(faceMs, 0.5) / Percentile(bodyMs, 0.5) * 100, 1)} % to the detector's time.");
Console.WriteLine();

// 4. Motion gate.
Console.WriteLine("Motion gate, per frame (median of 300): a full decode (the whole JPEG in grey, then shrunk) against the gate's decode at 1/8 scale:");
Console.WriteLine();
Console.WriteLine("| frame | JPEG KB | full decode + shrink ms | MotionGate.Thumbnail ms | saved |");
Console.WriteLine("|---|---:|---:|---:|---:|");
using (var source = Cv2.ImRead(Path.Combine(repo, "testdata", "persons", "vtest_0200.jpg")))
{
    foreach (var size in new[] { new Size(768, 576), new Size(1280, 720), new Size(1920, 1080) })
    {
        using var resized = source.Resize(size, interpolation: InterpolationFlags.Cubic);
        Cv2.ImEncode(".jpg", resized, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 90));
        var full = Time(() =>
        {
            using var grey = Cv2.ImDecode(jpeg, ImreadModes.Grayscale);
            using var thumb = new Mat();
            Cv2.Resize(grey, thumb, new Size(MotionGate.Width, MotionGate.Height), 0, 0, InterpolationFlags.Area);
        });
        var gate = Time(() => MotionGate.Thumbnail(jpeg));
        Console.WriteLine($"| {size.Width}x{size.Height} | {jpeg.Length / 1024} | {F(full)} | {F(gate)} | {F((1 - gate / full) * 100, 0)} % |");
    }
}

// 5. Track life on the demo clip: the same detections tracked on every frame (10 fps, the best estimate of how long
// people really stay in view) and on every 5th (the demo policy's 2 fps). Tracks still alive at the clip's end are
// not counted as ended.
Console.WriteLine();
Console.WriteLine("Track life on the demo clip (testdata/video/vtest.mp4, 795 frames at 10 fps, CenterNet at 0.35, default tracker):");
Console.WriteLine();
var clip = new List<(int Width, int Height, TrackerDetection[] People)>();
using (var capture = new VideoCapture(Path.Combine(repo, "testdata", "video", "vtest.mp4")))
using (var frame = new Mat())
{
    while (capture.Read(frame) && !frame.Empty())
    {
        clip.Add((frame.Width, frame.Height, [.. detector.DetectAsync(frame, detectorOptions.PersonThreshold, CancellationToken.None).GetAwaiter().GetResult()
            .Where(d => d.ClassId == CocoLabels.Person).Select(d => new TrackerDetection(new TrackBox(d.X1, d.Y1, d.X2, d.Y2), d.Confidence))]));
    }
}

Console.WriteLine("| analysed | people confirmed | ended in the clip | median life s | p25 s | p75 s | person.entered / min |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
foreach (var (step, name) in new[] { (1, "every frame (10 fps)"), (5, "every 5th (2 fps, the demo policy)") })
{
    var tracker = new PersonTracker(new TrackerOptions());
    var lives = new List<double>();
    var entered = 0;
    for (var i = 0; i < clip.Count; i += step)
    {
        var update = tracker.Update(DateTimeOffset.UnixEpoch.AddMilliseconds(i * 100.0), clip[i].People, clip[i].Width, clip[i].Height);
        entered += update.Entered.Count;
        lives.AddRange(update.Left.Select(t => t.Dwell.TotalSeconds));
    }

    Console.WriteLine($"| {name} | {entered} | {lives.Count} | {F(Percentile(lives, 0.5), 1)} | {F(Percentile(lives, 0.25), 1)} | {F(Percentile(lives, 0.75), 1)} | {F(entered / (clip.Count / 600.0), 1)} |");
}

Directory.Delete(work, recursive: true);
return;

static (double DetectionsPerFrame, List<double> Microseconds, long AllocatedPerFrame) TrackerRun(int people, int frames)
{
    const int width = 1920, height = 1080;
    var random = new Random(people);
    var walkers = Enumerable.Range(0, people).Select(_ => NewWalker(random, width, height)).ToList();
    var tracker = new PersonTracker(new TrackerOptions());
    var timings = new List<double>(frames);
    var detections = new List<TrackerDetection>();
    long detectionCount = 0, allocated = 0;
    var t0 = DateTimeOffset.UnixEpoch;
    for (var k = 0; k < frames + 200; k++)
    {
        detections.Clear();
        for (var i = 0; i < walkers.Count; i++)
        {
            var w = walkers[i];
            w = w with { X = w.X + w.Vx * 0.5, Y = w.Y + w.Vy * 0.5 };
            if (w.X < -50 || w.X > width + 50 || w.Y < w.H || w.Y > height + 50)
            {
                w = NewWalker(random, width, height);
            }

            walkers[i] = w;
            if (random.NextDouble() < 0.05)
            {
                continue; // missed by the detector in this frame
            }

            var score = 0.45 + random.NextDouble() * 0.3;
            detections.Add(new TrackerDetection(TrackBox.FromCenter(w.X + random.NextDouble() * 4 - 2, w.Y - w.H / 2 + random.NextDouble() * 4 - 2,
                w.H * 0.4, w.H), score));
        }

        // Clutter: two low-score boxes somewhere.
        for (var c = 0; c < 2; c++)
        {
            detections.Add(new TrackerDetection(TrackBox.FromCenter(random.NextDouble() * width, random.NextDouble() * height, 30, 40), 0.25 + random.NextDouble() * 0.15));
        }

        var span = detections.ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var started = Stopwatch.GetTimestamp();
        tracker.Update(t0.AddSeconds(k * 0.5), span, width, height);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        if (k >= 200)
        {
            timings.Add(elapsed);
            allocated += bytes;
            detectionCount += span.Length;
        }
    }

    return (detectionCount / (double)frames, timings, allocated / frames);
}

static Walker NewWalker(Random random, int width, int height)
{
    var h = 80 + random.NextDouble() * 140;
    var speed = (0.3 + random.NextDouble() * 0.7) * h;
    var angle = random.NextDouble() * Math.PI * 2;
    return new Walker(random.NextDouble() * width, h + random.NextDouble() * (height - h), speed * Math.Cos(angle), speed * Math.Sin(angle) * 0.3, h);
}

static List<string> CutFrames(string video, IEnumerable<int> indices, string folder)
{
    var wanted = indices.ToList();
    var files = new List<string>();
    using var capture = new VideoCapture(video);
    using var frame = new Mat();
    for (var i = 0; i <= wanted.Max() && capture.Read(frame); i++)
    {
        if (wanted.Contains(i))
        {
            var file = Path.Combine(folder, $"vtest_{i:D4}.jpg");
            Cv2.ImWrite(file, frame, [(int)ImwriteFlags.JpegQuality, 95]);
            files.Add(file);
        }
    }

    return files;
}

// Frames as ffmpeg's MJPEG encoder writes them at the Recorder's quality (-q:v 4), one ffmpeg run per frame.
static List<string> CutFramesWithFfmpeg(string video, IEnumerable<int> indices, string folder)
{
    var files = new List<string>();
    foreach (var i in indices)
    {
        var file = Path.Combine(folder, $"vtest_{i:D4}.jpg");
        using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", ["-v", "error", "-y", "-i", video, "-vf", $"select=eq(n\\,{i})", "-fps_mode", "passthrough", "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "4", file])
        {
            RedirectStandardError = true,
        })!;
        var errors = ffmpeg.StandardError.ReadToEnd();
        ffmpeg.WaitForExit();
        if (ffmpeg.ExitCode != 0 || !File.Exists(file))
        {
            throw new InvalidOperationException($"ffmpeg could not cut frame {i}: {errors}");
        }

        files.Add(file);
    }

    return files;
}

static double Time(Action action)
{
    for (var i = 0; i < 20; i++)
    {
        action();
    }

    var samples = new List<double>();
    for (var i = 0; i < 300; i++)
    {
        var started = Stopwatch.GetTimestamp();
        action();
        samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    return Percentile(samples, 0.5);
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
}

static string F(double value, int decimals = 2) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

internal readonly record struct Walker(double X, double Y, double Vx, double Vy, double H);
