using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;

namespace OpenNvr.Recorder.Leases;

/// <summary>
/// Heartbeats Core every <c>Recorder:HeartbeatSeconds</c>; the answer lists exactly the cameras this replica must
/// record now (leases held in nvrdb by Core), with their configuration, and the coordinator follows it at once.
/// Each heartbeat reports the cameras recorded here; when an answer took cameras away (a hand-off to a less loaded
/// replica, or a disabled camera) the replica beats again as soon as their ffmpeg has exited, so that Core passes
/// them on at once rather than a heartbeat period later.
/// When Core does not answer, the replica keeps recording what it has: recording never depends on Core. On host
/// shutdown every ffmpeg is stopped cleanly (chunks closed and queued for registration).
/// </summary>
public sealed class HeartbeatService(
    CoreClient core,
    RecordingCoordinator coordinator,
    ChildProcesses children,
    IOptions<RecorderOptions> options,
    IServer server,
    RecorderIdentity identity,
    TimeProvider clock,
    ILogger<HeartbeatService> logger) : BackgroundService
{
    public DateTimeOffset? LastSuccess { get; private set; }

    public int LeaseSeconds { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var swept = children.SweepOrphans();
        if (swept > 0)
        {
            RecorderLog.OrphansKilled(logger, swept);
        }

        var period = TimeSpan.FromSeconds(options.Value.HeartbeatSeconds);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // A beat that released cameras is followed by one that confirms it (at most one in a row).
                if (await BeatAsync(stoppingToken) > 0)
                {
                    await BeatAsync(stoppingToken);
                }

                try
                {
                    await Task.Delay(period, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await coordinator.StopAllAsync(CancellationToken.None);
        }
    }

    /// <summary>One heartbeat; returns how many cameras its answer made this replica stop.</summary>
    private async Task<int> BeatAsync(CancellationToken ct)
    {
        try
        {
            var answer = await core.HeartbeatAsync(
                new HeartbeatRequest(identity.Id, BaseUrl(), options.Value.MaxCameras, coordinator.HeldCameraIds), ct);
            LastSuccess = clock.GetUtcNow();
            LeaseSeconds = answer.LeaseSeconds;
            return await coordinator.ApplyAsync(answer.Cameras ?? [], ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or TimeoutException or CoreRejectedException or System.Text.Json.JsonException)
        {
            RecorderLog.HeartbeatFailed(logger, ex.Message);
        }

        return 0;
    }

    private string BaseUrl()
    {
        if (!string.IsNullOrWhiteSpace(options.Value.BaseUrl))
        {
            return options.Value.BaseUrl;
        }

        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => a.StartsWith("http", StringComparison.Ordinal));
        if (address is null)
        {
            return "http://localhost:8100";
        }

        // A wildcard listen address is not reachable as such: name the host instead.
        return address.Replace("://+", "://" + Environment.MachineName, StringComparison.Ordinal)
            .Replace("://*", "://" + Environment.MachineName, StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://" + Environment.MachineName, StringComparison.Ordinal)
            .Replace("://[::]", "://" + Environment.MachineName, StringComparison.Ordinal);
    }
}

/// <summary>
/// This replica's id and its private state folder <c>&lt;RecordingsRoot&gt;/.outbox/&lt;id&gt;/</c>. The id is
/// <c>Recorder:RecorderId</c> when set, otherwise the machine name, stable across restarts so that a restarted
/// replica finds its own undelivered outbox. Replicas sharing one recordings volume each hold an exclusive lock on
/// their folder; a second replica on the same machine (same name) takes <c>&lt;machine&gt;-2</c>, and so on.
/// </summary>
public sealed class RecorderIdentity : IDisposable
{
    private readonly FileStream _lock;

    public RecorderIdentity(IOptions<RecorderOptions> options)
    {
        var root = options.Value.ResolveRecordingsRoot();
        var configured = options.Value.RecorderId?.Trim();
        var baseId = string.IsNullOrEmpty(configured) ? Sanitize(Environment.MachineName) : configured;
        for (var n = 1; ; n++)
        {
            var id = n == 1 ? baseId : $"{baseId}-{n}";
            var dir = Path.Combine(root, ".outbox", Sanitize(id));
            Directory.CreateDirectory(dir);
            try
            {
                _lock = new FileStream(Path.Combine(dir, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                Id = id;
                StateDirectory = dir;
                return;
            }
            catch (IOException) when (n < 64 && string.IsNullOrEmpty(configured))
            {
                // Held by another live replica on this volume: try the next name.
            }
        }
    }

    public string Id { get; }

    /// <summary>Where this replica's outbox lives.</summary>
    public string StateDirectory { get; }

    public void Dispose() => _lock.Dispose();

    private static string Sanitize(string value)
    {
        var clean = new string(value.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
        return clean.Length > 60 ? clean[..60] : clean;
    }
}
