namespace OpenNvr.Core.Integrations.Mqtt;

/// <summary>What the console's MQTT settings page shows.</summary>
public sealed record MqttStatus(
    bool Enabled,
    string Mode,
    string? Broker,
    bool Connected,
    DateTimeOffset? ConnectedSince,
    string? LastError,
    long Published,
    long Dropped,
    int QueueDepth,
    int QueueCapacity,
    int PendingState,
    string TopicPrefix,
    string? DiscoveryPrefix);
