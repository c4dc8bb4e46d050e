using System.Text.Json.Nodes;

namespace OpenNvr.Core.Integrations.Mqtt;

/// <summary>One retained discovery message: its config topic and JSON payload.</summary>
public sealed record DiscoveryConfig(string Topic, string Payload);

/// <summary>
/// Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): one device per
/// camera holding a person-count sensor (occupancy), a "person present" binary sensor read from the same count topic,
/// a recording-state sensor and, per counting line, an in and an out sensor. Every entity is unavailable while
/// <c>opennvr/available</c> says offline (Core's last will). Publishing an empty retained payload to a config topic
/// removes the entity; <see cref="ConfigTopics"/> lists what to clear when a camera goes.
/// </summary>
public sealed class HomeAssistantDiscovery(MqttTopics topics)
{
    public const string OccupancyLabel = "person";

    public IReadOnlyList<DiscoveryConfig> CameraConfigs(int cameraId, string cameraName, IReadOnlyCollection<string>? lineNames = null)
    {
        if (!topics.DiscoveryEnabled)
        {
            return [];
        }

        var countTopic = topics.Count(cameraId, OccupancyLabel);
        var configs = new List<DiscoveryConfig>
        {
            Config("sensor", cameraId, cameraName, "person_count", "People", new JsonObject
            {
                ["state_topic"] = countTopic,
                ["state_class"] = "measurement",
                ["unit_of_measurement"] = "people",
                ["icon"] = "mdi:account-group",
            }),
            Config("binary_sensor", cameraId, cameraName, "person_present", "Person present", new JsonObject
            {
                ["state_topic"] = countTopic,
                ["device_class"] = "occupancy",
                ["value_template"] = "{{ 'ON' if (value | int(0)) > 0 else 'OFF' }}",
            }),
            Config("sensor", cameraId, cameraName, "recording_state", "Recording state", new JsonObject
            {
                ["state_topic"] = topics.RecordingState(cameraId),
                ["icon"] = "mdi:record-rec",
            }),
        };

        foreach (var line in lineNames ?? [])
        {
            foreach (var direction in new[] { "in", "out" })
            {
                configs.Add(Config("sensor", cameraId, cameraName, $"line_{MqttTopics.Segment(line)}_{direction}", $"{line} {direction}", new JsonObject
                {
                    ["state_topic"] = topics.LineCount(cameraId, line, direction),
                    ["state_class"] = "total_increasing",
                    ["unit_of_measurement"] = "people",
                    ["icon"] = direction == "in" ? "mdi:account-arrow-right" : "mdi:account-arrow-left",
                }));
            }
        }

        return configs;
    }

    /// <summary>The config topics of a camera's fixed entities and of the given lines: publish empty payloads to remove them.</summary>
    public IReadOnlyList<string> ConfigTopics(int cameraId, IReadOnlyCollection<string>? lineNames = null) =>
        CameraConfigs(cameraId, "", lineNames).Select(c => c.Topic).ToList();

    private DiscoveryConfig Config(string component, int cameraId, string cameraName, string objectSuffix, string entityName, JsonObject specific)
    {
        var objectId = $"camera_{cameraId}_{objectSuffix}";
        var uniqueId = $"{topics.Prefix}_{objectId}";
        var payload = new JsonObject
        {
            ["name"] = entityName,
            ["unique_id"] = uniqueId,
            ["object_id"] = uniqueId,
            ["availability_topic"] = topics.Available,
            ["payload_available"] = "online",
            ["payload_not_available"] = "offline",
            ["device"] = new JsonObject
            {
                ["identifiers"] = new JsonArray($"{topics.Prefix}_camera_{cameraId}"),
                ["name"] = cameraName,
                ["manufacturer"] = "OpenNVR",
                ["model"] = "Camera",
            },
            ["origin"] = new JsonObject { ["name"] = "OpenNVR for .NET" },
        };
        foreach (var (key, value) in specific)
        {
            payload[key] = value?.DeepClone();
        }

        return new DiscoveryConfig(topics.DiscoveryConfig(component, objectId), payload.ToJsonString());
    }
}
