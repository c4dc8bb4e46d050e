using System.Collections.Concurrent;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// The pipeline's periodic chores (every 10 s): cameras no longer analysed here lose their queue and worker, frame
/// copies left behind by a crash or a shutdown mid-analysis are deleted, and once an hour old snapshot days go.
/// </summary>
internal sealed class AnalyticsHousekeeping(
    RecordingCoordinator coordinator,
    ConcurrentDictionary<int, CameraAnalytics> cameras,
    SnapshotStore snapshots,
    string framesRoot,
    double frameCopySeconds,
    TimeProvider clock,
    ILogger logger)
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SnapshotPrunePeriod = TimeSpan.FromHours(1);

    private DateTimeOffset _lastSnapshotPrune;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var live = coordinator.Cameras.Where(c => c.IsAnalysed && c.Enabled && c.RecordingEnabled).Select(c => c.Id).ToHashSet();
                foreach (var (id, camera) in cameras)
                {
                    if (!live.Contains(id) && cameras.TryRemove(id, out _))
                    {
                        await camera.DisposeAsync();
                    }
                }

                PruneFrameCopies();
                if (clock.GetUtcNow() - _lastSnapshotPrune > SnapshotPrunePeriod)
                {
                    _lastSnapshotPrune = clock.GetUtcNow();
                    await snapshots.PruneAsync(coordinator.Cameras, stop);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A store outage included (RecordingStoreException is an IOException): the next round tries again.
                RecorderLog.PipelineError(logger, 0, ex.Message);
            }

            try
            {
                await Task.Delay(Period, clock, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Per-frame copies left behind by a crash or a shutdown mid-analysis.</summary>
    private void PruneFrameCopies()
    {
        if (!Directory.Exists(framesRoot))
        {
            return;
        }

        var cutoff = clock.GetUtcNow().UtcDateTime.AddSeconds(-frameCopySeconds);
        foreach (var dir in Directory.EnumerateDirectories(framesRoot))
        {
            foreach (var file in Directory.EnumerateFiles(dir, "f-*.jpg"))
            {
                if (File.GetLastWriteTimeUtc(file) < cutoff)
                {
                    QueuedFrame.TryDeleteFile(file);
                }
            }
        }
    }
}
