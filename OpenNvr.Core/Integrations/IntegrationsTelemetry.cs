using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OpenNvr.Core.Integrations;

/// <summary>
/// Meter and activity source <c>OpenNvr.Core.Integrations</c> (collected through the service defaults' OpenNvr.*
/// wildcard): what MQTT published and dropped, the publisher's connection, and webhook deliveries. One instance per
/// host (IMeterFactory), so that hosts sharing a test process do not mix their figures.
/// </summary>
public sealed class IntegrationsTelemetry : IDisposable
{
    public const string Name = "OpenNvr.Core.Integrations";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _mqttPublished;
    private readonly Counter<long> _mqttDropped;
    private readonly Counter<long> _mqttConnects;
    private readonly Histogram<double> _mqttPublishDuration;
    private readonly Counter<long> _webhookAttempts;
    private readonly Histogram<double> _webhookAttemptDuration;
    private readonly Counter<long> _webhookDeliveries;
    private readonly Counter<long> _webhooksDisabled;
    private readonly Counter<long> _webhookEnqueued;

    public IntegrationsTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        _mqttPublished = _meter.CreateCounter<long>("opennvr.mqtt.published", unit: "{message}",
            description: "MQTT messages the broker accepted (kind: event, state, discovery, availability, test)");
        _mqttDropped = _meter.CreateCounter<long>("opennvr.mqtt.dropped", unit: "{message}",
            description: "Events not published: the queue was full while the broker was away or slow (reason)");
        _mqttConnects = _meter.CreateCounter<long>("opennvr.mqtt.connects", unit: "{connect}",
            description: "Connection attempts to the broker (result: connected, failed)");
        _mqttPublishDuration = _meter.CreateHistogram<double>("opennvr.mqtt.publish.duration", unit: "ms",
            description: "Time from an event's hand-over to the publisher to the broker's acknowledgement");
        _webhookAttempts = _meter.CreateCounter<long>("opennvr.webhooks.attempts", unit: "{attempt}",
            description: "HTTP attempts of webhook deliveries (outcome: 2xx, 4xx, 5xx, error)");
        _webhookAttemptDuration = _meter.CreateHistogram<double>("opennvr.webhooks.attempt.duration", unit: "ms",
            description: "Duration of one webhook HTTP attempt");
        _webhookDeliveries = _meter.CreateCounter<long>("opennvr.webhooks.deliveries", unit: "{delivery}",
            description: "Webhook delivery rounds by result (delivered, rescheduled, failed, abandoned)");
        _webhooksDisabled = _meter.CreateCounter<long>("opennvr.webhooks.disabled", unit: "{webhook}",
            description: "Webhooks disabled after repeated failed deliveries");
        _webhookEnqueued = _meter.CreateCounter<long>("opennvr.webhooks.enqueued", unit: "{delivery}",
            description: "Webhook deliveries queued in nvrdb (result: queued, dropped)");
    }

    /// <summary>Reports the publisher's queue depth and connection state as gauges.</summary>
    public void ObserveMqtt(Func<long> queueDepth, Func<bool> connected)
    {
        _meter.CreateObservableGauge("opennvr.mqtt.queue_depth", queueDepth, unit: "{message}",
            description: "Events waiting for the MQTT broker");
        _meter.CreateObservableGauge("opennvr.mqtt.connected", () => connected() ? 1 : 0, unit: "{connection}",
            description: "1 while Core is connected to its MQTT broker");
    }

    public void MqttPublished(string kind) => _mqttPublished.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void MqttDropped(string reason) => _mqttDropped.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void MqttConnect(bool connected) =>
        _mqttConnects.Add(1, new KeyValuePair<string, object?>("result", connected ? "connected" : "failed"));

    public void MqttPublishDuration(double milliseconds) => _mqttPublishDuration.Record(milliseconds);

    public void WebhookAttempt(string outcome, double milliseconds)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _webhookAttempts.Add(1, tag);
        _webhookAttemptDuration.Record(milliseconds, tag);
    }

    public void WebhookDelivery(string result) => _webhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", result));

    public void WebhookDisabled() => _webhooksDisabled.Add(1);

    public void WebhookEnqueued(string result, int count) => _webhookEnqueued.Add(count, new KeyValuePair<string, object?>("result", result));

    public void Dispose() => _meter.Dispose();
}
