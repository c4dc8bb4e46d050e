using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenNvr.Contracts;
using OpenNvr.Contracts.Inference;
using OpenNvr.Contracts.Internal;
using OpenNvr.Contracts.Media;
using OpenNvr.Recorder.Analytics;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Pipeline;

/// <summary>The pipeline's parts on real frames and real files: motion gate, event rules, event outbox, JPEG header.</summary>
public sealed class PipelineUnitTests
{
    private static byte[] Frame(string name) => File.ReadAllBytes(RepositoryPaths.TestData("persons", name));

    [Fact]
    public void Motion_gate_sees_walkers_between_real_frames_but_not_recompression_of_the_same_frame()
    {
        var a = MotionGate.Thumbnail(Frame("vtest_0200.jpg"))!;
        var b = MotionGate.Thumbnail(Frame("vtest_0400.jpg"))!;
        Assert.Equal(MotionGate.Width * MotionGate.Height, a.Length);
        var options = new AnalyticsOptions();
        Assert.True(MotionGate.ChangedShare(a, b, options.MotionPixelDelta) > options.MotionThreshold * 3);

        // The same frame re-encoded at a much lower JPEG quality: compression noise is not motion.
        using var image = OpenCvSharp.Cv2.ImDecode(Frame("vtest_0200.jpg"), OpenCvSharp.ImreadModes.Color);
        OpenCvSharp.Cv2.ImEncode(".jpg", image, out var recompressed, new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.JpegQuality, 40));
        var c = MotionGate.Thumbnail(recompressed)!;
        Assert.True(MotionGate.ChangedShare(a, c, options.MotionPixelDelta) < options.MotionThreshold);
        Assert.Null(MotionGate.Thumbnail([1, 2, 3]));
    }

    [Fact]
    public void Jpeg_size_is_read_from_the_frame_header()
    {
        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 768, 576), ImageHeader.TryRead(Frame("vtest_0200.jpg")));
        Assert.Null(ImageHeader.TryRead([0xFF, 0xD8, 0xFF]));
        Assert.Null(ImageHeader.TryRead("not a jpeg"u8));
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static string Counting(params (double Confidence, double[] Box)[] detections) =>
        JsonSerializer.Serialize(new
        {
            task = "person_counting", count = detections.Length, confidence = 0.5,
            detections = detections.Select(d => new { bbox = d.Box, confidence = d.Confidence, track_id = (int?)null }),
            executed_at = 1795784710123L, latency_ms = 30.5,
        });

    [Fact]
    public void Counting_events_come_with_the_first_result_and_each_change_after_confidence_and_roi()
    {
        var rules = new EventRules(new CameraAiPolicy("person_counting", 500, true, 0.4, MotionGating: true, Id: 1,
            Roi: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]])); // the left half of a 100x100 frame
        var inLeft = (0.9, new double[] { 10, 10, 20, 20 });   // centre (20, 20)
        var inRight = (0.9, new double[] { 70, 10, 20, 20 });  // centre (80, 20): outside the roi
        var weak = (0.3, new double[] { 10, 50, 20, 20 });     // under min_confidence

        var first = rules.Evaluate(Json(Counting(inLeft, inRight, weak)), 100, 100);
        Assert.NotNull(first);
        Assert.Equal((1, "person", 0.9), (first.Count, first.Label, first.Confidence));
        Assert.Equal([10d, 10, 20, 20], Assert.Single(first.Boxes));
        Assert.Null(rules.Evaluate(Json(Counting(inLeft, weak)), 100, 100));            // still 1
        Assert.Equal(2, rules.Evaluate(Json(Counting(inLeft, inLeft)), 100, 100)!.Count);
        Assert.Equal(0, rules.Evaluate(Json(Counting(inRight)), 100, 100)!.Count);      // people left: news too
        Assert.Null(rules.Evaluate(Json(Counting()), 100, 100));
    }

    [Fact]
    public void Appearances_identities_watchlist_hits_and_label_sets_are_events_only_when_new()
    {
        var person = new EventRules(new CameraAiPolicy("person_detection", 500, true, 0.5, MotionGating: true, Id: 1));
        const string none = """{"label":"person","confidence":0.0,"bbox":[0,0,0,0]}""";
        const string seen = """{"label":"person","confidence":0.8,"bbox":[1,2,30,60]}""";
        Assert.Null(person.Evaluate(Json(none), 100, 100));
        Assert.NotNull(person.Evaluate(Json(seen), 100, 100));
        Assert.Null(person.Evaluate(Json(seen), 100, 100));
        Assert.Null(person.Evaluate(Json(none), 100, 100));
        Assert.NotNull(person.Evaluate(Json(seen), 100, 100));

        var faces = new EventRules(new CameraAiPolicy("face_detection", 500, true, 0.5, MotionGating: true, Id: 2));
        Assert.Equal(1, faces.Evaluate(Json("""{"faces":[{"bbox":[10,10,30,40],"confidence":0.9}],"face_count":1}"""), 100, 100)!.Count);
        Assert.Null(faces.Evaluate(Json("""{"faces":[{"bbox":[10,10,30,40],"confidence":0.9},{"bbox":[50,10,70,40],"confidence":0.8}],"face_count":2}"""), 100, 100));

        var recognition = new EventRules(new CameraAiPolicy("face_recognition", 500, true, 0.4, MotionGating: true, Id: 3));
        const string ada = """{"recognized":true,"person_id":"ada","name":"Ada","category":"staff","similarity":0.7,"face_bbox":[1,1,20,20]}""";
        const string bob = """{"recognized":true,"person_id":"bob","name":"Bob","category":"staff","similarity":0.6,"face_bbox":[1,1,20,20]}""";
        Assert.Equal("Ada", recognition.Evaluate(Json(ada), 100, 100)!.Label);
        Assert.Null(recognition.Evaluate(Json(ada), 100, 100));
        Assert.Equal("Bob", recognition.Evaluate(Json(bob), 100, 100)!.Label);
        Assert.Null(recognition.Evaluate(Json("""{"recognized":false,"message":"no face"}"""), 100, 100));
        Assert.Null(recognition.Evaluate(Json(ada.Replace("0.7", "0.3")), 100, 100)); // under min_confidence

        var watchlist = new EventRules(new CameraAiPolicy("watchlist_check", 500, true, 0.4, MotionGating: true, Id: 4));
        Assert.Null(watchlist.Evaluate(Json("""{"is_on_watchlist":false,"matches":[]}"""), 100, 100));
        var hit = watchlist.Evaluate(Json("""{"is_on_watchlist":true,"matches":[{"person_id":"x1","name":"Mallory","category":"watchlist","similarity":0.8}],"face_bbox":[1,1,9,9]}"""), 100, 100);
        Assert.Equal(("Mallory", 1), (hit!.Label, hit.Count));

        var objects = new EventRules(new CameraAiPolicy("object_detection", 500, true, 0.5, MotionGating: true, Id: 5));
        const string dog = """{"task":"object_detection","count":1,"detections":[{"label":"dog","confidence":0.9,"bbox":[1,1,10,10]}]}""";
        const string dogAndCat = """{"task":"object_detection","count":2,"detections":[{"label":"dog","confidence":0.9,"bbox":[1,1,10,10]},{"label":"cat","confidence":0.7,"bbox":[20,1,10,10]}]}""";
        Assert.Equal("dog", objects.Evaluate(Json(dog), 100, 100)!.Label);
        Assert.Null(objects.Evaluate(Json(dog), 100, 100));
        Assert.Equal(2, objects.Evaluate(Json(dogAndCat), 100, 100)!.Count);
    }

    private static EventIngest Event(int i) => new(1, "person_counting", 1795784710000 + i, Label: "person", Count: i, Confidence: 0.5,
        Bbox: JsonSerializer.SerializeToElement(new[] { new[] { 1, 2, 3, 4 } }), CapturedAtUnixMs: 1795784710000 + i, LatencyMs: 30,
        TraceId: "4bf92f3577b34da6a3ce929d0e0e4736", Payload: JsonSerializer.SerializeToElement(new { pad = new string('x', 400) }));

    [Fact]
    public void Event_outbox_keeps_events_across_restarts_delivers_in_order_and_drops_the_oldest_over_its_cap()
    {
        var dir = TestTemp.NewFolder("event-outbox");
        using (var outbox = new EventOutbox(dir, maxBytes: 20_000, rollBytes: 5_000))
        {
            for (var i = 0; i < 10; i++)
            {
                outbox.Append(Event(i));
            }

            var batch = outbox.Peek(4);
            Assert.Equal([0, 1, 2, 3], batch.Select(e => e.Event.Count!.Value));
            outbox.Acknowledge(batch);
            Assert.Equal(6, outbox.Depth);
        }

        // A restart finds what Core has not acknowledged, in order; a torn last line is cut off.
        File.AppendAllText(Directory.GetFiles(dir, "events-*.jsonl").Order().Last(), "{\"camera_id\":1,\"ta");
        using (var outbox = new EventOutbox(dir, maxBytes: 20_000, rollBytes: 5_000))
        {
            Assert.Equal(6, outbox.Depth);
            Assert.Equal([4, 5, 6, 7, 8, 9], outbox.Peek(100).Select(e => e.Event.Count!.Value));

            // Core away for long: the cap holds, the oldest go first and are counted.
            for (var i = 10; i < 100; i++)
            {
                outbox.Append(Event(i));
            }

            var files = Directory.GetFiles(dir, "events-*.jsonl");
            Assert.True(files.Sum(f => new FileInfo(f).Length) <= 20_000 + 5_000, "the outbox stays near its cap");
            var left = outbox.Peek(1000).Select(e => e.Event.Count!.Value).ToList();
            Assert.Equal(99, left[^1]);
            Assert.Equal(Enumerable.Range(left[0], left.Count), left); // contiguous: only the oldest were dropped
            Assert.Equal(96 - left.Count, outbox.Dropped);
            Assert.Equal(left.Count, outbox.Depth);
        }
    }

    [Fact]
    public void Cloud_tasks_are_asked_with_input_data_and_local_tasks_with_input()
    {
        var local = JsonSerializer.SerializeToElement(InferRequest.ForFrame("person_counting", "opennvr://frames/1/f-1-1.jpg"), ContractJson.Options);
        Assert.Equal("opennvr://frames/1/f-1-1.jpg", local.GetProperty("input").GetProperty("frame").GetProperty("uri").GetString());
        var cloud = JsonSerializer.SerializeToElement(InferRequest.ForFrame("object_detection_detr", "opennvr://frames/1/f-1-1.jpg"), ContractJson.Options);
        Assert.Equal("opennvr://frames/1/f-1-1.jpg", cloud.GetProperty("input_data").GetProperty("inputs").GetProperty("image").GetString());
    }
}

/// <summary>Core's side of the pipeline without Inference: task checks that say they were partial, traceparent validation.</summary>
public sealed class CorePipelineContractTests : IAsyncLifetime
{
    private CoreServer _core = null!;

    public async Task InitializeAsync() => _core = await CoreServer.StartAsync(extraSettings: new Dictionary<string, string>
    {
        ["services:inference:http:0"] = "http://127.0.0.1:" + FreePort.Tcp(), // nobody listens
    });

    public async Task DisposeAsync() => await _core.DisposeAsync();

    [Fact]
    public async Task With_inference_unreachable_known_tasks_are_accepted_with_a_warning_and_others_refused()
    {
        using var admin = await _core.AdminAsync();
        using var created = await admin.PostAsJsonAsync("/api/v1/cameras", new
        {
            name = "unchecked", rtsp_url = "rtsp://127.0.0.1:9/none", ai_policies = new[] { new { task = "person_counting" }, new { task = "face_detection" } },
        });
        var camera = (int)(await HttpAssert.OkJsonAsync(created, HttpStatusCode.Created))["id"]!;
        Assert.Contains("Inference could not be reached", string.Join(" ", created.Headers.GetValues("Warning")));

        var detail = await HttpAssert.ProblemAsync(
            await admin.PutAsJsonAsync($"/api/v1/cameras/{camera}/policies", new { ai_policies = new[] { new { task = "licence_plates" } } }), HttpStatusCode.BadRequest);
        Assert.Contains("'licence_plates' is not a task OpenNVR knows", detail);
    }

    [Theory]
    [InlineData("not-a-traceparent")]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-and-more-characters-after-it")]
    public async Task An_event_with_a_malformed_traceparent_is_a_400_naming_it(string traceparent)
    {
        var camera = await _core.CreateCameraAsync("tp-" + Guid.NewGuid().ToString("N")[..6], "rtsp://127.0.0.1:9/none");
        using var recorder = _core.Internal();
        var detail = await HttpAssert.ProblemAsync(await recorder.PostAsJsonAsync("/api/v1/internal/events", new
        {
            events = new[] { new { camera_id = camera, task = "person_counting", executed_at_unix_ms = 1795784710000L, traceparent } },
        }), HttpStatusCode.BadRequest);
        Assert.Contains("events[0].traceparent", detail);
    }
}
