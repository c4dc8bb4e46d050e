using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
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
        var meterFactory = fixture.Factory.Services.GetRequiredService<IMeterFactory>();
        var measurements = new ConcurrentQueue<(string Instrument, double Value, string? Tag)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Meter.Name is FacesMetrics.MeterName or InferenceTelemetry.SourceName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, Tag(tags))));
        meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, Tag(tags))));
        meterListener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, Tag(tags))));
        meterListener.Start();

        var (status, body) = await FacesFixture.RegisterAsync(fixture.Client, new { frame = FacesFixture.Frame("bald", "jason_0.jpg"), person_id = "tel-jason", name = "Jason" });
        Assert.True(status == 200, body.GetRawText());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/infer")
        {
            Content = JsonContent.Create(new { task = "face_recognition", input = new { frame = FacesFixture.Frame("bald", "jason_2.jpg") } }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await fixture.Client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode);
        meterListener.RecordObservableInstruments();

        var infer = Assert.Single(activities, a => a.OperationName == "infer face_recognition");
        var stages = activities.Where(a => a.ParentSpanId == infer.SpanId).Select(a => a.OperationName).ToList();
        Assert.Equal(["decode", "face.detect", "face.landmarks", "face.align", "face.embed"], stages);
        Assert.Contains(measurements, m => m.Instrument == InferenceTelemetry.DurationInstrument && m.Tag == "face_recognition/face.embed" && m.Value > 0);
        Assert.Contains(measurements, m => m.Instrument == "opennvr.faces.search.duration" && m.Tag == "face_recognition");
        Assert.Contains(measurements, m => m.Instrument == "opennvr.faces.registrations" && m.Tag == "created" && m.Value == 1);
        Assert.Contains(measurements, m => m.Instrument == "opennvr.faces.registry.sync_lag" && m.Value >= 0);
        Assert.Contains(measurements, m => m.Instrument == "opennvr.faces.identities" && m.Value >= 1);
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

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? task = null, stage = null, outcome = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "task":
                    task = tag.Value as string;
                    break;
                case "stage":
                    stage = tag.Value as string;
                    break;
                case "outcome":
                    outcome = tag.Value as string;
                    break;
            }
        }

        return outcome ?? (stage is null ? task : $"{task}/{stage}");
    }
}
