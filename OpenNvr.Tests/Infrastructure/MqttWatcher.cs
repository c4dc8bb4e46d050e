using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>One message a <see cref="MqttWatcher"/> received; <see cref="Retain"/> as published (MQTT 5).</summary>
public sealed record MqttSeen(string Topic, string Payload, bool Retain, TimeSpan At);

/// <summary>
/// What a Home Assistant or Node-RED user would see: an MQTTnet client (MQTT 5, retain-as-published) subscribed to
/// topic filters, recording every message. Waits poll its record; they never sleep a fixed time.
/// </summary>
public sealed class MqttWatcher : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly ConcurrentQueue<MqttSeen> _seen = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private MqttClientOptions _options = null!;

    private MqttWatcher(IMqttClient client) => _client = client;

    public IReadOnlyList<MqttSeen> Seen => _seen.ToList();

    public bool IsConnected => _client.IsConnected;

    /// <summary>
    /// Connects and subscribes (QoS 1). With <paramref name="persistentSession"/> the broker keeps the subscription and
    /// queues messages while the watcher is away (a broker with persistence even across its restart);
    /// <see cref="ReconnectAsync"/> picks them up.
    /// </summary>
    public static Task<MqttWatcher> ConnectAsync(int port, string username, string password, params string[] filters) =>
        ConnectAsync(port, username, password, persistentSession: false, filters);

    public static async Task<MqttWatcher> ConnectAsync(int port, string username, string password, bool persistentSession, params string[] filters)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var watcher = new MqttWatcher(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            watcher._seen.Enqueue(new MqttSeen(e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload),
                e.ApplicationMessage.Retain, watcher._clock.Elapsed));
            return Task.CompletedTask;
        };
        watcher._options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCredentials(username, password)
            .WithClientId("test-watcher-" + Guid.NewGuid().ToString("N")[..8])
            .WithCleanStart(!persistentSession)
            .WithSessionExpiryInterval(persistentSession ? 3600u : 0u)
            .Build();
        var connected = await client.ConnectAsync(watcher._options);
        if (connected.ResultCode != MqttClientConnectResultCode.Success)
        {
            client.Dispose();
            throw new InvalidOperationException($"The broker refused the connection: {connected.ResultCode}");
        }

        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var filter in filters.Length == 0 ? ["opennvr/#", "homeassistant/#"] : filters)
        {
            subscribe.WithTopicFilter(f => f.WithTopic(filter).WithAtLeastOnceQoS().WithRetainAsPublished());
        }

        await client.SubscribeAsync(subscribe.Build());
        return watcher;
    }

    /// <summary>Connects again with the same client id (and session), e.g. after the broker restarted.</summary>
    public async Task ReconnectAsync()
    {
        var result = await _client.ConnectAsync(_options);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new InvalidOperationException($"The broker refused the reconnection: {result.ResultCode}");
        }
    }

    public IReadOnlyList<MqttSeen> On(string topic) => _seen.Where(m => m.Topic == topic).ToList();

    /// <summary>The newest payload received on the topic, or null.</summary>
    public string? Last(string topic) => _seen.LastOrDefault(m => m.Topic == topic)?.Payload;

    /// <summary>Waits until a message matching the predicate has arrived; returns the first such message.</summary>
    public Task<MqttSeen> WaitForAsync(Func<MqttSeen, bool> match, string what, TimeSpan? timeout = null) =>
        Wait.ForAsync(() => Task.FromResult(_seen.FirstOrDefault(match)), timeout ?? TimeSpan.FromSeconds(30),
            () => $"MQTT {what}. Seen: {string.Join(", ", _seen.Select(m => $"{m.Topic}={Shorten(m.Payload)}").TakeLast(40))}", pollMs: 20);

    /// <summary>Waits until the newest message on the topic has the payload (e.g. availability turning offline).</summary>
    public Task<MqttSeen> WaitForLastAsync(string topic, string payload, TimeSpan? timeout = null) =>
        WaitForAsync(m => m.Topic == topic && Last(topic) == payload, $"{topic} = {payload}", timeout);

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
        }

        _client.Dispose();
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
