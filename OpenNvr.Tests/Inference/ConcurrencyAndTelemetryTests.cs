using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Tests.Inference;

public sealed class ConcurrencyAndTelemetryTests(InferenceServiceFixture fixture) : IClassFixture<InferenceServiceFixture>
{
    private static readonly string[] Frames =
        ["vtest_0000.jpg", "vtest_0200.jpg", "vtest_0400.jpg", "vtest_0600.jpg"];

    [Fact]
    public async Task Thirty_two_parallel_calls_all_succeed_with_identical_results_for_identical_frames()
    {
        // Sequential reference results first, then 32 calls at once (8 per frame) over the shared sessions and pooled buffers.
        var reference = new Dictionary<string, string>();
        foreach (var frame in Frames)
        {
            reference[frame] = Detections(await fixture.InferAsync("person_counting", $"opennvr://frames/persons/{frame}"));
        }

        var calls = Enumerable.Range(0, 32).Select(async i =>
        {
            var frame = Frames[i % Frames.Length];
            using var response = await fixture.Client.PostAsJsonAsync("/infer",
                InferenceServiceFixture.InferBody("person_counting", $"opennvr://frames/persons/{frame}"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            return (frame, Detections(JsonDocument.Parse(body).RootElement));
        });
        var results = await Task.WhenAll(calls);

        Assert.Equal(32, results.Length);
        foreach (var (frame, detections) in results)
        {
            Assert.Equal(reference[frame], detections);
        }
    }

    [Fact]
    public async Task Infer_is_one_span_under_the_request_span_with_a_child_per_stage_and_a_duration_histogram()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var activities = new ConcurrentQueue<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.TraceId == traceId)
                {
                    activities.Enqueue(a);
                }
            },
        };
        ActivitySource.AddActivityListener(activityListener);
        // Only this host's meter (other test classes host their own services in parallel).
        using var durations = new MetricCollector<double>(fixture.Factory.Services.GetRequiredService<IMeterFactory>(),
            InferenceTelemetry.SourceName, InferenceTelemetry.DurationInstrument);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/infer")
        {
            Content = JsonContent.Create(InferenceServiceFixture.InferBody("person_counting", "opennvr://frames/persons/vtest_0200.jpg")),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await fixture.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode);

        var infer = Assert.Single(activities, a => a.Source.Name == InferenceTelemetry.SourceName && a.OperationName == "infer person_counting");
        var requestSpan = Assert.Single(activities, a => a.SpanId == infer.ParentSpanId);
        Assert.StartsWith("Microsoft.AspNetCore", requestSpan.OperationName, StringComparison.Ordinal);
        var stages = activities.Where(a => a.ParentSpanId == infer.SpanId).Select(a => a.OperationName).ToList();
        // Face fusion (on by default) adds the face detector's stage to person counting.
        Assert.Equal(["decode", "preprocess", "model", "postprocess", "face.detect"], stages.Order(Comparer<string>.Create((x, y) => StageOrder(x) - StageOrder(y))));
        Assert.Equal(5, stages.Count);
        Assert.Equal("person_counting", infer.GetTagItem("opennvr.task"));

        var measurements = durations.GetMeasurementSnapshot()
            .Select(m => (m.Value, Task: m.Tags.GetValueOrDefault("task") as string, Stage: m.Tags.GetValueOrDefault("stage") as string)).ToList();
        foreach (var stage in new[] { "decode", "preprocess", "model", "postprocess", "total" })
        {
            Assert.Contains(measurements, m => m.Task == "person_counting" && m.Stage == stage && m.Value > 0);
        }

        var model = measurements.Where(m => m.Task == "person_counting" && m.Stage == "model").Max(m => m.Value);
        var total = measurements.Where(m => m.Task == "person_counting" && m.Stage == "total").Max(m => m.Value);
        Assert.True(model < total, $"model {model} ms should be part of total {total} ms");
    }

    private static int StageOrder(string stage) => Array.IndexOf(["decode", "preprocess", "model", "postprocess", "face.detect"], stage);

    private static string Detections(JsonElement result) =>
        result.GetProperty("count").GetInt32() + ":" + result.GetProperty("detections").GetRawText();
}
