using System.Diagnostics;
using OpenNvr.Inference.Infrastructure;

namespace OpenNvr.Tests.Cloud;

/// <summary>Spans of a cloud call, and the token kept out of every log entry and span.</summary>
public sealed partial class CloudRoutingTests
{
    [Fact]
    public async Task The_cloud_call_span_sits_under_the_infer_span_with_one_http_span_per_attempt()
    {
        var model = CloudFixture.UniqueModel("loading");

        await InferOkAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        var cloud = await WaitForAsync(() => fixture.Activities.SingleOrDefault(a =>
            a.OperationName == "cloud.call" && Equals(a.GetTagItem(HuggingFaceClient.ModelTag), model)));
        Assert.Equal("OpenNvr.Inference", cloud.Source.Name);
        Assert.Equal(3, cloud.GetTagItem(HuggingFaceClient.AttemptsTag));
        Assert.Equal("success", cloud.GetTagItem(HuggingFaceClient.OutcomeTag));

        var infer = fixture.Activities.Single(a => a.SpanId == cloud.ParentSpanId);
        Assert.Equal("infer object_detection_detr", infer.OperationName);
        var request = await WaitForAsync(() => fixture.Activities.SingleOrDefault(a => a.SpanId == infer.ParentSpanId));
        Assert.Equal(ActivityKind.Server, request.Kind); // ASP.NET Core's span of POST /infer

        // HttpClient's outbound spans: one per attempt (two "loading" replies, then the answer), all under cloud.call.
        var outbound = fixture.Activities.Where(a => a.ParentSpanId == cloud.SpanId && a.Kind == ActivityKind.Client).ToList();
        Assert.Equal(3, outbound.Count);
        Assert.All(outbound, a => Assert.Equal(cloud.TraceId, a.TraceId));
        Assert.Equal([503, 503, 200], outbound.OrderBy(a => a.StartTimeUtc).Select(a => Convert.ToInt32(a.GetTagItem("http.response.status_code"))));
    }

    [Fact]
    public async Task The_token_appears_in_no_log_entry_and_no_span()
    {
        // A success, retries and failures: every code path that logs or tags.
        await InferOkAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel("rate-limited"));
        (await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel("failing"))).Dispose();
        (await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel("slow"))).Dispose();
        await Task.Delay(200); // let the server-side spans of the last call stop

        // HttpClient logged the request headers (at Trace) and redacted the token's header.
        Assert.Contains(fixture.Logs, entry => entry.Contains("Authorization: *", StringComparison.Ordinal));
        Assert.Contains(fixture.Logs, entry => entry.Contains("Hugging Face call to model failing/", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Logs, entry => entry.Contains(CloudFixture.ValidToken, StringComparison.Ordinal));

        Assert.Contains(fixture.Activities, a => a.OperationName == "cloud.call");
        foreach (var activity in fixture.Activities)
        {
            Assert.DoesNotContain(CloudFixture.ValidToken, Describe(activity), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Each_call_is_counted_by_outcome()
    {
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<(string? Outcome, long Value)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "OpenNvr.Inference" && instrument.Name == HuggingFaceClient.CallsInstrument)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome")
                {
                    outcomes.Enqueue((tag.Value as string, value));
                }
            }
        });
        listener.Start();

        (await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel("nosuchorg"))).Dispose();
        (await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel("rate-limited-long"))).Dispose();

        Assert.Contains(("model_not_found", 1L), outcomes);
        Assert.Contains(("rate_limited", 1L), outcomes);
    }

    internal static string Describe(Activity activity) => string.Join("\n",
        [
            activity.OperationName, activity.DisplayName, activity.StatusDescription ?? "",
            .. activity.TagObjects.Select(t => $"{t.Key}={t.Value}"),
            .. activity.Baggage.Select(b => $"{b.Key}={b.Value}"),
            .. activity.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name} {t.Key}={t.Value}")),
        ]);

    private static async Task<T> WaitForAsync<T>(Func<T?> find) where T : class
    {
        for (var i = 0; i < 40; i++)
        {
            if (find() is { } found)
            {
                return found;
            }

            await Task.Delay(50);
        }

        return find() ?? throw new Xunit.Sdk.XunitException("not found within 2 s");
    }
}
