using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using OpenCvSharp;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Pipeline;

/// <summary>
/// The app host's default run (the collection's one app host): the demo camera loops vtest with a person_counting
/// policy every 500 ms (2 fps); its people are tracked and stored as events per person (person.entered with the
/// best frame's snapshot and box, person.left with dwell_s), with trace ids and latency figures, and its occupancy
/// series is served per camera.
/// </summary>
[Collection(AppHostCollection.Name)]
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class AppHostPipelineTests(AppHostFixture host, ITestOutputHelper output)
{
    // The demo clip's static objects (768x576 pixels): the rock at the left of the path and the sign post on the lawn.
    private static readonly double[][] StaticObjects = [[161, 249, 32, 27], [30, 109, 16, 30]];

    [Fact]
    public async Task The_demo_camera_stores_people_not_frames_over_150_s()
    {
        using var admin = host.App.CreateHttpClient("core");
        using (var login = await admin.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = await host.ParameterValueAsync("admin-password") }))
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)(await HttpAssert.OkJsonAsync(login))["access_token"]!);
        }

        var cameras = (await admin.GetFromJsonAsync<JsonObject>("/api/v1/cameras"))!["cameras"]!.AsArray();
        var demo = cameras.Single(c => c!["ai_policies"]!.AsArray().Any(p => (string)p!["task"]! == "person_counting"))!;
        var camera = (int)demo["id"]!;
        var policy = demo["ai_policies"]!.AsArray().Single()!;
        Assert.Equal((500, true), ((int)policy["interval_ms"]!, (bool)policy["motion_gating"]!));

        await Wait.UntilAsync(async () => (await EventsAsync(admin, camera, 0, long.MaxValue, "person.entered", 1)).Count >= 1,
            TimeSpan.FromSeconds(90), "the demo camera's first person.entered", pollMs: 1000);

        // The scenario: 150 s of the demo clip (a duration to measure over, not a synchronisation).
        var start = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(150));
        var end = DateTimeOffset.UtcNow;
        var minutes = (end - start).TotalMinutes;
        var events = await EventsAsync(admin, camera, start.ToUnixTimeMilliseconds(), end.ToUnixTimeMilliseconds(), null, 10_000);

        var byType = events.GroupBy(e => (string?)e["event_type"] ?? "(none)").ToDictionary(g => g.Key, g => g.Count());
        var dwell = events.Where(e => (string?)e["event_type"] == "person.left").Select(e => (double)e["payload"]!["dwell_s"]!).Order().ToList();
        var median = dwell.Count == 0 ? 0 : dwell[dwell.Count / 2];
        var entered = byType.GetValueOrDefault("person.entered");
        var others = events.Count(e => (string?)e["event_type"] is not ("person.entered" or "person.left"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{minutes:0.00} min: {events.Count} events ({events.Count / minutes:0.0}/min): {string.Join(", ", byType.Select(t => $"{t.Key} {t.Value}"))}; " +
            $"person.entered {entered / minutes:0.0}/min; others {others / minutes:0.0}/min; person.left dwell_s median {median:0.0} (n={dwell.Count}, " +
            $"p25 {(dwell.Count == 0 ? 0 : dwell[dwell.Count / 4]):0.0}, p75 {(dwell.Count == 0 ? 0 : dwell[dwell.Count * 3 / 4]):0.0})"));

        Assert.Equal(0, byType.GetValueOrDefault("(none)")); // nothing stored per analysed frame
        Assert.True(others / minutes <= 10, $"events other than person.entered/left: {others / minutes:0.0} a minute");
        Assert.True(entered / minutes < 40, $"person.entered: {entered / minutes:0.0} a minute (tracks fragmented)");
        Assert.True(entered >= 3, $"a scene of about six people at a time yields entries in 150 s: {entered}");
        Assert.True(dwell.Count >= 3 && median >= 5, $"median dwell_s {median:0.0} of {dwell.Count} person.left events");

        foreach (var e in events.Where(e => ((string?)e["event_type"])?.StartsWith("person.", StringComparison.Ordinal) == true))
        {
            Assert.True((long)e["track_id"]! > 0, e.ToJsonString());
            Assert.Equal((long)e["track_id"]!, (long)e["payload"]!["track_id"]!);
            Assert.Matches("^[0-9a-f]{32}$", (string)e["trace_id"]!);
            var box = Assert.Single(e["bbox"]!.AsArray())!.AsArray().Select(v => (double)v!).ToArray();
            Assert.Equal(4, box.Length);
            Assert.All(StaticObjects, s => Assert.True(Iou(box, s) < 0.5, $"an event for a static object of the scene: {e.ToJsonString()}"));
        }

        // Snapshots: the person's best frame, at the camera's size, for the first few.
        foreach (var e in events.Where(e => (string?)e["event_type"] == "person.entered").Take(3))
        {
            var jpeg = await admin.GetByteArrayAsync((string)e["snapshot_url"]!);
            using var image = Cv2.ImDecode(jpeg, ImreadModes.Color);
            Assert.Equal((768, 576), (image.Width, image.Height));
            Assert.True((double)e["pipeline_latency_ms"]! > 0, e.ToJsonString());
        }

        // The occupancy series covers the window in 10 s buckets with the scene's people.
        var series = await admin.GetFromJsonAsync<JsonObject>(
            $"/api/v1/cameras/{camera}/occupancy?start_unix={start.ToUnixTimeSeconds()}&end_unix={end.ToUnixTimeSeconds()}&bucket_s=10");
        var buckets = series!["buckets"]!.AsArray();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"occupancy: {buckets.Count} buckets, avg {string.Join(' ', buckets.Select(b => ((double)b!["avg"]!).ToString("0.0", CultureInfo.InvariantCulture)))}"));
        Assert.True(buckets.Count >= 10, series.ToJsonString());
        Assert.InRange(buckets.Average(b => (double)b!["avg"]!), 1, 12);
    }

    private static async Task<List<JsonNode>> EventsAsync(HttpClient admin, int camera, long fromMs, long toMs, string? eventType, int max)
    {
        var list = new List<JsonNode>();
        string? cursor = null;
        do
        {
            var url = string.Create(CultureInfo.InvariantCulture, $"/api/v1/events?camera_id={camera}&limit=500") +
                      (fromMs > 0 ? string.Create(CultureInfo.InvariantCulture, $"&start_unix={fromMs / 1000.0}&end_unix={toMs / 1000.0}") : "") +
                      (eventType is null ? "" : $"&event_type={eventType}") + (cursor is null ? "" : $"&cursor={cursor}");
            var page = (await admin.GetFromJsonAsync<JsonObject>(url))!;
            list.AddRange(page["events"]!.AsArray().Select(e => e!));
            cursor = (string?)page["next_cursor"];
        }
        while (cursor is not null && list.Count < max);
        return list;
    }

    private static double Iou(double[] a, double[] b)
    {
        var w = Math.Min(a[0] + a[2], b[0] + b[2]) - Math.Max(a[0], b[0]);
        var h = Math.Min(a[1] + a[3], b[1] + b[3]) - Math.Max(a[1], b[1]);
        var inter = Math.Max(0, w) * Math.Max(0, h);
        return inter / (a[2] * a[3] + b[2] * b[3] - inter);
    }
}
