using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Pipeline;

namespace OpenNvr.Tests.Integrations;

/// <summary>
/// The whole system as a user runs it: Core seeding the demo camera (vtest, person_counting every 500 ms), the
/// Recorder recording it and sending frames to the real Inference (real models), Core storing the events, and Core
/// publishing them to an MQTT broker and exposing its meters at <c>/metrics</c> behind a scrape key.
/// </summary>
public abstract class DemoCameraIntegrationHosts : PipelineHosts
{
    public const string ScrapeKey = "demo-camera-scrape-key-0123456789";

    public abstract int BrokerPort { get; }

    public abstract string BrokerUsername { get; }

    public abstract string BrokerPassword { get; }

    public Task<MqttWatcher> WatchAsync() => MqttWatcher.ConnectAsync(BrokerPort, BrokerUsername, BrokerPassword);

    protected abstract Task<IReadOnlyDictionary<string, string>> MqttSettingsAsync();

    protected override async Task<IReadOnlyDictionary<string, string>> MoreCoreSettingsAsync()
    {
        var settings = new Dictionary<string, string>(await MqttSettingsAsync())
        {
            ["Demo:CameraUrl"] = PipelineTestData.VtestUrl,
            ["Metrics:ScrapeKey"] = ScrapeKey,
            ["Mqtt:ReconnectMinDelayMs"] = "100",
            ["Mqtt:ReconnectMaxDelayMs"] = "1000",
        };
        return settings;
    }
}

/// <summary>Core hosting its own MQTTnet broker on a free loopback port.</summary>
public sealed class DemoCameraEmbeddedBrokerHosts : DemoCameraIntegrationHosts
{
    private const string Password = "demo-camera-embedded-mqtt-password";

    public override int BrokerPort { get; } = FreePort.Tcp();

    public override string BrokerUsername => "opennvr";

    public override string BrokerPassword => Password;

    protected override Task<IReadOnlyDictionary<string, string>> MqttSettingsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>
        {
            ["Mqtt:Embedded"] = "true",
            ["Mqtt:EmbeddedPort"] = BrokerPort.ToString(CultureInfo.InvariantCulture),
            ["Mqtt:EmbeddedBindAddress"] = "127.0.0.1",
            ["Mqtt:Password"] = Password,
        });
}

/// <summary>Core publishing to a real Mosquitto started for the fixture.</summary>
public sealed class DemoCameraMosquittoHosts : DemoCameraIntegrationHosts
{
    private MosquittoBroker? _broker;

    private MosquittoBroker Broker => _broker ?? throw new InvalidOperationException("Mosquitto has not started.");

    public override int BrokerPort => Broker.Port;

    public override string BrokerUsername => Broker.Username;

    public override string BrokerPassword => Broker.Password;

    protected override async Task<IReadOnlyDictionary<string, string>> MqttSettingsAsync()
    {
        _broker = await MosquittoBroker.StartAsync(password: "demo-camera-mosquitto-password");
        return new Dictionary<string, string> { ["Mqtt:Url"] = Broker.UrlWithCredentials };
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}

/// <summary>What a Home Assistant user subscribed to the broker sees while the demo camera runs, and what Prometheus scrapes.</summary>
public abstract class DemoCameraIntegrationTests<THosts>(THosts hosts) where THosts : DemoCameraIntegrationHosts
{
    private static readonly TimeSpan EventsTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task The_demo_cameras_events_counts_state_and_discovery_reach_the_broker_and_frame_latency_reaches_metrics()
    {
        using var admin = await hosts.Core.AdminAsync();
        var demo = (await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/cameras")))["cameras"]!.AsArray()
            .Single(c => c!["ai_policies"]!.AsArray().Any(p => (string)p!["task"]! == "person_counting"))!;
        var cameraId = (int)demo["id"]!;
        await Wait.UntilAsync(async () => (bool)(await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/integrations/mqtt")))["connected"]!,
            TimeSpan.FromSeconds(30), "Core's MQTT publisher to connect");
        await using var watcher = await hosts.WatchAsync();

        Assert.Equal("online", (await watcher.WaitForAsync(m => m.Topic == "opennvr/available" && m.Payload == "online", "availability")).Payload);

        // Home Assistant discovery of the seeded camera: its device with the people sensor and "person present".
        var sensor = await watcher.WaitForAsync(m => m.Topic == $"homeassistant/sensor/opennvr/camera_{cameraId}_person_count/config" && m.Payload.Length > 0,
            "the people sensor's discovery config");
        Assert.True(sensor.Retain);
        var sensorConfig = JsonNode.Parse(sensor.Payload)!;
        Assert.Equal($"opennvr/camera_{cameraId}/person/count", (string)sensorConfig["state_topic"]!);
        Assert.Equal((string)demo["name"]!, (string)sensorConfig["device"]!["name"]!);
        await watcher.WaitForAsync(m => m.Topic == $"homeassistant/binary_sensor/opennvr/camera_{cameraId}_person_present/config" && m.Payload.Length > 0,
            "the person-present discovery config");

        // The Recorder records the camera and says so; Core passes the state on, retained.
        var recording = await watcher.WaitForAsync(m => m.Topic == $"opennvr/camera_{cameraId}/recording_state" && m.Payload == "recording",
            "the recording state", EventsTimeout);
        Assert.True(recording.Retain);

        // Real events of the demo camera (people counted by the real model) on opennvr/events, as the REST API shows them.
        var published = await watcher.WaitForAsync(m => m.Topic == "opennvr/events" && JsonNode.Parse(m.Payload)!["camera_id"]!.GetValue<int>() == cameraId,
            "an event of the demo camera", EventsTimeout);
        var json = JsonNode.Parse(published.Payload)!;
        Assert.Equal("person_counting", (string)json["task"]!);
        // People the real model found on a real frame. The demo policy tracks people (issue 13): a person's event
        // carries that person's box and track; an event of a whole frame carries one box per person counted.
        var boxes = json["bbox"]!.AsArray().Count;
        if ((string?)json["event_type"] is { } type && type.StartsWith("person.", StringComparison.Ordinal))
        {
            Assert.NotNull(json["track_id"]);
            Assert.Equal(1, boxes);
        }
        else
        {
            Assert.True((int)json["count"]! >= 1, json.ToJsonString());
            Assert.Equal((int)json["count"]!, boxes);
        }
        var rest = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/{(long)json["id"]!}"));
        Assert.True(JsonNode.DeepEquals(rest, json), $"MQTT {json.ToJsonString()} differs from REST {rest.ToJsonString()}");

        // The retained count is the count of the newest event of the camera: a subscriber arriving now gets it at once.
        async Task<JsonArray> StoredAsync() => (await HttpAssert.OkJsonAsync(
            await admin.GetAsync($"/api/v1/events/latest?camera_id={cameraId}&task=person_counting&limit=200")))["events"]!.AsArray();
        await Wait.UntilAsync(async () => (await StoredAsync()).Count >= 2, EventsTimeout, "two stored events of the demo camera", pollMs: 1000);
        await Wait.UntilAsync(async () =>
            {
                // The camera keeps counting: the retained count is the newest one stored before or after subscribing.
                var before = (int)(await StoredAsync())[0]!["count"]!;
                await using var late = await hosts.WatchAsync();
                var retained = await late.WaitForAsync(m => m.Topic == $"opennvr/camera_{cameraId}/person/count", "the retained count");
                var after = (int)(await StoredAsync())[0]!["count"]!;
                return retained.Retain && new[] { before, after }.Select(c => c.ToString(CultureInfo.InvariantCulture)).Contains(retained.Payload);
            },
            TimeSpan.FromSeconds(60), "the retained count to equal the newest stored count", pollMs: 500);

        // Prometheus: the frame latency histogram of this camera has at least as many samples as this Core stored
        // events (Core's meters are static; other Cores of this test process only add to a series).
        var stored = (await StoredAsync()).Count(e => e!["pipeline_latency_ms"] is not null);
        Assert.True(stored >= 2, $"{stored} stored events with a pipeline latency");
        var samples = MetricsTests.Parse(await ScrapeAsync());
        bool Ours(MetricsTests.Sample s) => s.Labels.Contains($"camera=\"{cameraId}\"", StringComparison.Ordinal)
            && s.Labels.Contains("task=\"person_counting\"", StringComparison.Ordinal);
        var count = samples.Single(s => s.Name == "opennvr_frame_latency_milliseconds_count" && Ours(s));
        Assert.True(count.Value >= stored, $"{count.Value} frame latency samples, {stored} stored events");
        var buckets = samples.Where(s => s.Name == "opennvr_frame_latency_milliseconds_bucket" && Ours(s)).ToList();
        Assert.Equal(count.Value, buckets.Single(b => b.Labels.Contains("le=\"+Inf\"", StringComparison.Ordinal)).Value);
        Assert.Equal(buckets.Select(b => b.Value).Order(), buckets.Select(b => b.Value));
        Assert.True(samples.Single(s => s.Name == "opennvr_frame_latency_milliseconds_sum" && Ours(s)).Value > 0);
    }

    private async Task<string> ScrapeAsync()
    {
        using var client = hosts.Core.Http();
        using var anonymous = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", DemoCameraIntegrationHosts.ScrapeKey);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return text;
    }
}

[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class DemoCameraEmbeddedBrokerTests(DemoCameraEmbeddedBrokerHosts hosts)
    : DemoCameraIntegrationTests<DemoCameraEmbeddedBrokerHosts>(hosts), IClassFixture<DemoCameraEmbeddedBrokerHosts>;

[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class DemoCameraMosquittoTests(DemoCameraMosquittoHosts hosts)
    : DemoCameraIntegrationTests<DemoCameraMosquittoHosts>(hosts), IClassFixture<DemoCameraMosquittoHosts>;
