using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using OpenCvSharp;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Pipeline;

/// <summary>
/// The app host's default run (the collection's one app host): the demo camera loops vtest with a person_counting
/// policy every 500 ms (2 fps), and its events reach <c>/api/v1/events/latest</c> with snapshots, trace ids and
/// latency figures.
/// </summary>
[Collection(AppHostCollection.Name)]
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class AppHostPipelineTests(AppHostFixture host)
{
    [Fact]
    public async Task The_demo_camera_yields_person_counting_events_with_snapshots_trace_ids_and_latencies_within_60_s()
    {
        using var admin = host.App.CreateHttpClient("core");
        using (var login = await admin.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = await host.ParameterValueAsync("admin-password") }))
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)(await HttpAssert.OkJsonAsync(login))["access_token"]!);
        }

        var cameras = (await admin.GetFromJsonAsync<JsonObject>("/api/v1/cameras"))!["cameras"]!.AsArray();
        var demo = cameras.Single(c => c!["ai_policies"]!.AsArray().Any(p => (string)p!["task"]! == "person_counting"))!;
        var policy = demo["ai_policies"]!.AsArray().Single()!;
        Assert.Equal((500, true), ((int)policy["interval_ms"]!, (bool)policy["motion_gating"]!));

        JsonArray events = [];
        await Wait.UntilAsync(async () =>
            {
                events = (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events/latest?camera_id={demo["id"]}&task=person_counting&limit=20"))!["events"]!.AsArray();
                return events.Count >= 3;
            },
            TimeSpan.FromSeconds(60), () => $"3 person_counting events of the demo camera (so far: {events.ToJsonString()})", pollMs: 1000);

        foreach (var e in events.Select(e => e!))
        {
            Assert.Equal("person_counting", (string)e["task"]!);
            Assert.InRange((int)e["count"]!, 1, 8);
            Assert.Matches("^[0-9a-f]{32}$", (string)e["trace_id"]!);
            Assert.True((double)e["latency_ms"]! > 0, e.ToJsonString());
            Assert.True((double)e["pipeline_latency_ms"]! > 0, e.ToJsonString());
            Assert.Equal((int)e["count"]!, e["bbox"]!.AsArray().Count);

            var jpeg = await admin.GetByteArrayAsync((string)e["snapshot_url"]!);
            using var image = Cv2.ImDecode(jpeg, ImreadModes.Color);
            Assert.Equal((768, 576), (image.Width, image.Height));
        }

        // A count event says something: consecutive events of the policy differ in count.
        var counts = events.Select(e => (int)e!["count"]!).ToList();
        Assert.All(counts.Zip(counts.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second));
    }
}
