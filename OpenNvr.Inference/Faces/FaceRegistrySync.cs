using Microsoft.Extensions.Options;
using Npgsql;

namespace OpenNvr.Inference.Faces;

/// <summary>
/// Loads the face index before the service accepts requests, then keeps it current: it listens for
/// <c>NOTIFY face_registry</c> from the other replicas and applies their changes within milliseconds, and checks the
/// registry version every <c>Faces:RegistryPollSeconds</c> in case a notification was missed (e.g. while the
/// listening connection was being re-established).
/// </summary>
public sealed partial class FaceRegistrySync(FaceRegistry registry, IOptions<FacesOptions> options, ILogger<FaceRegistrySync> logger) : BackgroundService
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await registry.LoadAllAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromSeconds(options.Value.RegistryPollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await registry.ListenAsync(stoppingToken);
                // Whatever changed while nobody was listening.
                await registry.SyncAsync(stoppingToken);
                while (!stoppingToken.IsCancellationRequested)
                {
                    // True on a notification, false when the poll interval passed: sync either way.
                    await connection.WaitAsync(poll, stoppingToken);
                    await registry.SyncAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException or IOException)
            {
                LogListenerFailed(logger, ex, ReconnectDelay.TotalSeconds);
                try
                {
                    await Task.Delay(ReconnectDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Face registry listener failed; reconnecting in {DelaySeconds} s")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception, double delaySeconds);
}
