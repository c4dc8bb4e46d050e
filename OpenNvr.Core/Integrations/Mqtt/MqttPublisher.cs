using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace OpenNvr.Core.Integrations.Mqtt;

/// <summary>
/// Core's one MQTT connection. Callers never wait for the broker: events go into a bounded queue (when it is full
/// the oldest event is dropped and counted), and retained state (counts, recording states, discovery configs) is
/// kept as "latest value per topic", so it needs no queue, survives any outage and is published again after every
/// reconnect (a broker without persistence forgets retained messages when it restarts). One loop owns the client:
/// connect (last will <c>opennvr/available = offline</c>, retained), publish <c>online</c>, then pending state, then
/// queued events, QoS 1. A failed connect or publish drops the connection and retries with exponential backoff and
/// full jitter; the message that was in flight is sent again after the reconnect (at least once).
/// </summary>
public sealed partial class MqttPublisher : BackgroundService
{
    private const string Online = "online";
    private const string Offline = "offline";

    private readonly MqttOptions _options;
    private readonly BrokerAddress? _broker;
    private readonly MqttTopics _topics;
    private readonly IntegrationsTelemetry _telemetry;
    private readonly TimeProvider _clock;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<MqttPublisher> _logger;
    private readonly Channel<Outgoing> _queue;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ConcurrentDictionary<string, string> _retained = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _pendingRetained = new(StringComparer.Ordinal);
    private readonly MqttClientFactory _factory = new();
    private IMqttClient? _client;
    private Outgoing? _inFlight;
    private long _published;
    private long _dropped;
    private DateTimeOffset? _connectedSince;
    private string? _lastError;

    public MqttPublisher(IOptions<MqttOptions> options, MqttTopics topics, IntegrationsTelemetry telemetry, TimeProvider clock,
        IHostApplicationLifetime lifetime, ILogger<MqttPublisher> logger)
    {
        _lifetime = lifetime;
        _options = options.Value;
        _topics = topics;
        _telemetry = telemetry;
        _clock = clock;
        _logger = logger;
        if (_options.Embedded)
        {
            _broker = new BrokerAddress("127.0.0.1", _options.EmbeddedPort, Tls: false, _options.Username, _options.Password);
        }
        else if (_options.Enabled && BrokerAddress.TryParse(_options.Url!, out var parsed) is null)
        {
            _broker = parsed! with
            {
                Username = parsed!.Username ?? _options.Username,
                Password = parsed.Username is null ? _options.Password : parsed.Password,
            };
        }

        _queue = Channel.CreateBounded<Outgoing>(
            new BoundedChannelOptions(_options.QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                Interlocked.Increment(ref _dropped);
                _telemetry.MqttDropped("queue_full");
                dropped.Done?.TrySetResult(false);
            });
        telemetry.ObserveMqtt(() => _queue.Reader.Count, () => IsConnected);
    }

    public bool Enabled => _broker is not null;

    public MqttTopics Topics => _topics;

    public bool IsConnected => _client?.IsConnected == true && _connectedSince is not null;

    public MqttStatus Status => new(
        Enabled,
        !Enabled ? "off" : _options.Embedded ? "embedded" : "external",
        _broker?.ToString(),
        IsConnected,
        _connectedSince,
        _lastError,
        Interlocked.Read(ref _published),
        Interlocked.Read(ref _dropped),
        _queue.Reader.Count,
        _options.QueueCapacity,
        _pendingRetained.Count,
        _topics.Prefix,
        _topics.DiscoveryEnabled ? _topics.DiscoveryPrefix : null);

    /// <summary>Queues a non-retained message (an event); never waits. False when MQTT is off.</summary>
    public bool Enqueue(string topic, string payload, string kind = "event")
    {
        if (!Enabled)
        {
            return false;
        }

        _queue.Writer.TryWrite(new Outgoing(topic, Encoding.UTF8.GetBytes(payload), kind, _clock.GetTimestamp(), null));
        Wake();
        return true;
    }

    /// <summary>
    /// Sets retained state: the broker gets the latest value of the topic as soon as it can, and again after every
    /// reconnect. An empty payload clears the topic (the broker deletes its retained message) and forgets it.
    /// </summary>
    public void SetRetained(string topic, string payload)
    {
        if (!Enabled)
        {
            return;
        }

        if (payload.Length == 0)
        {
            _retained.TryRemove(topic, out _);
        }
        else if (_retained.TryGetValue(topic, out var current) && current == payload)
        {
            return; // unchanged: nothing to tell the broker
        }
        else
        {
            _retained[topic] = payload;
        }

        _pendingRetained[topic] = payload;
        Wake();
    }

    /// <summary>The retained value Core last set for a topic (what the broker has or will get).</summary>
    public string? Retained(string topic) => _retained.GetValueOrDefault(topic);

    /// <summary>The retained topics Core has set under a prefix (e.g. <c>opennvr/camera_3/</c>).</summary>
    public IReadOnlyList<string> RetainedTopics(string prefix) =>
        _retained.Keys.Where(topic => topic.StartsWith(prefix, StringComparison.Ordinal)).ToList();

    /// <summary>Publishes one message to <c>opennvr/test</c> and waits for the broker's acknowledgement (console "test publish").</summary>
    public async Task<bool> PublishTestAsync(string payload, TimeSpan timeout, CancellationToken ct)
    {
        if (!Enabled)
        {
            return false;
        }

        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Writer.TryWrite(new Outgoing(_topics.Test, Encoding.UTF8.GetBytes(payload), "test", _clock.GetTimestamp(), done));
        Wake();
        try
        {
            return await done.Task.WaitAsync(timeout, _clock, ct);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_broker is null)
        {
            return;
        }

        // "online" means Core serves: connect once the host has started (migrations done, Kestrel listening).
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await started.Task.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!IsConnected)
                {
                    await ConnectAsync(_broker, stoppingToken);
                    failures = 0;
                }

                await PublishPendingAsync(stoppingToken);
                if (_pendingRetained.IsEmpty && _queue.Reader.Count == 0 && IsConnected)
                {
                    await _wake.Reader.ReadAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failures++;
                _lastError = Describe(ex);
                var delay = Backoff(failures);
                ConnectionLost(_logger, _broker.ToString(), _lastError, (long)delay.TotalMilliseconds);
                DropConnection();
                try
                {
                    await Task.Delay(delay, _clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_client is { IsConnected: true } client)
        {
            // A clean DISCONNECT does not fire the last will: say offline first.
            try
            {
                using var deadline = Deadline(cancellationToken);
                await client.PublishAsync(Message(_topics.Available, Encoding.UTF8.GetBytes(Offline), retain: true), deadline.Token);
                await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), deadline.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or MqttCommunicationException or InvalidOperationException)
            {
                // The broker will publish the last will once it notices the connection is gone.
            }
        }
    }

    public override void Dispose()
    {
        DropConnection();
        base.Dispose();
    }

    private async Task ConnectAsync(BrokerAddress broker, CancellationToken stoppingToken)
    {
        using var activity = IntegrationsTelemetry.ActivitySource.StartActivity("mqtt.connect");
        activity?.SetTag("server.address", broker.Host);
        activity?.SetTag("server.port", broker.Port);
        DropConnection();
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            .WithClientId(_options.ClientId ?? $"{_topics.Prefix}-core-{Environment.MachineName}")
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .WithCleanSession()
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(_options.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromMilliseconds(_options.OperationTimeoutMs))
            .WithWillTopic(_topics.Available)
            .WithWillPayload(Offline)
            .WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (!string.IsNullOrEmpty(broker.Username))
        {
            builder.WithCredentials(broker.Username, broker.Password);
        }

        if (broker.Tls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls();
                if (_options.AllowUntrustedCertificates)
                {
                    tls.WithCertificateValidationHandler(_ => true);
                }
            });
        }

        var client = _factory.CreateMqttClient();
        client.DisconnectedAsync += _ =>
        {
            Wake();
            return Task.CompletedTask;
        };
        _client = client;
        try
        {
            using var deadline = Deadline(stoppingToken);
            var result = await client.ConnectAsync(builder.Build(), deadline.Token);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
            {
                throw new MqttCommunicationException($"the broker refused the connection ({result.ResultCode})");
            }

            await client.PublishAsync(Message(_topics.Available, Encoding.UTF8.GetBytes(Online), retain: true), deadline.Token);
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            _telemetry.MqttConnect(connected: false);
            activity?.SetStatus(ActivityStatusCode.Error);
            throw;
        }

        _telemetry.MqttConnect(connected: true);
        _telemetry.MqttPublished("availability");
        _connectedSince = _clock.GetUtcNow();
        _lastError = null;
        // Whatever the broker had may be gone (a restart without persistence): tell it the whole state again.
        foreach (var (topic, payload) in _retained)
        {
            _pendingRetained.TryAdd(topic, payload);
        }

        Connected(_logger, broker.ToString(), _retained.Count);
    }

    private async Task PublishPendingAsync(CancellationToken stoppingToken)
    {
        var client = _client ?? throw new MqttCommunicationException("not connected");
        foreach (var (topic, payload) in _pendingRetained)
        {
            using (var deadline = Deadline(stoppingToken))
            {
                await client.PublishAsync(Message(topic, Encoding.UTF8.GetBytes(payload), retain: true), deadline.Token);
            }

            // Only forget it if nobody set a newer value meanwhile.
            _pendingRetained.TryRemove(new KeyValuePair<string, string>(topic, payload));
            Interlocked.Increment(ref _published);
            _telemetry.MqttPublished(topic.EndsWith("/config", StringComparison.Ordinal) ? "discovery" : "state");
        }

        while (true)
        {
            if (_inFlight is null)
            {
                if (!_queue.Reader.TryRead(out var next))
                {
                    return;
                }

                _inFlight = next;
            }

            var item = _inFlight.Value;
            using (var deadline = Deadline(stoppingToken))
            {
                await client.PublishAsync(Message(item.Topic, item.Payload, retain: false), deadline.Token);
            }

            _inFlight = null;
            Interlocked.Increment(ref _published);
            _telemetry.MqttPublished(item.Kind);
            _telemetry.MqttPublishDuration(_clock.GetElapsedTime(item.EnqueuedAt).TotalMilliseconds);
            item.Done?.TrySetResult(true);
            if (!_pendingRetained.IsEmpty)
            {
                return; // state first: a count must not wait behind a long backlog of events
            }
        }
    }

    private static MqttApplicationMessage Message(string topic, byte[] payload, bool retain) =>
        new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();

    /// <summary>The stopping token, cancelled also when one broker operation takes longer than its timeout.</summary>
    private OperationDeadline Deadline(CancellationToken stoppingToken) => new(TimeSpan.FromMilliseconds(_options.OperationTimeoutMs), _clock, stoppingToken);

    private sealed class OperationDeadline(TimeSpan timeout, TimeProvider clock, CancellationToken outer) : IDisposable
    {
        private readonly CancellationTokenSource _timeout = new(timeout, clock);
        private CancellationTokenSource? _linked;

        public CancellationToken Token => (_linked ??= CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token, outer)).Token;

        public void Dispose()
        {
            _linked?.Dispose();
            _timeout.Dispose();
        }
    }

    private TimeSpan Backoff(int failures)
    {
        // Full jitter (a uniformly random wait up to the exponential ceiling): replicas that lost the same broker do not
        // come back in lock step.
        var ceiling = Math.Min(_options.ReconnectMaxDelayMs, _options.ReconnectMinDelayMs * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromMilliseconds(Math.Max(_options.ReconnectMinDelayMs / 2.0, Random.Shared.NextDouble() * ceiling));
    }

    private void DropConnection()
    {
        _connectedSince = null;
        var client = Interlocked.Exchange(ref _client, null);
        client?.Dispose();
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    // The exception's message, never the options: MQTTnet's messages name the endpoint at most, not the credentials.
    private static string Describe(Exception ex) =>
        ex is OperationCanceledException ? "timed out" : ex.GetBaseException().Message;

    private readonly record struct Outgoing(string Topic, byte[] Payload, string Kind, long EnqueuedAt, TaskCompletionSource<bool>? Done);

    [LoggerMessage(1, LogLevel.Information, "MQTT connected to {Broker}; publishing {Retained} retained topics again")]
    private static partial void Connected(ILogger logger, string broker, int retained);

    [LoggerMessage(2, LogLevel.Warning, "MQTT connection to {Broker} lost or refused ({Reason}); retrying in {DelayMs} ms")]
    private static partial void ConnectionLost(ILogger logger, string broker, string reason, long delayMs);
}
