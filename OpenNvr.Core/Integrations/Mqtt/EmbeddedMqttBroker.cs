using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace OpenNvr.Core.Integrations.Mqtt;

/// <summary>
/// With <c>Mqtt:Embedded=true</c>, Core hosts an MQTTnet broker on <c>Mqtt:EmbeddedPort</c> (1883) so that a fresh
/// install talks to Home Assistant without installing Mosquitto. One user (<c>Mqtt:Username</c> /
/// <c>Mqtt:Password</c>, compared in constant time); no anonymous clients. Retained messages live in memory: Core's
/// publisher tells the broker its whole state again whenever it (re)connects, so nothing is lost by a restart.
/// Registered before <see cref="MqttPublisher"/>: it starts first and stops last.
/// </summary>
public sealed partial class EmbeddedMqttBroker(IOptions<MqttOptions> options, ILogger<EmbeddedMqttBroker> logger) : IHostedService, IDisposable
{
    private readonly MqttOptions _options = options.Value;
    private MqttServer? _server;

    public bool Running => _server?.IsStarted == true;

    public async Task<int> ConnectedClientsAsync() => _server is null ? 0 : (await _server.GetClientsAsync()).Count;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Embedded)
        {
            return;
        }

        var address = IPAddress.Parse(_options.EmbeddedBindAddress);
        var server = new MqttServerFactory().CreateMqttServer(new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(_options.EmbeddedPort)
            .WithDefaultEndpointBoundIPAddress(address.AddressFamily == AddressFamily.InterNetwork ? address : IPAddress.None)
            .WithDefaultEndpointBoundIPV6Address(address.AddressFamily == AddressFamily.InterNetworkV6 ? address : IPAddress.None)
            .Build());
        var expectedUser = _options.Username;
        var expectedPassword = SHA256.HashData(Encoding.UTF8.GetBytes(_options.Password ?? ""));
        server.ValidatingConnectionAsync += args =>
        {
            var password = SHA256.HashData(args.RawPassword ?? []);
            if (!string.Equals(args.UserName, expectedUser, StringComparison.Ordinal) | !CryptographicOperations.FixedTimeEquals(password, expectedPassword))
            {
                args.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
                ClientRefused(logger, args.ClientId, args.RemoteEndPoint?.ToString() ?? "?");
            }

            return Task.CompletedTask;
        };

        try
        {
            await server.StartAsync();
        }
        catch (SocketException ex)
        {
            server.Dispose();
            throw new InvalidOperationException(
                $"The embedded MQTT broker cannot listen on {address}:{_options.EmbeddedPort} ({ex.SocketErrorCode}). " +
                "Free the port, set Mqtt:EmbeddedPort, or use an external broker (Mqtt:Url).", ex);
        }

        _server = server;
        Listening(logger, address.ToString(), _options.EmbeddedPort, _options.Username);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            try
            {
                await server.StopAsync();
            }
            catch (Exception ex) when (ex is InvalidOperationException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                // Core's own publisher disconnects from this broker while the host stops it: closing that connection
                // from both sides at once can throw here. The broker is going away either way; the host's stop must not fail.
                StopRace(logger, ex.Message);
            }
        }
    }

    public void Dispose() => _server?.Dispose();

    [LoggerMessage(3, LogLevel.Debug, "Embedded MQTT broker stopped while a client was disconnecting: {Reason}")]
    private static partial void StopRace(ILogger logger, string reason);

    [LoggerMessage(1, LogLevel.Information, "Embedded MQTT broker listening on {Address}:{Port} (user {Username})")]
    private static partial void Listening(ILogger logger, string address, int port, string username);

    [LoggerMessage(2, LogLevel.Warning, "Embedded MQTT broker refused client {ClientId} from {Endpoint}: wrong user name or password")]
    private static partial void ClientRefused(ILogger logger, string clientId, string endpoint);
}
