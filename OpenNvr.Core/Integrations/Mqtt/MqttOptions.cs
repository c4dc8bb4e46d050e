using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace OpenNvr.Core.Integrations.Mqtt;

/// <summary>
/// The <c>Mqtt</c> section. MQTT is off unless <see cref="Url"/> names a broker or <see cref="Embedded"/> is true
/// (then Core hosts a broker itself and publishes to it). Validated at start (<see cref="MqttOptionsValidator"/>).
/// </summary>
public sealed class MqttOptions
{
    public const string Section = "Mqtt";

    /// <summary><c>mqtt://host[:1883]</c> or <c>mqtts://host[:8883]</c> (TLS); user and password may be in the URL.</summary>
    [MaxLength(2048)]
    public string? Url { get; set; }

    /// <summary>Host an MQTTnet broker inside Core (a fresh install works without Mosquitto).</summary>
    public bool Embedded { get; set; }

    /// <summary>Port of the embedded broker.</summary>
    [Range(1, 65535)]
    public int EmbeddedPort { get; set; } = 1883;

    /// <summary>Address the embedded broker listens on (all interfaces by default, so Home Assistant elsewhere can reach it).</summary>
    [Required]
    public string EmbeddedBindAddress { get; set; } = "0.0.0.0";

    /// <summary>User of the external broker (when the URL has none) and the only user of the embedded broker.</summary>
    [MaxLength(256)]
    public string Username { get; set; } = "opennvr";

    /// <summary>Password (the app host's generated parameter <c>mqtt-password</c>). Never logged.</summary>
    [MaxLength(256)]
    public string? Password { get; set; }

    /// <summary>Accept any server certificate of an <c>mqtts://</c> broker (self-signed brokers on a LAN).</summary>
    public bool AllowUntrustedCertificates { get; set; }

    /// <summary>Every topic starts with this (<c>opennvr/available</c>, <c>opennvr/events</c>, ...).</summary>
    [Required]
    [RegularExpression(TopicSegmentPattern, ErrorMessage = "Mqtt:TopicPrefix must be 1-64 letters, digits, '_' or '-'.")]
    public string TopicPrefix { get; set; } = "opennvr";

    /// <summary>Home Assistant's discovery prefix; empty turns discovery off.</summary>
    [RegularExpression("^$|" + TopicSegmentPattern, ErrorMessage = "Mqtt:DiscoveryPrefix must be empty or 1-64 letters, digits, '_' or '-'.")]
    public string DiscoveryPrefix { get; set; } = "homeassistant";

    /// <summary>MQTT client id; default <c>&lt;prefix&gt;-core-&lt;machine&gt;</c>.</summary>
    [MaxLength(128)]
    public string? ClientId { get; set; }

    /// <summary>Events waiting for the broker; beyond this the oldest are dropped (and counted), ingest never waits.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>MQTT keep-alive: a broker notices a vanished Core (and publishes its last will) within 1.5 times this.</summary>
    [Range(1, 3600)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>First reconnect delay; doubles per failure up to <see cref="ReconnectMaxDelayMs"/>, with full jitter.</summary>
    [Range(10, 600_000)]
    public int ReconnectMinDelayMs { get; set; } = 1000;

    [Range(10, 3_600_000)]
    public int ReconnectMaxDelayMs { get; set; } = 30_000;

    /// <summary>How long one connect or publish may take before the connection counts as broken.</summary>
    [Range(100, 600_000)]
    public int OperationTimeoutMs { get; set; } = 10_000;

    internal const string TopicSegmentPattern = "^[A-Za-z0-9_-]{1,64}$";

    public bool Enabled => Embedded || !string.IsNullOrWhiteSpace(Url);
}

/// <summary>What data annotations cannot say: the combinations that make a usable configuration.</summary>
public sealed class MqttOptionsValidator : IValidateOptions<MqttOptions>
{
    public const int MinEmbeddedPasswordLength = 8;

    public ValidateOptionsResult Validate(string? name, MqttOptions options)
    {
        var failures = new List<string>();
        if (options.Embedded && !string.IsNullOrWhiteSpace(options.Url))
        {
            failures.Add("Set either Mqtt:Url (an external broker) or Mqtt:Embedded=true, not both.");
        }

        if (options.Embedded)
        {
            if ((options.Password ?? "").Length < MinEmbeddedPasswordLength)
            {
                failures.Add($"Mqtt:Embedded=true needs Mqtt:Password ({MinEmbeddedPasswordLength}+ characters): the embedded broker accepts no anonymous client.");
            }

            if (string.IsNullOrWhiteSpace(options.Username))
            {
                failures.Add("Mqtt:Embedded=true needs Mqtt:Username.");
            }

            if (!System.Net.IPAddress.TryParse(options.EmbeddedBindAddress, out _))
            {
                failures.Add("Mqtt:EmbeddedBindAddress must be an IP address (0.0.0.0 for every interface, 127.0.0.1 for this machine only).");
            }
        }
        else if (!string.IsNullOrWhiteSpace(options.Url) && BrokerAddress.TryParse(options.Url, out _) is { } problem)
        {
            failures.Add(problem);
        }

        if (options.ReconnectMaxDelayMs < options.ReconnectMinDelayMs)
        {
            failures.Add("Mqtt:ReconnectMaxDelayMs must not be below Mqtt:ReconnectMinDelayMs.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>A broker address parsed from <c>Mqtt:Url</c>; <see cref="ToString"/> never shows the credentials.</summary>
public sealed record BrokerAddress(string Host, int Port, bool Tls, string? Username, string? Password)
{
    /// <summary>Parses the URL; returns a problem (that never repeats the URL, which may hold a password) or null.</summary>
    public static string? TryParse(string url, out BrokerAddress? address)
    {
        address = null;
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("mqtt" or "mqtts" or "tcp") || uri.Host.Length == 0)
        {
            return "Mqtt:Url must be mqtt://host[:port] or mqtts://host[:port] (TLS).";
        }

        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return "Mqtt:Url must not have a path, query or fragment.";
        }

        var tls = uri.Scheme == "mqtts";
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            var separator = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(separator < 0 ? uri.UserInfo : uri.UserInfo[..separator]);
            password = separator < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(separator + 1)..]);
        }

        address = new BrokerAddress(uri.IdnHost, uri.IsDefaultPort || uri.Port <= 0 ? (tls ? 8883 : 1883) : uri.Port, tls, user, password);
        return null;
    }

    public override string ToString() => $"{(Tls ? "mqtts" : "mqtt")}://{Host}:{Port}";
}
