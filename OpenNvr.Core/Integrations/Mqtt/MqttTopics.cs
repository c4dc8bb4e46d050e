using System.Text;

namespace OpenNvr.Core.Integrations.Mqtt;

/// <summary>
/// The topic tree (API.md, "MQTT topics"), under <see cref="MqttOptions.TopicPrefix"/> (<c>opennvr</c> below):
/// <code>
/// opennvr/available                          online | offline (retained; offline is also the last will)
/// opennvr/events                             every stored event, JSON of the REST API's shape
/// opennvr/camera_&lt;id&gt;/&lt;label&gt;/count          current count of that label (retained)
/// opennvr/camera_&lt;id&gt;/recording_state        recording | reconnecting | stalled | disabled | error | unknown (retained)
/// opennvr/camera_&lt;id&gt;/lines/&lt;line&gt;/in|out    people that crossed a line each way (retained)
/// homeassistant/&lt;component&gt;/opennvr/camera_&lt;id&gt;_&lt;object&gt;/config   Home Assistant discovery (retained)
/// </code>
/// </summary>
public sealed class MqttTopics(string prefix, string discoveryPrefix)
{
    public string Prefix { get; } = prefix;

    public string DiscoveryPrefix { get; } = discoveryPrefix;

    public bool DiscoveryEnabled => DiscoveryPrefix.Length > 0;

    public string Available => $"{Prefix}/available";

    public string Events => $"{Prefix}/events";

    /// <summary>Where the console's "test publish" goes: clients subscribed to <c>opennvr/#</c> see it, nothing acts on it.</summary>
    public string Test => $"{Prefix}/test";

    public string Camera(int cameraId) => $"{Prefix}/camera_{cameraId}";

    public string Count(int cameraId, string label) => $"{Camera(cameraId)}/{Segment(label)}/count";

    public string RecordingState(int cameraId) => $"{Camera(cameraId)}/recording_state";

    public string LineCount(int cameraId, string line, string direction) => $"{Camera(cameraId)}/lines/{Segment(line)}/{direction}";

    /// <summary><c>homeassistant/&lt;component&gt;/&lt;prefix&gt;/&lt;object id&gt;/config</c>, Home Assistant's discovery topic.</summary>
    public string DiscoveryConfig(string component, string objectId) => $"{DiscoveryPrefix}/{component}/{Prefix}/{objectId}/config";

    /// <summary>
    /// A label or line name as one topic level: MQTT wildcards (<c>+</c>, <c>#</c>), the level separator and control
    /// characters cannot appear in a topic name, and Home Assistant object ids want <c>[a-z0-9_-]</c>; anything else
    /// becomes '_', lower case, at most 64 characters.
    /// </summary>
    public static string Segment(string name)
    {
        var builder = new StringBuilder(Math.Min(name.Length, 64));
        foreach (var c in name.Trim())
        {
            if (builder.Length == 64)
            {
                break;
            }

            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? char.ToLowerInvariant(c) : '_');
        }

        return builder.Length == 0 ? "_" : builder.ToString();
    }
}
