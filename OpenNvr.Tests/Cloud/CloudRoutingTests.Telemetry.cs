using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
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

        var cloud = await WaitForSpanAsync(a => a.OperationName == "cloud.call" && Equals(a.GetTagItem(HuggingFaceClient.ModelTag), model), "the cloud.call span");
        Assert.Equal("OpenNvr.Inference", cloud.Source.Name);
        Assert.Equal(3, cloud.GetTagItem(HuggingFaceClient.AttemptsTag));
        Assert.Equal("success", cloud.GetTagItem(HuggingFaceClient.OutcomeTag));

        var infer = fixture.Activities.Single(a => a.SpanId == cloud.ParentSpanId);
        Assert.Equal("infer object_detection_detr", infer.OperationName);
        var request = await WaitForSpanAsync(a => a.SpanId == infer.ParentSpanId, "the request span of POST /infer");
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
        var slow = CloudFixture.UniqueModel("slow");
        (await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", slow)).Dispose();
        // The server-side spans of the last call stop just after its answer reached the client: wait for the outermost.
        var slowCall = await WaitForSpanAsync(a => a.OperationName == "cloud.call" && Equals(a.GetTagItem(HuggingFaceClient.ModelTag), slow), "the slow call's span");
        var slowInfer = await WaitForSpanAsync(a => a.SpanId == slowCall.ParentSpanId, "the slow call's infer span");
        await WaitForSpanAsync(a => a.SpanId == slowInfer.ParentSpanId, "the slow call's request span");

        // HttpClient logged the request headers (at Trace) and redacted the token's header.
        Assert.Contains(fixture.Logs, entry => entry.Contains("Authorization: *", StringComparison.Ordinal));
        Assert.Contains(fixture.Logs, entry => entry.Contains("Hugging Face call to model failing/", StringComparison.Ordinal));
        AssertNotLogged(fixture, CloudFixture.ValidToken);

        Assert.Contains(fixture.Activities, a => a.OperationName == "cloud.call");
        foreach (var activity in fixture.Activities)
        {
            Assert.DoesNotContain(CloudFixture.ValidToken, Describe(activity), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Each_call_is_counted_by_outcome()
    {
        using var calls = new MetricCollector<long>(fixture.Factory.Services.GetRequiredService<IMeterFactory>(), "OpenNvr.Inference", HuggingFaceClient.CallsInstrument);

        (await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel("nosuchorg"))).Dispose();
        (await fixture.PostCloudAsync("object-detection", "opennvr://frames/persons/astronaut.jpg", CloudFixture.UniqueModel("rate-limited-long"))).Dispose();

        var outcomes = calls.GetMeasurementSnapshot().Select(m => (m.Tags.GetValueOrDefault("outcome") as string, m.Value)).ToList();
        Assert.Contains(("model_not_found", 1L), outcomes);
        Assert.Contains(("rate_limited", 1L), outcomes);
    }

    internal static void AssertNotLogged(CloudFixture fixture, string secret)
    {
        var leaks = fixture.Logs.Where(entry => entry.Contains(secret, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, "logged:\n" + string.Join("\n", leaks));
    }

    internal static string Describe(Activity activity) => string.Join("\n",
        [
            activity.OperationName, activity.DisplayName, activity.StatusDescription ?? "",
            .. activity.TagObjects.Select(t => $"{t.Key}={t.Value}"),
            .. activity.Baggage.Select(b => $"{b.Key}={b.Value}"),
            .. activity.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name} {t.Key}={t.Value}")),
        ]);

    /// <summary>A span recorded by now or shortly: server-side spans stop just after the answer reached the client.</summary>
    private Task<Activity> WaitForSpanAsync(Func<Activity, bool> match, string what) =>
        Wait.ForAsync(() => fixture.Activities.SingleOrDefault(match), TimeSpan.FromSeconds(10), what, pollMs: 20);
}
