using Microsoft.Extensions.Configuration;

namespace OpenNvr.AppHost;

/// <summary>
/// MQTT for Core, from the app host's <c>OpenNvr:Mqtt</c>: <c>off</c> (default), <c>embedded</c> (Core hosts an MQTTnet
/// broker on <c>OpenNvr:MqttPort</c>, default 1883, user <c>opennvr</c>, password the generated <c>mqtt-password</c>), or a
/// broker URL (<c>mqtt://host:1883</c>, <c>mqtts://host:8883</c>; user <c>opennvr</c> and <c>mqtt-password</c> unless the URL
/// names others). Off by default because port 1883 may already be taken by a broker of the machine.
/// </summary>
public sealed record MqttSettings(string Mode, string? Url, int Port)
{
    public static readonly MqttSettings Off = new("off", null, 1883);
}

internal static class MqttSettingsExtensions
{
    public static MqttSettings MqttSettings(this IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration["OpenNvr:Mqtt"]?.Trim();
        var port = builder.Configuration.GetValue("OpenNvr:MqttPort", 1883);
        return configured switch
        {
            null or "" or "off" => OpenNvr.AppHost.MqttSettings.Off,
            "embedded" => new MqttSettings("embedded", null, port),
            _ when configured.StartsWith("mqtt://", StringComparison.Ordinal) || configured.StartsWith("mqtts://", StringComparison.Ordinal) =>
                new MqttSettings("external", configured, port),
            _ => throw new InvalidOperationException("OpenNvr:Mqtt must be off, embedded, or a broker URL (mqtt://host:1883, mqtts://host:8883)."),
        };
    }

    public static IResourceBuilder<ProjectResource> WithMqtt(
        this IResourceBuilder<ProjectResource> core, MqttSettings mqtt, IResourceBuilder<ParameterResource> password)
    {
        switch (mqtt.Mode)
        {
            case "embedded":
                core.WithEnvironment("Mqtt__Embedded", "true")
                    .WithEnvironment("Mqtt__EmbeddedPort", mqtt.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .WithEnvironment("Mqtt__Password", password);
                break;
            case "external":
                core.WithEnvironment("Mqtt__Url", mqtt.Url!)
                    .WithEnvironment("Mqtt__Password", password);
                break;
        }

        return core;
    }
}
