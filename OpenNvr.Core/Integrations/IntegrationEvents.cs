using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Apis;
using OpenNvr.Core.Integrations.Mqtt;
using OpenNvr.Core.Integrations.Webhooks;

namespace OpenNvr.Core.Integrations;

/// <summary>
/// The one place Core tells the outside world what happened: MQTT (events, retained state, Home Assistant
/// discovery) and webhooks. Call sites (event ingest after its insert committed, camera administration, recording
/// state reports) call these methods; none of them waits for a broker, a receiver or the database.
/// </summary>
public sealed class IntegrationEvents(MqttIntegration mqtt, WebhookQueue webhooks, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    private readonly JsonSerializerOptions _json = json.Value.SerializerOptions;

    /// <summary>Whether stored events go anywhere (MQTT on, or webhooks registered): ingest skips the extra work otherwise.</summary>
    public bool WantsEvents => mqtt.Enabled || webhooks.AnyHooks;

    /// <summary>Events that were stored (their transaction committed), as the REST API shows them.</summary>
    public void EventsStored(IReadOnlyList<EventDto> events)
    {
        // Read as the REST API's JSON: what issue 13 adds to events (event_type, a line crossing's direction) is read by
        // its API.md names, whichever record carries it.
        var stored = events.Select(e => (Event: e, Json: JsonSerializer.SerializeToElement(e, _json))).ToList();
        foreach (var (e, element) in stored)
        {
            mqtt.EventStored(e, element);
        }

        webhooks.EventsStored(stored.Select(s => new StoredEvent(s.Event, StoredEventFields.EventType(s.Json))));
    }

    public void CameraSaved(int cameraId, string name, string recordingState, IReadOnlyCollection<string>? lineNames = null) =>
        mqtt.CameraSaved(cameraId, name, recordingState, lineNames);

    public void CameraDeleted(int cameraId) => mqtt.CameraDeleted(cameraId);

    public void RecordingStateChanged(int cameraId, string recordingState) => mqtt.RecordingStateChanged(cameraId, recordingState);
}
