using OpenNvr.Core.Apis;
using OpenNvr.Core.Integrations.Mqtt;
using OpenNvr.Core.Integrations.Webhooks;

namespace OpenNvr.Core.Integrations;

/// <summary>
/// The one place Core tells the outside world what happened: MQTT (events, retained state, Home Assistant
/// discovery) and webhooks. Call sites (event ingest after its insert committed, camera administration, recording
/// state reports) call these methods; none of them waits for a broker, a receiver or the database.
/// </summary>
public sealed class IntegrationEvents(MqttIntegration mqtt, WebhookQueue webhooks)
{
    /// <summary>Whether stored events go anywhere (MQTT on, or webhooks registered): ingest skips the extra work otherwise.</summary>
    public bool WantsEvents => mqtt.Enabled || webhooks.AnyHooks;

    /// <summary>Events that were stored (their transaction committed), as the REST API shows them.</summary>
    public void EventsStored(IReadOnlyList<EventDto> events)
    {
        foreach (var e in events)
        {
            mqtt.EventStored(e);
        }

        webhooks.EventsStored(events.Select(e => new StoredEvent(e, EventTypeOf(e))));
    }

    public void CameraSaved(int cameraId, string name, string recordingState, IReadOnlyCollection<string>? lineNames = null) =>
        mqtt.CameraSaved(cameraId, name, recordingState, lineNames);

    public void CameraDeleted(int cameraId) => mqtt.CameraDeleted(cameraId);

    public void RecordingStateChanged(int cameraId, string recordingState) => mqtt.RecordingStateChanged(cameraId, recordingState);

    /// <summary>What webhooks filter on (<c>event_types</c>): the event's type; events of tasks without types go by their task name.</summary>
    public static string EventTypeOf(EventDto e) => e.Task;
}
