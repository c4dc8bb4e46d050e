using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Upload;

namespace OpenNvr.Recorder.Recording;

/// <summary>
/// When this replica starts recording a camera, finds chunks of that camera on disk that may never have reached
/// the index (the host died between ffmpeg closing a chunk and the outbox append, or an ffmpeg died with its chunk
/// open while the host was down) and queues them for registration. Candidates are chunk files modified after the
/// end of the camera's last chunk Core acknowledged (kept by the outbox), or in the last
/// <c>Recorder:ReconcileHours</c> for a camera this outbox has never delivered (e.g. one taken over from a dead
/// replica), that are not already waiting in the upload queue or the outbox and that were last written before this
/// recording started. They are queued for upload (and registered once stored).
/// A torn last fragment is cut off; times come from ffprobe (duration) and the file's modification time (end).
/// Core ignores chunks it already has, so re-sending is harmless.
/// </summary>
public sealed class ChunkReconciler(
    ChunkOutbox outbox,
    ISealedChunkSink sealedChunks,
    IOptions<RecorderOptions> options,
    TimeProvider clock,
    ILogger<ChunkReconciler> logger) : BackgroundService
{
    private readonly Channel<(int CameraId, DateTimeOffset Before)> _queue = Channel.CreateUnbounded<(int, DateTimeOffset)>();

    public int Reconciled { get; private set; }

    public void Schedule(int cameraId) => _queue.Writer.TryWrite((cameraId, clock.GetUtcNow()));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (cameraId, before) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await ReconcileAsync(cameraId, before, stoppingToken);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    RecorderLog.ReconcileFailed(logger, cameraId, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task<int> ReconcileAsync(int cameraId, DateTimeOffset before, CancellationToken ct)
    {
        var root = options.Value.ResolveRecordingsRoot();
        var dir = Path.Combine(root, cameraId.ToString(CultureInfo.InvariantCulture));
        if (!Directory.Exists(dir))
        {
            return 0;
        }

        var horizon = outbox.AcknowledgedEnd(cameraId) is { } acknowledged
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(acknowledged * 1000)).AddSeconds(1)
            : clock.GetUtcNow().AddHours(-options.Value.ReconcileHours);
        var latest = before.AddSeconds(-1);
        var candidates = new DirectoryInfo(dir).EnumerateFiles("*.mp4", SearchOption.AllDirectories)
            .Where(f => f.LastWriteTimeUtc > horizon.UtcDateTime && f.LastWriteTimeUtc < latest.UtcDateTime)
            .OrderBy(f => f.LastWriteTimeUtc)
            .ToList();
        var count = 0;
        foreach (var file in candidates)
        {
            var relative = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (sealedChunks.IsPending(cameraId, relative) || outbox.IsPending(cameraId, relative))
            {
                continue;
            }

            Mp4Probe.TruncateIncompleteTail(file.FullName);
            var probe = await Mp4Probe.ProbeAsync(options.Value.FfprobePath, file.FullName, ct);
            if (probe is null || probe.Frames == 0 || probe.DurationSeconds <= 0)
            {
                continue; // not a playable chunk: left alone for an operator rather than deleted
            }

            file.Refresh();
            var end = new DateTimeOffset(file.LastWriteTimeUtc).ToUnixTimeMilliseconds() / 1000.0;
            var (start, stop) = ChunkClock.PlaceByEnd(probe.DurationSeconds, end);
            sealedChunks.Append(new ChunkRegistration(cameraId, relative, Math.Round(start, 3), Math.Round(stop, 3), Math.Round(stop - start, 3),
                file.Length, probe.Codec, probe.Width, probe.Height));
            count++;
        }

        if (count > 0)
        {
            RecorderLog.Reconciled(logger, cameraId, count);
        }

        Reconciled += count;
        return count;
    }
}
