using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Tests.Faces;

/// <summary>Spans and metrics of the face path, and identical answers under concurrent calls.</summary>
public sealed class FaceTelemetryTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task Recognition_is_an_infer_span_with_a_child_per_face_stage_and_registry_metrics_are_recorded()
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
        // This host's meters only (other test classes host their own services in parallel).
        var meters = fixture.Factory.Services.GetRequiredService<IMeterFactory>();
        using var durations = new MetricCollector<double>(meters, InferenceTelemetry.SourceName, InferenceTelemetry.DurationInstrument);
        using var searches = new MetricCollector<double>(meters, FacesMetrics.MeterName, "opennvr.faces.search.duration");
        using var registrations = new MetricCollector<long>(meters, FacesMetrics.MeterName, "opennvr.faces.registrations");
        using var syncLag = new MetricCollector<double>(meters, FacesMetrics.MeterName, "opennvr.faces.registry.sync_lag");
        using var identities = new MetricCollector<int>(meters, FacesMetrics.MeterName, "opennvr.faces.identities");

        var (status, body) = await FacesFixture.RegisterAsync(fixture.Client, new { frame = FacesFixture.Frame("bald", "jason_0.jpg"), person_id = "tel-jason", name = "Jason" });
        Assert.True(status == 200, body.GetRawText());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/infer")
        {
            Content = JsonContent.Create(new { task = "face_recognition", input = new { frame = FacesFixture.Frame("bald", "jason_2.jpg") } }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await fixture.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode);
        identities.RecordObservableInstruments();

        var infer = Assert.Single(activities, a => a.OperationName == "infer face_recognition");
        var stages = activities.Where(a => a.ParentSpanId == infer.SpanId).Select(a => a.OperationName).ToList();
        Assert.Equal(["decode", "face.detect", "face.landmarks", "face.align", "face.embed"], stages);
        Assert.Contains(durations.GetMeasurementSnapshot(), m => m.ContainsTags(new KeyValuePair<string, object?>("task", "face_recognition"), new KeyValuePair<string, object?>("stage", "face.embed")) && m.Value > 0);
        Assert.Contains(searches.GetMeasurementSnapshot(), m => m.ContainsTags(new KeyValuePair<string, object?>("task", "face_recognition")));
        Assert.Contains(registrations.GetMeasurementSnapshot(), m => m.ContainsTags(new KeyValuePair<string, object?>("outcome", "created")) && m.Value == 1);
        Assert.Contains(syncLag.GetMeasurementSnapshot(), m => m.Value >= 0);
        Assert.Contains(identities.GetMeasurementSnapshot(), m => m.Value >= 1);
    }

    [Fact]
    public async Task Concurrent_calls_give_the_same_answers_as_sequential_ones()
    {
        string[] files = ["vin_3.jpg", "bruce_2.jpg", "dwayne_4.jpg", "jason_5.jpg"];
        var reference = new Dictionary<string, string>();
        foreach (var file in files)
        {
            reference[file] = (await fixture.InferAsync("face_embedding", new { frame = FacesFixture.Frame("bald", file) })).GetProperty("embedding").GetRawText();
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            var file = files[i % files.Length];
            var result = await fixture.InferAsync("face_embedding", new { frame = FacesFixture.Frame("bald", file) });
            return (file, result.GetProperty("embedding").GetRawText());
        }));

        Assert.All(results, r => Assert.Equal(reference[r.file], r.Item2));
    }
}
