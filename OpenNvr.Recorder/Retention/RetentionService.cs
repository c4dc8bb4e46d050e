using System.Globalization;
using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Telemetry;
using OpenNvr.Recorder.Upload;
using OpenNvr.Storage;

namespace OpenNvr.Recorder.Retention;

public sealed record RetentionResult(int Age, int Quota, int FreeSpace, int Orphans, long Bytes);

/// <summary>
/// Deletes old chunks of the cameras this replica holds, every <c>Recorder:RetentionIntervalSeconds</c>:
/// <list type="number">
/// <item>age: chunks that ended before now minus the camera's retention_days (capped by <c>Recorder:MaxAgeDays</c>);</item>
/// <item>quota: the oldest chunks while the camera's indexed bytes exceed its storage_quota_bytes (default
/// <c>Recorder:MaxBytesPerCamera</c>);</item>
/// <item>free space: while the volume of a filesystem store has less free space than the floor (the larger of
/// <c>Recorder:MinFreeBytes</c> and <c>Recorder:MinFreePercent</c> of the volume), the oldest chunks of all held
/// cameras, whatever their age (a blob store has no floor; the local disk's is kept by the <see cref="ChunkUploader"/>).</item>
/// </list>
/// Victims come from Core's index (oldest first); chunks flagged as evidence are never chosen. Each victim's stored
/// object and local copy are deleted first, then its index row through Core. A failure halfway is repaired by the next pass: a row whose file
/// is already gone is still the oldest and its row is deleted then; a file whose row is gone (never indexed, or
/// removed behind the Recorder's back) is deleted when its hour folder is older than the age limit (an unindexed
/// file cannot be evidence: the flag lives on the row), and newer ones are re-registered by reconciliation.
/// </summary>
public sealed class RetentionService(
    CoreClient core,
    RecordingCoordinator coordinator,
    IRecordingStore store,
    LocalCopies copies,
    IOptions<RecorderOptions> options,
    TimeProvider clock,
    ILogger<RetentionService> logger) : BackgroundService
{
    private const int Page = 500;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Free space of the recordings volume (bytes) and its size.</summary>
    public static (long Free, long Total) VolumeSpace(string root)
    {
        // On Linux DriveInfo statfs()es the path it is given: the volume that holds the recordings folder.
        var info = new DriveInfo(root);
        return (info.AvailableFreeSpace, info.TotalSize);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(options.Value.RetentionIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, clock, stoppingToken);
                await RunPassAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutException or CoreRejectedException or IOException)
            {
                // Core away or a file busy: the next pass repairs whatever this one left halfway.
                RecorderLog.RetentionFailed(logger, ex.Message);
            }
        }
    }

    public async Task<RetentionResult> RunPassAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            using var activity = RecorderTelemetry.ActivitySource.StartActivity("retention.pass");
            var opts = options.Value;
            var root = opts.ResolveRecordingsRoot();
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
            int age = 0, quota = 0, free = 0, orphans = 0;
            long bytes = 0;
            var cameras = coordinator.Cameras;
            foreach (var camera in cameras)
            {
                var days = EffectiveDays(camera.RetentionDays, opts.MaxAgeDays);
                if (days > 0)
                {
                    var cutoff = now - days * 86400;
                    var evidence = new HashSet<string>();
                    while (true)
                    {
                        var page = await core.QueryAsync(camera.Id, cutoff, Page, ct);
                        foreach (var chunk in page.Recordings.Where(c => c.IsEvidence))
                        {
                            evidence.Add(chunk.Path);
                        }

                        var victims = page.Recordings.Where(c => !c.IsEvidence).ToList();
                        if (victims.Count == 0)
                        {
                            break;
                        }

                        var (n, b) = await DeleteAsync(root, camera.Id, victims, "age", ct);
                        age += n;
                        bytes += b;
                        if (page.Count < Page)
                        {
                            break;
                        }
                    }

                    orphans += DeleteOrphans(root, camera.Id, cutoff, evidence);
                }

                var limit = camera.StorageQuotaBytes is > 0 ? camera.StorageQuotaBytes.Value : opts.MaxBytesPerCamera;
                if (limit > 0)
                {
                    var page = await core.QueryAsync(camera.Id, null, Page, ct);
                    var excess = page.TotalBytes - limit;
                    while (excess > 0)
                    {
                        var victims = new List<IndexedChunk>();
                        foreach (var chunk in page.Recordings.Where(c => !c.IsEvidence))
                        {
                            if (excess <= 0)
                            {
                                break;
                            }

                            victims.Add(chunk);
                            excess -= chunk.SizeBytes;
                        }

                        if (victims.Count == 0)
                        {
                            break;
                        }

                        var (n, b) = await DeleteAsync(root, camera.Id, victims, "quota", ct);
                        quota += n;
                        bytes += b;
                        if (excess <= 0 || page.Count < Page)
                        {
                            break;
                        }

                        page = await core.QueryAsync(camera.Id, null, Page, ct);
                        excess = page.TotalBytes - limit;
                    }
                }
            }

            var (deleted, freed) = await EnforceFreeSpaceAsync(root, cameras, ct);
            free += deleted;
            bytes += freed;
            activity?.SetTag("retention.deleted", age + quota + free + orphans);
            if (age + quota + free + orphans > 0)
            {
                RecorderLog.RetentionPass(logger, age, quota, free, orphans, bytes);
            }

            return new RetentionResult(age, quota, free, orphans, bytes);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(int, long)> EnforceFreeSpaceAsync(string root, IReadOnlyList<CameraConfig> cameras, CancellationToken ct)
    {
        var opts = options.Value;
        if (store.LocalPath("0") is not { } probe)
        {
            return (0, 0);
        }

        var (available, total) = VolumeSpace(Path.GetDirectoryName(probe)!);
        var floor = Math.Max(opts.MinFreeBytes, (long)(total * opts.MinFreePercent / 100));
        if (available >= floor || cameras.Count == 0)
        {
            return (0, 0);
        }

        var need = floor - available;
        int deleted = 0;
        long freed = 0;
        while (freed < need)
        {
            // The oldest chunks of all held cameras, merged by start time.
            var candidates = new List<(int Camera, IndexedChunk Chunk)>();
            foreach (var camera in cameras)
            {
                var page = await core.QueryAsync(camera.Id, null, 100, ct);
                candidates.AddRange(page.Recordings.Where(c => !c.IsEvidence).Select(c => (camera.Id, c)));
            }

            if (candidates.Count == 0)
            {
                RecorderLog.FreeSpaceFloorUnreachable(logger, available, floor);
                break;
            }

            var batch = new List<(int Camera, IndexedChunk Chunk)>();
            var planned = 0L;
            foreach (var candidate in candidates.OrderBy(c => c.Chunk.StartUnix))
            {
                if (freed + planned >= need)
                {
                    break;
                }

                batch.Add(candidate);
                planned += candidate.Chunk.SizeBytes;
            }

            var round = 0;
            foreach (var group in batch.GroupBy(c => c.Camera))
            {
                var (n, b) = await DeleteAsync(root, group.Key, group.Select(g => g.Chunk).ToList(), "free_space", ct);
                deleted += n;
                freed += b;
                round += n;
            }

            if (round == 0)
            {
                break; // files that cannot be deleted: try again next pass
            }
        }

        return (deleted, freed);
    }

    private async Task<(int Count, long Bytes)> DeleteAsync(string root, int cameraId, IReadOnlyList<IndexedChunk> victims, string reason, CancellationToken ct)
    {
        var removed = new List<string>();
        long bytes = 0;
        foreach (var chunk in victims)
        {
            var file = Resolve(root, chunk.Path);
            if (file is null)
            {
                continue;
            }

            try
            {
                // The stored object (the file itself when the store is this folder), then a cached local copy.
                await store.DeleteAsync(chunk.Path, ct);
                if (File.Exists(file))
                {
                    var size = new FileInfo(file).Length;
                    File.Delete(file);
                    copies.Deleted(size);
                }

                removed.Add(chunk.Path);
                bytes += chunk.SizeBytes;
            }
            catch (RecordingStoreException ex)
            {
                // The store is away: the rows of what is already gone go now, the rest next pass.
                RecorderLog.DeleteFailed(logger, cameraId, chunk.Path, ex.Message);
                break;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                RecorderLog.DeleteFailed(logger, cameraId, chunk.Path, ex.Message);
            }
        }

        if (removed.Count == 0)
        {
            return (0, 0);
        }

        // Files are gone: now the rows. If this fails the next pass finds rows without files and deletes them.
        await core.DeleteAsync(cameraId, removed, ct);
        RecorderTelemetry.RetentionDeleted.Add(removed.Count, new KeyValuePair<string, object?>("reason", reason));
        RecorderTelemetry.RetentionDeletedBytes.Add(bytes, new KeyValuePair<string, object?>("reason", reason));
        foreach (var dir in removed.Select(p => Path.GetDirectoryName(Resolve(root, p)!)!).Distinct())
        {
            RemoveEmptyHourFolder(dir);
        }

        return (removed.Count, bytes);
    }

    /// <summary>Unindexed chunk files in hour folders wholly older than the age cutoff.</summary>
    private int DeleteOrphans(string root, int cameraId, double cutoffUnix, HashSet<string> evidence)
    {
        var dir = Path.Combine(root, cameraId.ToString(CultureInfo.InvariantCulture));
        if (!Directory.Exists(dir))
        {
            return 0;
        }

        var count = 0;
        foreach (var day in Directory.EnumerateDirectories(dir))
        {
            foreach (var hour in Directory.EnumerateDirectories(day))
            {
                if (!DateTime.TryParseExact($"{Path.GetFileName(day)} {Path.GetFileName(hour)}", "yyyy-MM-dd HH", CultureInfo.InvariantCulture,
                        DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var hourStart) ||
                    new DateTimeOffset(hourStart.AddHours(2)).ToUnixTimeSeconds() > cutoffUnix)
                {
                    continue;
                }

                foreach (var file in Directory.EnumerateFiles(hour, "*.mp4"))
                {
                    var relative = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
                    if (!evidence.Contains(relative))
                    {
                        File.Delete(file);
                        count++;
                    }
                }

                RemoveEmptyHourFolder(hour);
            }
        }

        return count;
    }

    private void RemoveEmptyHourFolder(string hourDir)
    {
        try
        {
            // Only folders at least two hours old: ffmpeg opens chunks in the current hour's folder (made ahead).
            var day = Path.GetDirectoryName(hourDir)!;
            if (!DateTime.TryParseExact($"{Path.GetFileName(day)} {Path.GetFileName(hourDir)}", "yyyy-MM-dd HH", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var hourStart) ||
                hourStart > clock.GetUtcNow().UtcDateTime.AddHours(-2))
            {
                return;
            }

            if (!Directory.EnumerateFileSystemEntries(hourDir).Any())
            {
                Directory.Delete(hourDir);
            }

            if (!Directory.EnumerateFileSystemEntries(day).Any())
            {
                Directory.Delete(day);
            }
        }
        catch (IOException)
        {
        }
    }

    private static double EffectiveDays(int cameraDays, double maxDays) => (cameraDays, maxDays) switch
    {
        ( > 0, > 0) => Math.Min(cameraDays, maxDays),
        ( > 0, _) => cameraDays,
        (_, > 0) => maxDays,
        _ => 0,
    };

    private static string? Resolve(string root, string relative)
    {
        var full = Path.GetFullPath(Path.Combine(root, relative));
        return full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? full : null;
    }
}
