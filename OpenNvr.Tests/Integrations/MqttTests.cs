using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Integrations;

/// <summary>
/// What a subscriber of <c>opennvr/#</c> and <c>homeassistant/#</c> sees, against both brokers Core supports: its own
/// embedded MQTTnet broker and a real Mosquitto.
/// </summary>
public abstract class MqttContractTests<TFixture>(TFixture core) where TFixture : MqttCoreFixture
{
    [Fact]
    public async Task A_subscriber_gets_availability_discovery_state_events_and_counts_and_a_deleted_camera_goes()
    {
        var cameraId = await core.CreateCameraAsync("Front door");
        await core.ReportStateAsync(cameraId, "recording");
        // MQTTnet's broker (5.2) reads its retained messages before it registers a new subscription, so a retained
        // message it receives in between reaches neither: subscribe once Core's state is acknowledged.
        await Wait.UntilAsync(() => core.Publisher.Status.PendingState == 0, TimeSpan.FromSeconds(30), "Core's MQTT state to be acknowledged");
        await using var watcher = await core.WatchAsync();
        var topics = core.Topics;

        var available = await watcher.WaitForAsync(m => m.Topic == "opennvr/available", "availability");
        Assert.Equal("online", available.Payload);
        Assert.True(available.Retain, "opennvr/available must be retained");

        // Home Assistant discovery: a device per camera with a people sensor, a "person present" binary sensor and
        // the recording state, all retained, all unavailable when opennvr/available says offline.
        var sensor = await ConfigAsync(watcher, $"homeassistant/sensor/opennvr/camera_{cameraId}_person_count/config");
        Assert.Equal($"opennvr/camera_{cameraId}/person/count", (string)sensor["state_topic"]!);
        Assert.Equal("measurement", (string)sensor["state_class"]!);
        Assert.Equal("opennvr/available", (string)sensor["availability_topic"]!);
        Assert.Equal($"opennvr_camera_{cameraId}", (string)sensor["device"]!["identifiers"]![0]!);
        Assert.Equal("Front door", (string)sensor["device"]!["name"]!);
        var present = await ConfigAsync(watcher, $"homeassistant/binary_sensor/opennvr/camera_{cameraId}_person_present/config");
        Assert.Equal("occupancy", (string)present["device_class"]!);
        Assert.Equal(sensor["state_topic"]!.GetValue<string>(), (string)present["state_topic"]!);
        Assert.Equal($"opennvr_camera_{cameraId}", (string)present["device"]!["identifiers"]![0]!);
        var recording = await ConfigAsync(watcher, $"homeassistant/sensor/opennvr/camera_{cameraId}_recording_state/config");
        Assert.Equal(topics.RecordingState(cameraId), (string)recording["state_topic"]!);
        var state = await watcher.WaitForAsync(m => m.Topic == topics.RecordingState(cameraId) && m.Payload == "recording", "recording state");
        Assert.Equal(("recording", true), (state.Payload, state.Retain));

        // Events: every stored event on opennvr/events in the REST API's shape; its count becomes the retained count.
        const long executedAt = 1_795_784_710_321;
        await core.IngestAsync(cameraId, (3, executedAt));
        var published = await watcher.WaitForAsync(m => m.Topic == "opennvr/events" && m.Payload.Contains(executedAt.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), "the event");
        Assert.False(published.Retain);
        var json = JsonNode.Parse(published.Payload)!;
        using (var admin = await core.AdminAsync())
        {
            var rest = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/events/{(long)json["id"]!}"));
            Assert.True(JsonNode.DeepEquals(rest, json), $"MQTT {json.ToJsonString()} differs from REST {rest.ToJsonString()}");
        }

        Assert.Equal(cameraId, (int)json["camera_id"]!);
        Assert.Equal("person", (string)json["label"]!);
        Assert.Equal(3, (int)json["count"]!);
        var count = await watcher.WaitForAsync(m => m.Topic == $"opennvr/camera_{cameraId}/person/count", "the retained count");
        Assert.Equal(("3", true), (count.Payload, count.Retain));

        // A late subscriber (Home Assistant restarting) gets the retained state from the broker at once.
        await using (var late = await core.WatchAsync())
        {
            Assert.Equal("3", (await late.WaitForAsync(m => m.Topic == $"opennvr/camera_{cameraId}/person/count", "count for a late subscriber")).Payload);
            Assert.Equal("online", (await late.WaitForAsync(m => m.Topic == "opennvr/available", "availability for a late subscriber")).Payload);
        }

        // A deleted camera: its entities are removed (empty retained config) and its retained state cleared.
        using (var admin = await core.AdminAsync())
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/cameras/{cameraId}")).StatusCode);
        }

        foreach (var topic in new[]
                 {
                     $"homeassistant/sensor/opennvr/camera_{cameraId}_person_count/config",
                     $"homeassistant/binary_sensor/opennvr/camera_{cameraId}_person_present/config",
                     $"homeassistant/sensor/opennvr/camera_{cameraId}_recording_state/config",
                     $"opennvr/camera_{cameraId}/person/count",
                     topics.RecordingState(cameraId),
                 })
        {
            await watcher.WaitForAsync(m => m.Topic == topic && m.Payload.Length == 0, $"{topic} cleared");
        }

        await using var afterDelete = await core.WatchAsync();
        await afterDelete.WaitForAsync(m => m.Topic == "opennvr/available", "availability after the delete");
        Assert.DoesNotContain(afterDelete.Seen, m => m.Topic.Contains($"camera_{cameraId}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Line_crossings_become_retained_in_and_out_totals_with_their_home_assistant_sensors()
    {
        var cameraId = await core.CreateCameraAsync("Shop entrance");
        await using var watcher = await core.WatchAsync();
        // Crossings as the Recorder reports them (API.md: event_type line.crossed, track_id, the line and the direction);
        // the ingest contract of this branch carries them in the payload, issue 13's on the event: both are read.
        using (var recorder = core.Internal())
        {
            string[] directions = ["in", "in", "out"];
            using var response = await recorder.PostAsJsonAsync("/api/v1/internal/events", new
            {
                events = directions.Select((direction, i) => new
                {
                    camera_id = cameraId,
                    task = "person_tracking",
                    label = "person",
                    executed_at_unix_ms = 1_795_784_710_000L + i,
                    payload = new { event_type = "line.crossed", track_id = i + 1, line_id = 4, line_name = "Door", direction },
                }).ToArray(),
            });
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var crossedIn = await watcher.WaitForAsync(m => m.Topic == $"opennvr/camera_{cameraId}/lines/door/in" && m.Payload == "2", "2 people in");
        Assert.True(crossedIn.Retain);
        var crossedOut = await watcher.WaitForAsync(m => m.Topic == $"opennvr/camera_{cameraId}/lines/door/out" && m.Payload == "1", "1 person out");
        Assert.True(crossedOut.Retain);
        foreach (var direction in new[] { "in", "out" })
        {
            var config = JsonNode.Parse((await watcher.WaitForAsync(
                m => m.Topic == $"homeassistant/sensor/opennvr/camera_{cameraId}_line_door_{direction}/config" && m.Payload.Length > 0,
                $"the line's {direction} sensor")).Payload)!;
            Assert.Equal($"opennvr/camera_{cameraId}/lines/door/{direction}", (string)config["state_topic"]!);
            Assert.Equal("total_increasing", (string)config["state_class"]!);
            Assert.Equal("Shop entrance", (string)config["device"]!["name"]!);
        }

        // A person_tracking event is not a count: no count topic appears for it.
        Assert.DoesNotContain(watcher.Seen, m => m.Topic == $"opennvr/camera_{cameraId}/person/count");
    }

    [Fact]
    public async Task The_console_test_publish_reaches_subscribers_and_the_status_shows_the_broker_without_credentials()
    {
        await using var watcher = await core.WatchAsync();
        using var admin = await core.AdminAsync();
        using var response = await admin.PostAsync("/api/v1/integrations/mqtt/test", null);
        var body = await HttpAssert.OkJsonAsync(response);
        Assert.Equal("opennvr/test", (string)body["topic"]!);
        Assert.True((bool)body["delivered"]!);
        await watcher.WaitForAsync(m => m.Topic == "opennvr/test" && m.Payload.Contains("Test publish", StringComparison.Ordinal), "the test message");

        using var status = await admin.GetAsync("/api/v1/integrations/mqtt");
        var text = await status.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        var json = JsonNode.Parse(text)!;
        Assert.True((bool)json["connected"]!);
        Assert.Equal($"mqtt://127.0.0.1:{core.BrokerPort}", (string)json["broker"]!);
        Assert.True((long)json["published"]! >= 1);
        Assert.DoesNotContain(core.BrokerPassword, text, StringComparison.Ordinal);

        var (operatorId, operatorClient) = await core.CreateUserAsync("operator");
        using (operatorClient)
        {
            await HttpAssert.ProblemAsync(await operatorClient.GetAsync("/api/v1/integrations/mqtt"), HttpStatusCode.Forbidden);
        }

        Assert.True(operatorId > 0);
        Assert.DoesNotContain(core.Logs.GetSnapshot(), record => record.Message.Contains(core.BrokerPassword, StringComparison.Ordinal));
    }

    private static async Task<JsonNode> ConfigAsync(MqttWatcher watcher, string topic)
    {
        var config = await watcher.WaitForAsync(m => m.Topic == topic && m.Payload.Length > 0, topic);
        Assert.True(config.Retain, $"{topic} must be retained");
        return JsonNode.Parse(config.Payload)!;
    }
}

public sealed class EmbeddedBrokerMqttTests(EmbeddedBrokerCoreFixture core)
    : MqttContractTests<EmbeddedBrokerCoreFixture>(core), IClassFixture<EmbeddedBrokerCoreFixture>
{
    private readonly EmbeddedBrokerCoreFixture _core = core;

    [Fact]
    public async Task The_embedded_broker_refuses_wrong_credentials()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => MqttWatcher.ConnectAsync(_core.BrokerPort, "opennvr", "wrong-password"));
        Assert.Contains("BadUserNameOrPassword", error.Message, StringComparison.Ordinal);
        var stranger = await Assert.ThrowsAsync<InvalidOperationException>(() => MqttWatcher.ConnectAsync(_core.BrokerPort, "someone", EmbeddedBrokerCoreFixture.MqttPassword));
        Assert.Contains("BadUserNameOrPassword", stranger.Message, StringComparison.Ordinal);
        await using var rightful = await _core.WatchAsync();
        Assert.True(rightful.IsConnected);
    }
}

public sealed class MosquittoMqttTests(MosquittoCoreFixture core)
    : MqttContractTests<MosquittoCoreFixture>(core), IClassFixture<MosquittoCoreFixture>;
