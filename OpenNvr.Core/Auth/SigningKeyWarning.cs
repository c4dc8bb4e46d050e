using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Auth;

/// <summary>Says loudly at start-up that a Development instance signs its tokens with a throw-away key.</summary>
internal sealed class SigningKeyWarning(JwtSigningKey key, ILogger<SigningKeyWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (key.IsEphemeral)
        {
            CoreLog.EphemeralJwtKey(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
