using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenCvSharp;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Pipeline;

/// <summary>
/// The AI pipeline across the three real services in one process (<see cref="PipelineHosts"/>): file cameras
/// decoded by the Recorder, the bundled model in Inference, events stored by Core in PostgreSQL. Each test adds its
/// own camera and deletes it at the end, so that the next test's counts are its own.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class PipelineTests(PipelineHosts hosts) : IClassFixture<PipelineHosts>
{
    private static readonly object PersonCounting = new { task = "person_counting", interval_ms = 500, min_confidence = 0.35, motion_gating = true };

    // A frame-level policy (person_counting tracks people: its events are per person, its gate lets a frame through
    // every 2 s so that people standing still stay tracked).
    private static readonly object PersonDetection = new { task = "person_detection", interval_ms = 500, min_confidence = 0.35, motion_gating = true };

    [Fact]
    public async Task One_analysed_frame_is_one_trace_from_the_recorder_through_inference_to_the_insert_in_core()
    {
        await using var camera = await AnalysedCamera.AddAsync(hosts, "trace", PipelineTestData.VtestUrl, PersonDetection);
        var events = await WaitForEventsAsync(camera.Id, 1, TimeSpan.FromSeconds(60));
        var stored = events[^1]!; // the oldest: its spans are surely complete
        var traceId = (string)stored["trace_id"]!;
        Assert.Matches("^[0-9a-f]{32}$", traceId);

        Activity[] trace = [];
        await Wait.UntilAsync(() =>
        {
            trace = hosts.Activities.Where(a => a.TraceId.ToHexString() == traceId).ToArray();
            return trace.Any(a => a.OperationName == "events.insert") && trace.Any(a => a.OperationName == "frame.capture");
        }, TimeSpan.FromSeconds(10), "the spans of the event's trace");

        var frame = Assert.Single(trace, a => a.OperationName == "frame.capture");
        Assert.Equal("OpenNvr.Recorder", frame.Source.Name);
        Assert.Equal(default, frame.ParentSpanId); // each frame is its own trace
        Assert.Equal(camera.Id, frame.GetTagItem("opennvr.camera"));
        Assert.Equal("person_detection", frame.GetTagItem("opennvr.task"));
        Assert.Equal("event", frame.GetTagItem("opennvr.frame.outcome"));

        var spans = trace.ToDictionary(a => a.SpanId);
        Activity Parent(Activity a) => spans.TryGetValue(a.ParentSpanId, out var p) ? p : throw new Xunit.Sdk.XunitException(
            $"span {a.OperationName} has no recorded parent in the trace: {string.Join(", ", trace.Select(s => s.OperationName))}");

        foreach (var child in new[] { "motion.gate", "inference.call", "snapshot.save", "event.enqueue" })
        {
            Assert.Equal(frame.SpanId, Assert.Single(trace, a => a.OperationName == child).ParentSpanId);
        }

        // Inference: infer <task> with its stages, reached over HTTP from the Recorder's inference.call.
        var infer = Assert.Single(trace, a => a.OperationName == "infer person_detection");
        Assert.Equal("OpenNvr.Inference", infer.Source.Name);
        foreach (var stage in new[] { "decode", "preprocess", "model", "postprocess" })
        {
            Assert.Equal(infer.SpanId, Assert.Single(trace, a => a.OperationName == stage).ParentSpanId);
        }

        var chain = new List<string>();
        for (var a = infer; a != frame; a = Parent(a))
        {
            chain.Add($"{a.Source.Name}:{a.OperationName}");
        }

        // infer <- ASP.NET Core request span (Inference) <- HttpClient span (Recorder) <- inference.call <- frame.capture
        Assert.Equal("OpenNvr.Recorder:inference.call", chain[^1]);
        Assert.Contains(chain, c => c.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.Contains(chain, c => c.StartsWith("System.Net.Http", StringComparison.Ordinal));

        // Core: the event's insert joined the frame's trace although it came in a batch, later, on another request.
        var insert = Assert.Single(trace, a => a.OperationName == "events.insert");
        Assert.Equal("OpenNvr.Core", insert.Source.Name);
        Assert.Equal(frame.SpanId, insert.ParentSpanId);
        Assert.True(insert.StartTimeUtc >= frame.StartTimeUtc);

        // Latency figures: model, and capture to stored event.
        Assert.True((double)stored["latency_ms"]! > 0);
        var pipeline = (double)stored["pipeline_latency_ms"]!;
        Assert.InRange(pipeline, 1, 30_000);
        await AssertSnapshotAsync(stored);
    }

    [Fact]
    public async Task Motion_gating_skips_a_static_scene_after_its_first_frame_and_analyses_moving_content()
    {
        var statistics = default(OpenNvr.Recorder.Analytics.PipelineStatistics);
        await using (var still = await AnalysedCamera.AddAsync(hosts, "still", await PipelineTestData.StillSceneUrlAsync(), PersonDetection))
        {
            statistics = hosts.Pipeline.Statistics(still.Id);
            // Earlier tests' cameras are gone with nothing left on its way to Inference (AnalysedCamera.DisposeAsync).
            await Wait.UntilAsync(() => statistics.Analysed >= 1 && statistics.Pending == 0, TimeSpan.FromSeconds(30), "the first frame of the still scene analysed");
            var inferenceBefore = hosts.InferenceRequests;
            var callsBefore = statistics.InferenceCalls;
            var dueBefore = statistics.Due;
            await Wait.UntilAsync(() => statistics.Due >= dueBefore + 12, TimeSpan.FromSeconds(20), "12 more due frames of the still scene (6 s at 2 fps)");

            Assert.Equal(1, callsBefore);
            Assert.Equal(callsBefore, statistics.InferenceCalls);
            Assert.Equal(inferenceBefore, hosts.InferenceRequests); // counted at Inference itself
            Assert.Equal(statistics.Due - 1, statistics.SkippedMotion);
        }

        await using var moving = await AnalysedCamera.AddAsync(hosts, "moving", PipelineTestData.VtestUrl, PersonCounting);
        var stats = hosts.Pipeline.Statistics(moving.Id);
        var requestsBefore = hosts.InferenceRequests;
        await Wait.UntilAsync(() => stats.Due >= 14, TimeSpan.FromSeconds(30), "14 due frames of the moving scene");
        await Wait.UntilAsync(() => stats.Analysed + stats.Dropped >= stats.InferenceCalls, TimeSpan.FromSeconds(10), "answers to the calls made");
        // Passing the gate is the gate's decision; whether each passed frame then reaches Inference depends on how fast
        // Inference answers (a slow one overflows the 2-frame queue, counted as dropped), so it is not counted here.
        Assert.True(stats.Due - stats.SkippedMotion >= stats.Due * 2 / 3, $"pedestrians walking must pass the gate most of the time: {stats}");
        Assert.True(stats.InferenceCalls >= 1, $"frames that passed the gate were sent to Inference: {stats}");
        Assert.True(hosts.InferenceRequests - requestsBefore >= stats.Analysed, $"Inference answered {hosts.InferenceRequests - requestsBefore} requests; {stats}");
    }

    [Fact]
    public async Task Inference_down_for_30_s_costs_analysis_only_and_it_resumes_by_itself()
    {
        await using var camera = await AnalysedCamera.AddAsync(hosts, "outage", PipelineTestData.VtestUrl, PersonCounting);
        var stats = hosts.Pipeline.Statistics(camera.Id);
        await WaitForEventsAsync(camera.Id, 1, TimeSpan.FromSeconds(60));
        await Wait.UntilAsync(async () => (await hosts.Core.RowsAsync(camera.Id)).Count >= 1, TimeSpan.FromSeconds(30), "a first chunk");

        var down = DateTimeOffset.UtcNow;
        var droppedBefore = stats.Dropped;
        await hosts.StopInferenceAsync();
        try
        {
            // The scenario: Inference stays away for 30 s (a fixed outage, not a synchronisation).
            await Task.Delay(TimeSpan.FromSeconds(30));
            var analysedWhileDown = stats.Analysed;
            Assert.True(stats.Dropped - droppedBefore >= 30, $"about 60 frames were due in 30 s and got no answer: {stats}");
            // Still away for one more second: nothing can be analysed meanwhile (an absence needs a span of time to show).
            await Task.Delay(1000);
            Assert.Equal(analysedWhileDown, stats.Analysed);
        }
        finally
        {
            await hosts.StartInferenceAsync();
        }

        var back = DateTimeOffset.UtcNow;
        var analysedAtRestart = stats.Analysed;
        // Resumes by itself: the circuit lets a probe through after its break, and new results become events.
        await Wait.UntilAsync(() => stats.Analysed > analysedAtRestart + 4, TimeSpan.FromSeconds(30), "analysis after Inference came back");
        await Wait.UntilAsync(async () =>
        {
            var events = await LatestEventsAsync(camera.Id);
            return events.Any(e => (long)e!["executed_at"]! > back.ToUnixTimeMilliseconds());
        }, TimeSpan.FromSeconds(60), "an event analysed after Inference came back");

        // Recording went on without a gap: the index covers the outage with chunks that meet.
        var from = down.ToUnixTimeMilliseconds() / 1000.0 - 3;
        var to = back.ToUnixTimeMilliseconds() / 1000.0 + 1;
        await Wait.UntilAsync(async () => (await hosts.Core.RowsAsync(camera.Id)).Max(r => r.EndUnix) > to, TimeSpan.FromSeconds(30), "chunks past the outage");
        var window = await hosts.Core.WindowAsync(camera.Id, from, to);
        Assert.Empty(window["gaps"]!.AsArray());
        Assert.True(window["recordings"]!.AsArray().Count >= 7, window.ToJsonString());
    }

    [Fact]
    public async Task A_person_counting_policy_stores_people_entering_and_leaving_with_their_track_best_frame_and_box_and_an_occupancy_series()
    {
        await using var camera = await AnalysedCamera.AddAsync(hosts, "people", PipelineTestData.VtestUrl, PersonCounting);
        using var admin = await hosts.Core.AdminAsync();
        (await admin.PostAsJsonAsync($"/api/v1/cameras/{camera.Id}/lines", new { name = "middle", points = new[] { new[] { 0.0, 0.6 }, new[] { 1.0, 0.6 } } }))
            .EnsureSuccessStatusCode();
        JsonArray events = [];
        await Wait.UntilAsync(async () =>
        {
            events = (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events?camera_id={camera.Id}&limit=500"))!["events"]!.AsArray();
            var left = events.Where(e => (string?)e!["event_type"] == "person.left").Select(e => (long)e!["track_id"]!).ToHashSet();
            return events.Any(e => (string?)e!["event_type"] == "person.entered" && left.Contains((long)e!["track_id"]!));
        }, TimeSpan.FromSeconds(120), () => $"a person entering and leaving ({hosts.Pipeline.Statistics(camera.Id)}; {events.Count} events)", pollMs: 1000);

        // Nothing per frame: every event is about people.
        Assert.All(events, e => Assert.NotNull((string?)e!["event_type"]));
        var entered = events.Where(e => (string?)e!["event_type"] == "person.entered").Select(e => e!).ToList();
        var left = events.Where(e => (string?)e!["event_type"] == "person.left").Select(e => e!).ToList();
        Assert.Equal(entered.Count, entered.Select(e => (long)e["track_id"]!).Distinct().Count()); // once per person
        var gone = left.First(l => entered.Any(e => (long)e["track_id"]! == (long)l["track_id"]!));
        Assert.True((double)gone["payload"]!["dwell_s"]! > 0, gone.ToJsonString());
        foreach (var e in entered.Take(3).Append(gone))
        {
            Assert.Equal("person_counting", (string)e["task"]!);
            Assert.Equal(4, Assert.Single(e["bbox"]!.AsArray())!.AsArray().Count);
            await AssertSnapshotAsync(e);
        }

        Assert.All(events.Where(e => (string?)e!["event_type"] == "line.crossed"), e => Assert.Contains((string)e!["payload"]!["direction"]!, new[] { "in", "out" }));
        var from = entered.Min(e => (long)e["executed_at"]!) / 1000 - 10;
        await Wait.UntilAsync(async () => (await admin.GetFromJsonAsync<JsonObject>(
                $"/api/v1/cameras/{camera.Id}/occupancy?start_unix={from}&end_unix={from + 600}&bucket_s=10"))!["buckets"]!.AsArray().Count >= 2,
            TimeSpan.FromSeconds(30), "two occupancy buckets of the camera", pollMs: 500);
    }

    [Fact]
    public async Task Policy_tasks_are_checked_against_what_inference_offers()
    {
        using var admin = await hosts.Core.AdminAsync();
        using var created = await admin.PostAsJsonAsync("/api/v1/cameras", new
        {
            name = "tasks", rtsp_url = "rtsp://127.0.0.1:9/none",
            ai_policies = new[] { new { task = "person_detection" } },
        });
        var camera = (int)(await HttpAssert.OkJsonAsync(created, HttpStatusCode.Created))["id"]!;
        Assert.False(created.Headers.Contains("Warning"));
        try
        {
            var detail = await HttpAssert.ProblemAsync(
                await admin.PutAsJsonAsync($"/api/v1/cameras/{camera}/policies", new { ai_policies = new[] { new { task = "person_detection" }, new { task = "licence_plates" } } }),
                HttpStatusCode.BadRequest);
            Assert.Contains("ai_policies[1].task 'licence_plates' is not offered by Inference", detail);
            Assert.Contains("person_counting", detail); // what it does offer
        }
        finally
        {
            (await admin.DeleteAsync($"/api/v1/cameras/{camera}")).EnsureSuccessStatusCode();
        }
    }

    private async Task<JsonArray> LatestEventsAsync(int cameraId)
    {
        using var admin = await hosts.Core.AdminAsync();
        var answer = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events/latest?camera_id={cameraId}&limit=100");
        return answer!["events"]!.AsArray();
    }

    private async Task<JsonArray> WaitForEventsAsync(int cameraId, int count, TimeSpan timeout)
    {
        JsonArray events = [];
        await Wait.UntilAsync(async () => (events = await LatestEventsAsync(cameraId)).Count >= count, timeout,
            $"{count} events of camera {cameraId} ({hosts.Pipeline.Statistics(cameraId)})", pollMs: 500);
        return events;
    }

    private async Task AssertSnapshotAsync(JsonNode stored)
    {
        using var admin = await hosts.Core.AdminAsync();
        var bytes = await admin.GetByteArrayAsync((string)stored["snapshot_url"]!);
        using var image = Cv2.ImDecode(bytes, ImreadModes.Color);
        Assert.Equal((768, 576), (image.Width, image.Height));
    }
}

/// <summary>A camera with AI policies for one test; deleting it waits until the Recorder has let it go.</summary>
public sealed class AnalysedCamera : IAsyncDisposable
{
    private readonly PipelineHosts _hosts;

    private AnalysedCamera(PipelineHosts hosts, int id)
    {
        _hosts = hosts;
        Id = id;
    }

    public int Id { get; }

    public static async Task<AnalysedCamera> AddAsync(PipelineHosts hosts, string name, string url, params object[] policies)
    {
        var id = await hosts.Core.CreateCameraAsync(name + "-" + Guid.NewGuid().ToString("N")[..6], url, new { ai_policies = policies });
        return new AnalysedCamera(hosts, id);
    }

    public async ValueTask DisposeAsync()
    {
        using var admin = await _hosts.Core.AdminAsync();
        (await admin.DeleteAsync($"/api/v1/cameras/{Id.ToString(CultureInfo.InvariantCulture)}")).EnsureSuccessStatusCode();
        await Wait.UntilAsync(() => !_hosts.Recorder.Coordinator.RecordingCameraIds.Contains(Id), TimeSpan.FromSeconds(15), $"camera {Id} released");
        // Its last queued frames get their answer (or are dropped): nothing of it is on its way to Inference any more.
        var statistics = _hosts.Pipeline.Statistics(Id);
        await Wait.UntilAsync(() => statistics.Pending == 0, TimeSpan.FromSeconds(30), $"camera {Id}'s last frames analysed ({statistics})", pollMs: 50);
    }
}
