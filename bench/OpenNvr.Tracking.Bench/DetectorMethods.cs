using System.Diagnostics;
using System.Globalization;
using OpenCvSharp;
using OpenNvr.Bench;
using OpenNvr.Inference.Detection;
using OpenNvr.Inference.Faces;

/// <summary>
/// Ways of feeding a frame to the bundled CenterNet and of reading its detections, compared on images the project
/// never tuned on. Each method's person threshold is chosen on the tuning split (vtest frames 25, 125, ... 725) and
/// only then measured on the held-out splits, so no reported figure was fitted to the images it is reported on.
/// </summary>
internal static class DetectorMethods
{
    /// <summary>Thresholds a method may pick from on the tuning split (the default 0.35 among them).</summary>
    private static readonly float[] Thresholds = [0.30f, 0.35f, 0.40f, 0.45f];

    /// <summary>Raw person candidates below any threshold worth trying: methods threshold and suppress them themselves.</summary>
    private const float CandidateFloor = 0.05f;

    private const float NmsIou = 0.5f;

    /// <summary>A candidate method: the model runs it needs for one image, then its people at a threshold.</summary>
    private sealed record Method(string Name, string How, Func<Views, float, List<DetectedObject>> People, Func<Views, int> Runs);

    private static readonly Method[] Methods =
    [
        new("stretch (current)", "the frame stretched to 512x512, box NMS 0.5", (v, t) => Nms(v.Full, t, NmsIou), _ => 1),
        new("no box NMS", "only the model's own 3x3 heatmap peaks (people walking close)", (v, t) => Nms(v.Full, t, 1.01f), _ => 1),
        new("letterbox", "aspect kept, padded to a square (grey 114)", (v, t) => Nms(v.Letterbox, t, NmsIou), _ => 1),
        new("flip TTA, scores averaged", "frame and mirror; a box found in one only keeps half its score (the box-level form of averaging heatmaps)", (v, t) => Nms(Average(v.Full, v.Flipped), t, NmsIou), _ => 2),
        new("flip TTA, union", "frame and mirror, all boxes, NMS", (v, t) => Nms([.. v.Full, .. v.Flipped], t, NmsIou), _ => 2),
        new("full + 2 tiles", "plus the left and right 60 % at 1.67x horizontal resolution (pairs side by side)", (v, t) => Nms([.. v.Full, .. v.TwoTiles], t, NmsIou), _ => 3),
        new("full + 2x2 tiles", "plus four 60 % tiles at 1.67x resolution (small people)", (v, t) => Nms([.. v.Full, .. v.FourTiles], t, NmsIou), _ => 5),
        new("upright prior", "a box lower than 1.4x its width scoring under 0.45 is not a person (the rock)", (v, t) => [.. Nms(v.Full, t, NmsIou).Where(d => !(d.Height < 1.4f * d.Width && d.Confidence < 0.45f))], _ => 1),
    ];

    public static void Run(
        string encoding,
        CenterNetDetector rawDetector,
        UltraFaceDetector faceDetector,
        FacesOptions facesOptions,
        IReadOnlyList<(string Name, bool Tuning, List<(string File, int People)> Images)> sets)
    {
        var views = new Dictionary<string, (Views Views, IReadOnlyList<DetectedFace> Faces)>();
        foreach (var (file, _) in sets.SelectMany(s => s.Images))
        {
            using var image = Cv2.ImRead(file);
            if (image.Empty())
            {
                throw new InvalidOperationException($"cannot read {file}");
            }

            var faces = faceDetector.Detect(image, facesOptions.DetectionThreshold, facesOptions.NmsIouThreshold)
                .Where(f => Math.Min(f.Width, f.Height) >= facesOptions.MinFaceSize).ToList();
            views[file] = (Views.Of(rawDetector, image), faces);
        }

        // One model run's cost on this machine, to price each method by its runs.
        var runMs = new List<double>();
        foreach (var (file, _) in sets.SelectMany(s => s.Images).Take(12))
        {
            using var image = Cv2.ImRead(file);
            for (var i = 0; i < 4; i++)
            {
                var started = Stopwatch.GetTimestamp();
                rawDetector.DetectAsync(image, CandidateFloor, CancellationToken.None).GetAwaiter().GetResult();
                if (i > 0)
                {
                    runMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }

        var tuning = sets.Where(s => s.Tuning).SelectMany(s => s.Images).ToList();
        var heldOut = sets.Where(s => !s.Tuning).ToList();
        var median = BenchProcesses.Percentile([.. runMs.Order()], 0.5);
        Console.WriteLine($"Detector methods, vtest frames as {encoding} (CenterNet; threshold picked per method on the tuning split from {string.Join(", ", Thresholds.Select(t => F(t)))}; MAE bodies only / with faces fused; one model run {F(median, 1)} ms median, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}):");
        Console.WriteLine();
        Console.WriteLine($"| method | runs | ms / image | picked threshold | tuning: {tuning.Count} vtest frames | {string.Join(" | ", heldOut.Select(s => $"{s.Name} ({s.Images.Count})"))} |");
        Console.WriteLine($"|---|---:|---:|---:|---:|{string.Concat(heldOut.Select(_ => "---:|"))}");
        foreach (var method in Methods)
        {
            var picked = Thresholds.MinBy(t => Error(method, t, tuning, views).Bodies);
            var runs = method.Runs(views[tuning[0].File].Views);
            var cells = heldOut.Select(s => Error(method, picked, s.Images, views)).Select(e => $"{F(e.Bodies)} / {F(e.Fused)}");
            Console.WriteLine($"| {method.Name}: {method.How} | {runs} | {F(runs * median, 0)} | {F(picked)} | {F(Error(method, picked, tuning, views).Bodies)} | {string.Join(" | ", cells)} |");
        }

        Console.WriteLine();
    }

    private static (double Bodies, double Fused) Error(Method method, float threshold, List<(string File, int People)> images,
        Dictionary<string, (Views Views, IReadOnlyList<DetectedFace> Faces)> views)
    {
        double bodies = 0, fused = 0;
        foreach (var (file, people) in images)
        {
            var (v, faces) = views[file];
            var found = method.People(v, threshold);
            bodies += Math.Abs(found.Count - people);
            fused += Math.Abs(FaceBodyFusion.Fuse(found, faces).Count - people);
        }

        return (bodies / images.Count, fused / images.Count);
    }

    private static List<DetectedObject> Nms(IEnumerable<DetectedObject> candidates, float threshold, float iou) =>
        NonMaximumSuppression.Apply([.. candidates.Where(d => d.Confidence >= threshold)], iou);

    /// <summary>Pairs the two runs' boxes (greedy, IoU ≥ 0.5); a pair scores the mean, a box without a partner half its score.</summary>
    private static List<DetectedObject> Average(List<DetectedObject> a, List<DetectedObject> b)
    {
        var result = new List<DetectedObject>();
        var taken = new bool[b.Count];
        foreach (var d in a.OrderByDescending(x => x.Confidence))
        {
            var best = -1;
            var bestIou = 0.5f;
            for (var j = 0; j < b.Count; j++)
            {
                var iou = d.IntersectionOverUnion(b[j]);
                if (!taken[j] && iou >= bestIou)
                {
                    (best, bestIou) = (j, iou);
                }
            }

            if (best < 0)
            {
                result.Add(d with { Confidence = d.Confidence / 2 });
                continue;
            }

            taken[best] = true;
            var e = b[best];
            var sum = d.Confidence + e.Confidence;
            result.Add(new DetectedObject(d.ClassId, d.Label, sum / 2, (d.X1 * d.Confidence + e.X1 * e.Confidence) / sum,
                (d.Y1 * d.Confidence + e.Y1 * e.Confidence) / sum, (d.X2 * d.Confidence + e.X2 * e.Confidence) / sum, (d.Y2 * d.Confidence + e.Y2 * e.Confidence) / sum));
        }

        result.AddRange(b.Where((_, j) => !taken[j]).Select(e => e with { Confidence = e.Confidence / 2 }));
        return result;
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static string F(double value, int decimals) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    /// <summary>One image's person candidates (score ≥ 0.05, no box NMS yet) under each way of feeding it to the model, in frame pixels.</summary>
    private sealed record Views(List<DetectedObject> Full, List<DetectedObject> Flipped, List<DetectedObject> Letterbox, List<DetectedObject> TwoTiles, List<DetectedObject> FourTiles)
    {
        private const double TileShare = 0.6;

        public static Views Of(CenterNetDetector detector, Mat image)
        {
            int width = image.Width, height = image.Height;
            var full = Detect(detector, image);

            using var mirror = new Mat();
            Cv2.Flip(image, mirror, FlipMode.Y);
            var flipped = Detect(detector, mirror).Select(d => d with { X1 = width - d.X2, X2 = width - d.X1 }).ToList();

            var side = Math.Max(width, height);
            int left = (side - width) / 2, top = (side - height) / 2;
            using var square = new Mat(side, side, MatType.CV_8UC3, new Scalar(114, 114, 114));
            using (var inner = new Mat(square, new Rect(left, top, width, height)))
            {
                image.CopyTo(inner);
            }

            var letterbox = Detect(detector, square)
                .Select(d => d with { X1 = Math.Clamp(d.X1 - left, 0, width), X2 = Math.Clamp(d.X2 - left, 0, width), Y1 = Math.Clamp(d.Y1 - top, 0, height), Y2 = Math.Clamp(d.Y2 - top, 0, height) })
                .Where(d => d.Width >= 1 && d.Height >= 1).ToList();

            int tileWidth = (int)(width * TileShare), tileHeight = (int)(height * TileShare);
            var twoTiles = Tiles(detector, image, [new Rect(0, 0, tileWidth, height), new Rect(width - tileWidth, 0, tileWidth, height)]);
            var fourTiles = Tiles(detector, image,
            [
                new Rect(0, 0, tileWidth, tileHeight), new Rect(width - tileWidth, 0, tileWidth, tileHeight),
                new Rect(0, height - tileHeight, tileWidth, tileHeight), new Rect(width - tileWidth, height - tileHeight, tileWidth, tileHeight),
            ]);
            return new Views(full, flipped, letterbox, twoTiles, fourTiles);
        }

        private static List<DetectedObject> Detect(CenterNetDetector detector, Mat image) =>
            [.. detector.DetectAsync(image, CandidateFloor, CancellationToken.None).GetAwaiter().GetResult().Where(d => d.ClassId == CocoLabels.Person)];

        /// <summary>Each tile's people in frame pixels, without those cut by an inner tile edge (the full frame or the neighbour tile sees them whole).</summary>
        private static List<DetectedObject> Tiles(CenterNetDetector detector, Mat image, Rect[] tiles)
        {
            var people = new List<DetectedObject>();
            foreach (var tile in tiles)
            {
                using var view = new Mat(image, tile);
                using var crop = view.Clone();
                foreach (var d in Detect(detector, crop))
                {
                    var cut = (tile.X > 0 && d.X1 <= 2) || (tile.Right < image.Width && d.X2 >= tile.Width - 2)
                        || (tile.Y > 0 && d.Y1 <= 2) || (tile.Bottom < image.Height && d.Y2 >= tile.Height - 2);
                    if (!cut)
                    {
                        people.Add(d with { X1 = d.X1 + tile.X, X2 = d.X2 + tile.X, Y1 = d.Y1 + tile.Y, Y2 = d.Y2 + tile.Y });
                    }
                }
            }

            return people;
        }
    }
}
