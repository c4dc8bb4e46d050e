using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenNvr.Core.Integrations;
using OpenNvr.Core.Integrations.Mqtt;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Integrations;

/// <summary>What the Recorder sends Core: events through the internal ingest route, recording states.</summary>
public static class RecorderCalls
{
    /// <summary>Ingests person_counting events (label person) with the given counts and executed_at values; asserts 200.</summary>
    public static async Task IngestAsync(this CoreFixture core, int cameraId, params (int Count, long ExecutedAtMs)[] events)
    {
        using var recorder = core.Internal();
        using var response = await recorder.PostAsJsonAsync("/api/v1/internal/events", new
        {
            events = events.Select(e => new
            {
                camera_id = cameraId,
                task = "person_counting",
                label = "person",
                count = e.Count,
                confidence = 0.9,
                executed_at_unix_ms = e.ExecutedAtMs,
                captured_at_unix_ms = e.ExecutedAtMs - 100,
            }).ToArray(),
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static async Task ReportStateAsync(this CoreFixture core, int cameraId, string state)
    {
        using var recorder = core.Internal();
        using var response = await recorder.PostAsJsonAsync($"/api/v1/internal/cameras/{cameraId}/state", new { recording_state = state });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}

/// <summary>Core publishing over MQTT to a broker; what a subscriber needs to connect to that broker.</summary>
public abstract class MqttCoreFixture : CoreFixture, IAsyncLifetime
{
    public const string MqttPassword = "mqtt-password-for-tests";

    public abstract int BrokerPort { get; }

    public virtual string BrokerUsername => "opennvr";

    public virtual string BrokerPassword => MqttPassword;

    public MqttTopics Topics => Factory.Services.GetRequiredService<MqttTopics>();

    public MqttPublisher Publisher => Factory.Services.GetRequiredService<MqttPublisher>();

    public IntegrationEvents Integrations => Factory.Services.GetRequiredService<IntegrationEvents>();

    /// <summary>Every log record of Core, to prove that no secret is ever logged.</summary>
    public FakeLogCollector Logs => Factory.Services.GetFakeLogCollector();

    public Task<MqttWatcher> WatchAsync(params string[] filters) => MqttWatcher.ConnectAsync(BrokerPort, BrokerUsername, BrokerPassword, filters);

    protected virtual Task StartBrokerAsync() => Task.CompletedTask;

    protected virtual Task StopBrokerAsync() => Task.CompletedTask;

    protected override void Configure(IWebHostBuilder host)
    {
        host.ConfigureServices(services => services.AddLogging(logging => logging.AddFakeLogging()));
        host.UseSetting("Mqtt:ReconnectMinDelayMs", "100");
        host.UseSetting("Mqtt:ReconnectMaxDelayMs", "1000");
        host.UseSetting("Mqtt:KeepAliveSeconds", "5");
    }

    async Task IAsyncLifetime.InitializeAsync()
    {
        await StartBrokerAsync();
        await InitializeAsync();
        await Wait.UntilAsync(() => Publisher.IsConnected, TimeSpan.FromSeconds(30), "Core's MQTT publisher to connect");
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await StopBrokerAsync();
    }
}

/// <summary>Core hosting its own MQTTnet broker (<c>Mqtt:Embedded=true</c>) on a free loopback port.</summary>
public class EmbeddedBrokerCoreFixture : MqttCoreFixture
{
    private readonly int _port = FreePort.Tcp();

    public override int BrokerPort => _port;

    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.UseSetting("Mqtt:Embedded", "true");
        host.UseSetting("Mqtt:EmbeddedPort", _port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        host.UseSetting("Mqtt:EmbeddedBindAddress", "127.0.0.1");
        host.UseSetting("Mqtt:Password", MqttPassword);
    }
}

/// <summary>Core publishing to a real Mosquitto (<c>Mqtt:Url</c> with user and password in it).</summary>
public class MosquittoCoreFixture : MqttCoreFixture
{
    public MosquittoBroker Broker { get; private set; } = null!;

    public override int BrokerPort => Broker.Port;

    public override string BrokerUsername => Broker.Username;

    public override string BrokerPassword => Broker.Password;

    /// <summary>Whether the broker saves sessions and retained messages across a graceful restart.</summary>
    protected virtual bool BrokerPersistence => false;

    protected override async Task StartBrokerAsync() =>
        Broker = await MosquittoBroker.StartAsync(password: MqttPassword + "-mosquitto", persistence: BrokerPersistence);

    protected override async Task StopBrokerAsync() => await Broker.DisposeAsync();

    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.UseSetting("Mqtt:Url", Broker.UrlWithCredentials);
    }
}

/// <summary>
/// Mosquitto with persistence (a subscriber's session survives the broker's restart, so it gets what was published
/// while it was reconnecting), and a publisher queue of only <see cref="QueueCapacity"/> events, so that an outage
/// overflows it.
/// </summary>
public sealed class SmallQueueMosquittoCoreFixture : MosquittoCoreFixture
{
    public const int QueueCapacity = 5;

    protected override bool BrokerPersistence => true;

    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.UseSetting("Mqtt:QueueCapacity", QueueCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>Core with webhook retries made fast (tens of milliseconds instead of seconds) so that outages play out quickly.</summary>
public class WebhookCoreFixture : CoreFixture
{
    protected override void Configure(IWebHostBuilder host)
    {
        host.UseSetting("Webhooks:RetryDelayMs", "50");
        host.UseSetting("Webhooks:AttemptsPerRound", "2");
        host.UseSetting("Webhooks:Rounds", "2");
        host.UseSetting("Webhooks:RoundDelaySeconds", "0.2");
        host.UseSetting("Webhooks:MaxRetryAfterSeconds", "5");
        host.UseSetting("Webhooks:TimeoutSeconds", "5");
        host.UseSetting("Webhooks:PollIntervalMs", "100");
    }

    public IntegrationEvents Integrations => Factory.Services.GetRequiredService<IntegrationEvents>();
}

/// <summary>Core that refuses webhook URLs pointing inside the network.</summary>
public sealed class PrivateAddressesRefusedCoreFixture : WebhookCoreFixture
{
    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.UseSetting("Webhooks:RefusePrivateAddresses", "true");
    }
}
