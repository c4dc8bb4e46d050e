using System.Diagnostics;
using OpenCvSharp;
using OpenNvr.Recorder.Analytics.Tracking;
using OpenNvr.Recorder.Frames;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Tracking;

/// <summary>
/// The scripted clip (<see cref="GroundTruthScenario"/>) built once: background, cut-outs, H.264 encoding, then
/// decoded at each rate the tests ask for exactly as the Recorder's frame decoder does (ffmpeg <c>fps</c> filter to
/// MJPEG) and run through the bundled CenterNet in-process at Inference's person threshold.
/// </summary>
public sealed class GroundTruthClipFixture : IDisposable
{
    /// <summary>Inference's default <c>Inference:Detector:PersonThreshold</c>: what person_counting hands the pipeline.</summary>
    public const float PersonThreshold = 0.35f;

    // Under the run's temp folder, so a test host killed mid-run leaves nothing behind (TestTemp's watchdog).
    private readonly string _folder = TestTemp.NewFolder("gt");
    private readonly Dictionary<double, List<(int Width, int Height, TrackerDetection[] Detections)>> _byRate = [];
    private readonly LocalModels _models = new();

    public GroundTruthClipFixture()
    {
        Clip = Path.Combine(_folder, "scripted.mp4");
        using (var background = GroundTruthClip.MedianBackground(RepositoryPaths.TestData("video", "vtest.mp4")))
        {
            var cuts = GroundTruthScenario.People.Select(p => (p, GroundTruthClip.Cut(p.Crop, background))).ToList();
            GroundTruthClip.Render(background, cuts, GroundTruthScenario.Seconds, Clip);
            cuts.ForEach(c => c.Item2.Dispose());
        }
    }

    public string Clip { get; }

    /// <summary>Person detections of each frame decoded at <paramref name="framesPerSecond"/> (frame k was captured at k / fps seconds).</summary>
    public IReadOnlyList<(int Width, int Height, TrackerDetection[] Detections)> Frames(double framesPerSecond)
    {
        lock (_byRate)
        {
            if (!_byRate.TryGetValue(framesPerSecond, out var frames))
            {
                frames = [.. Decode(framesPerSecond).Select(Detect)];
                _byRate[framesPerSecond] = frames;
            }

            return frames;
        }
    }

    private (int, int, TrackerDetection[]) Detect(byte[] jpeg)
    {
        using var image = Cv2.ImDecode(jpeg, ImreadModes.Color);
        return (image.Width, image.Height, [.. _models.People(image, PersonThreshold)
            .Select(d => new TrackerDetection(new TrackBox(d.X1, d.Y1, d.X2, d.Y2), d.Confidence))]);
    }

    // The Recorder's FrameDecoder arguments for a file, without -re (no need to wait in real time).
    private List<byte[]> Decode(double framesPerSecond)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-hide_banner", "-loglevel", "error", "-i", Clip, "-map", "0:v:0", "-an",
                     "-vf", "fps=" + framesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-c:v", "mjpeg", "-q:v", "4", "-f", "image2pipe", "pipe:1" })
        {
            start.ArgumentList.Add(arg);
        }

        var frames = new List<byte[]>();
        using var ffmpeg = Process.Start(start)!;
        var errors = ffmpeg.StandardError.ReadToEndAsync();
        var splitter = new JpegSplitter();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = ffmpeg.StandardOutput.BaseStream.Read(buffer)) > 0)
        {
            splitter.Feed(buffer.AsSpan(0, read), frame => frames.Add(frame.ToArray()));
        }

        ffmpeg.WaitForExit();
        Assert.True(ffmpeg.ExitCode == 0, "ffmpeg could not decode the clip: " + errors.Result);
        Assert.Equal((int)(GroundTruthScenario.Seconds * framesPerSecond), frames.Count);
        return frames;
    }

    public void Dispose()
    {
        _models.Dispose();
        TestTemp.TryDelete(_folder);
    }
}

/// <summary>
/// Tracking on ground truth: real people (cut from the bundled CCTV frames) walking scripted paths over the demo
/// scene's background, the real detector, the tracker and the zone/line monitor at the rates the pipeline analyses.
/// Track count, line in/out counts and zone entries must be exact, with no id switch where paths do not cross.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class TrackingGroundTruthTests(GroundTruthClipFixture clip) : IClassFixture<GroundTruthClipFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(2)] // the demo policy's rate: walkers move about their own width between frames
    [InlineData(4)] // analysing faster
    public void People_lines_and_zones_are_counted_exactly_with_stable_ids(double framesPerSecond)
    {
        var tracker = new PersonTracker(new TrackerOptions());
        var monitor = new SceneMonitor([GroundTruthScenario.Zone], [GroundTruthScenario.Line]);
        var events = new List<SceneEvent>();
        var entered = new List<Track>();
        var left = new List<Track>();
        var idsOf = GroundTruthScenario.People.ToDictionary(p => p.Name, _ => new List<long>());
        var frames = clip.Frames(framesPerSecond);
        for (var k = 0; k < frames.Count; k++)
        {
            var seconds = k / framesPerSecond;
            var at = T0.AddSeconds(seconds);
            var (width, height, detections) = frames[k];
            var update = tracker.Update(at, detections, width, height);
            events.AddRange(monitor.Observe(update, at, width, height));
            entered.AddRange(update.Entered);
            left.AddRange(update.Left);
            // Which person each scripted walker is now: the detected person whose feet are nearest theirs.
            foreach (var person in GroundTruthScenario.People)
            {
                if (person.FeetAt(seconds) is { } feet && update.People
                        .Where(p => p.State == TrackState.Tracked)
                        .Select(p => (p.Id, Distance: Math.Abs(p.LastBox.CenterX - feet.X) + Math.Abs(p.LastBox.Y2 - feet.Y)))
                        .Where(p => p.Distance < 40).OrderBy(p => p.Distance).FirstOrDefault() is { Id: > 0 } match)
                {
                    idsOf[person.Name].Add(match.Id);
                }
            }
        }

        var report = string.Join("; ", idsOf.Select(p => $"{p.Key}: {string.Join(",", p.Value)}"))
            + " | " + string.Join("; ", events.Select(e => $"{e.Kind} {e.TrackId} {(e.At - T0).TotalSeconds:F1}s {e.Direction}"));

        // One person per walker, each entered and (all having walked out of the frame) left.
        Assert.True(GroundTruthScenario.People.Count == entered.Count, $"{entered.Count} people entered: {report}");
        Assert.Equal(entered.Select(p => p.Id).Order(), left.Select(p => p.Id).Order());
        foreach (var person in GroundTruthScenario.People)
        {
            var ids = idsOf[person.Name];
            Assert.True(ids.Count >= (person.Leaves - person.Enters) * framesPerSecond / 2, $"{person.Name} was seen too little: {report}");
            if (!GroundTruthScenario.Crossing.Contains(person.Name))
            {
                Assert.True(ids.Distinct().Count() == 1, $"{person.Name} changed id: {report}");
            }
        }

        // Lines: exact counts, each crossing within a second of the scripted time, by the walker who crossed.
        var crossings = events.Where(e => e.Kind == SceneEventKind.LineCrossed).ToList();
        Assert.True(GroundTruthScenario.LineIn == crossings.Count(e => e.Direction == CrossingDirection.In), report);
        Assert.True(GroundTruthScenario.LineOut == crossings.Count(e => e.Direction == CrossingDirection.Out), report);
        var lineX = GroundTruthScenario.Line.A.X * GroundTruthClip.Width;
        foreach (var (name, direction) in new[] { ("walker 1", CrossingDirection.In), ("walker 2", CrossingDirection.Out), ("walker 6", CrossingDirection.In) })
        {
            var person = GroundTruthScenario.People.Single(p => p.Name == name);
            var scripted = person.TimeAtX(lineX, person.Enters, person.Leaves)!.Value;
            Assert.Contains(crossings, e => e.Direction == direction && e.TrackId == idsOf[name][^1]
                && Math.Abs((e.At - T0).TotalSeconds - scripted) <= 1.0);
        }

        // Zones: every entry, every exit, loitering once.
        Assert.True(GroundTruthScenario.ZoneEntries == events.Count(e => e.Kind == SceneEventKind.ZoneEntered), report);
        Assert.True(GroundTruthScenario.ZoneEntries == events.Count(e => e.Kind == SceneEventKind.ZoneLeft), report);
        var loiterer = Assert.Single(events, e => e.Kind == SceneEventKind.ZoneLoitering);
        Assert.Equal(idsOf["walker 3"][^1], loiterer.TrackId);
        var walker3 = events.Where(e => e.TrackId == loiterer.TrackId).ToList();
        Assert.Equal([SceneEventKind.ZoneEntered, SceneEventKind.ZoneLoitering, SceneEventKind.ZoneLeft], walker3.Select(e => e.Kind));
        Assert.InRange(walker3[2].DwellSeconds!.Value, 14, 19); // in from about 1.8 s to about 19 s
    }

    [Fact]
    public void The_clip_is_real_h264_of_the_scripted_length()
    {
        var probe = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true };
        foreach (var arg in new[] { "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                     "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0", clip.Clip })
        {
            probe.ArgumentList.Add(arg);
        }

        using var ffprobe = Process.Start(probe)!;
        var output = ffprobe.StandardOutput.ReadToEnd().Trim();
        ffprobe.WaitForExit();

        Assert.Equal($"h264,{GroundTruthClip.Width},{GroundTruthClip.Height},{GroundTruthScenario.Seconds * GroundTruthClip.FramesPerSecond}", output);
    }
}
