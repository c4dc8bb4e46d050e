using System.Text.Json;
using System.Threading.Channels;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// One analysed camera: its policies' state, the bounded queue of frames waiting for Inference (drop-oldest,
/// counted) and the worker that empties it, one frame at a time, through the <see cref="FrameAnalyser"/>.
/// </summary>
internal sealed class CameraAnalytics : IAsyncDisposable
{
    private readonly FrameAnalyser _analyser;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private string _signature = "";

    public CameraAnalytics(int cameraId, int queueCapacity, PipelineStatistics statistics, FrameAnalyser analyser, ILogger logger)
    {
        CameraId = cameraId;
        Statistics = statistics;
        _analyser = analyser;
        _logger = logger;
        Queue = Channel.CreateBounded<QueuedFrame>(
            new BoundedChannelOptions(queueCapacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
                SingleWriter = true,
            },
            dropped =>
            {
                dropped.Drop(statistics, "queue_full");
                statistics.AddFinished();
            });
        _worker = Task.Run(() => WorkAsync(_stop.Token));
    }

    public int CameraId { get; }

    public PipelineStatistics Statistics { get; }

    public Channel<QueuedFrame> Queue { get; }

    public IReadOnlyList<PolicyState> Policies { get; private set; } = [];

    /// <summary>Follows the latest heartbeat's policies; unchanged policies keep their state (last run, motion, last event).</summary>
    public void Sync(IReadOnlyList<CameraAiPolicy> policies)
    {
        var enabled = policies.Where(p => p.Enabled).ToList();
        var signatures = enabled.Select(p => JsonSerializer.Serialize(p, ContractJson.Options)).ToList();
        var signature = string.Join('\n', signatures);
        if (signature == _signature)
        {
            return;
        }

        var kept = Policies.ToDictionary(p => p.Signature);
        Policies = enabled.Select((p, i) => kept.TryGetValue(signatures[i], out var existing) ? existing : new PolicyState(p, signatures[i])).ToList();
        _signature = signature;
    }

    public async ValueTask DisposeAsync()
    {
        Queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await _worker;
        while (Queue.Reader.TryRead(out var left))
        {
            left.Drop(Statistics, "shutdown");
            Statistics.AddFinished();
        }

        _stop.Dispose();
    }

    private async Task WorkAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var work in Queue.Reader.ReadAllAsync(stop))
            {
                try
                {
                    await _analyser.AnalyseAsync(work, Statistics, stop);
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                {
                    // One bad frame or answer must not end the camera's analysis.
                    RecorderLog.PipelineError(_logger, CameraId, ex.Message);
                }
                finally
                {
                    Statistics.AddFinished();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
