using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using OpenNvr.Tests.Core;

namespace OpenNvr.Tests.Integrations;

public sealed class MetricsCoreFixture : CoreFixture
{
    public const string ScrapeKey = "scrape-key-for-tests-0123456789";

    protected override void Configure(IWebHostBuilder host) => host.UseSetting("Metrics:ScrapeKey", ScrapeKey);
}

/// <summary>
/// <c>/metrics</c> scraped as Prometheus would (Bearer scrape key) and parsed by the text-format rules: names, units
/// and histogram series come out the way the alerting rules in docs/metrics.md expect.
/// </summary>
public sealed partial class MetricsTests(MetricsCoreFixture core) : IClassFixture<MetricsCoreFixture>
{
    [Fact]
    public async Task Metrics_need_the_scrape_key()
    {
        using var client = core.Anonymous();
        var detail = await HttpAssert.ProblemAsync(await client.GetAsync("/metrics"), HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", detail, StringComparison.Ordinal);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-key");
        await HttpAssert.ProblemAsync(await client.SendAsync(wrong), HttpStatusCode.Unauthorized);

        // An access token of a logged-in admin is not a scrape key either.
        using var admin = await core.AdminAsync();
        await HttpAssert.ProblemAsync(await admin.GetAsync("/metrics"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_frame_latency_histogram_and_ingest_counters_are_scraped_in_prometheus_form()
    {
        var camera = await core.CreateCameraAsync("metrics-camera");
        // Core's meters are static, and every Core host of this test process reports them: a task name of this test
        // alone picks its own series out of whatever other tests ingested.
        var task = "metrics_probe_" + Guid.NewGuid().ToString("N")[..8];
        var capturedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 180;
        using (var recorder = core.Internal())
        {
            using var ingest = await recorder.PostAsJsonAsync("/api/v1/internal/events", new
            {
                events = Enumerable.Range(0, 3).Select(i => new
                {
                    camera_id = camera,
                    task,
                    label = "person",
                    count = i,
                    executed_at_unix_ms = capturedAt + 50 + i,
                    captured_at_unix_ms = capturedAt,
                }).ToArray(),
            });
            Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);
        }

        var scrape = await ScrapeAsync();
        var samples = Parse(scrape);

        // opennvr.frame.latency (ms) is the histogram opennvr_frame_latency_milliseconds with cumulative buckets.
        var taskLabel = $"task=\"{task}\"";
        var count = samples.Single(s => s.Name == "opennvr_frame_latency_milliseconds_count" && s.Labels.Contains(taskLabel, StringComparison.Ordinal));
        Assert.Equal(3, count.Value);
        var sum = samples.Single(s => s.Name == "opennvr_frame_latency_milliseconds_sum" && s.Labels.Contains(taskLabel, StringComparison.Ordinal));
        Assert.InRange(sum.Value / 3, 150, 60_000);
        var buckets = samples.Where(s => s.Name == "opennvr_frame_latency_milliseconds_bucket" && s.Labels.Contains(taskLabel, StringComparison.Ordinal)).ToList();
        Assert.True(buckets.Count > 5, "a histogram has several buckets");
        Assert.Equal(3, buckets.Single(b => b.Labels.Contains("le=\"+Inf\"", StringComparison.Ordinal)).Value);
        Assert.Equal(buckets.Select(b => b.Value).Order(), buckets.Select(b => b.Value)); // cumulative
        Assert.Contains("# TYPE opennvr_frame_latency_milliseconds histogram", scrape, StringComparison.Ordinal);

        Assert.Contains(samples, s => s.Name == "opennvr_core_events_ingested_total" && s.Value >= 3);
        Assert.Contains(samples, s => s.Name.StartsWith("opennvr_core_events_insert_duration_milliseconds", StringComparison.Ordinal));
        // ASP.NET Core's and the runtime's meters come along.
        Assert.Contains(samples, s => s.Name.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
    }

    private async Task<string> ScrapeAsync()
    {
        using var client = core.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MetricsCoreFixture.ScrapeKey);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return text;
    }

    public sealed record Sample(string Name, string Labels, double Value);

    /// <summary>The Prometheus text exposition format: every line a comment (<c># HELP</c>, <c># TYPE</c>, <c># EOF</c>) or a sample.</summary>
    public static List<Sample> Parse(string exposition)
    {
        var samples = new List<Sample>();
        foreach (var line in exposition.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(@"^# (HELP|TYPE|UNIT|EOF)", line);
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new Sample(match.Groups["name"].Value, match.Groups["labels"].Value, value));
        }

        Assert.NotEmpty(samples);
        return samples;
    }

    // Label values are quoted and may hold '}' (routes such as /api/v1/webhooks/{id:int}) and escaped quotes.
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*)\})? (?<value>[-+0-9.eE]+|[+-]Inf|NaN)( -?[0-9]+)?$""")]
    private static partial Regex SampleLine();
}
