using System.Globalization;
using OpenNvr.Recorder.Upload;
using OpenNvr.Storage;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Event snapshots: <c>&lt;camera&gt;/snapshots/&lt;yyyy-MM-dd&gt;/&lt;HHmmssfff&gt;.jpg</c> (the frame that was
/// analysed), written under the recordings root and queued for the recording store like a chunk (Core serves them from
/// the store), kept as long as the camera's recordings.
/// </summary>
internal sealed class SnapshotStore(string recordingsRoot, UploadQueue uploads, IRecordingStore store, TimeProvider clock)
{
    private const string Folder = "snapshots";

    /// <summary>Moves the analysed frame into place, queues its upload and returns its path relative to the recordings root.</summary>
    public string Save(int cameraId, string framePath, DateTimeOffset capturedAt)
    {
        var relative = RelativePath(cameraId, capturedAt);
        var target = Path.Combine(recordingsRoot, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (!File.Exists(target))
        {
            // Another policy's event of the same frame may have saved (and queued) it already (the same image).
            File.Move(framePath, target);
            uploads.AppendSnapshot(relative, new FileInfo(target).Length);
        }

        return relative;
    }

    /// <summary>Writes a kept frame (a person's best) into place and queues its upload, unless that frame is there already; returns its relative path.</summary>
    public string Save(int cameraId, byte[] jpeg, DateTimeOffset capturedAt)
    {
        var relative = RelativePath(cameraId, capturedAt);
        var target = Path.Combine(recordingsRoot, relative.Replace('/', Path.DirectorySeparatorChar));
        if (!File.Exists(target))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var temporary = target + ".tmp";
            File.WriteAllBytes(temporary, jpeg);
            File.Move(temporary, target, overwrite: true);
            uploads.AppendSnapshot(relative, jpeg.Length);
        }

        return relative;
    }

    private static string RelativePath(int cameraId, DateTimeOffset capturedAt)
    {
        var at = capturedAt.UtcDateTime;
        return string.Join('/', cameraId.ToString(CultureInfo.InvariantCulture), Folder,
            at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), at.ToString("HHmmssfff", CultureInfo.InvariantCulture) + ".jpg");
    }

    /// <summary>
    /// Snapshot days older than the camera's retention (and <c>Recorder:MaxAgeDays</c>) go, like its chunks: from the
    /// store (listed by prefix) and from the local disk.
    /// </summary>
    public async Task PruneAsync(IEnumerable<CameraConfig> cameras, CancellationToken ct)
    {
        foreach (var camera in cameras.Where(c => c.RetentionDays > 0))
        {
            var oldest = clock.GetUtcNow().UtcDateTime.Date.AddDays(-camera.RetentionDays);
            var prefix = $"{camera.Id.ToString(CultureInfo.InvariantCulture)}/{Folder}/";
            var expired = new List<string>();
            await foreach (var stored in store.ListAsync(prefix, ct))
            {
                if (IsOlder(stored.Key[prefix.Length..].Split('/')[0], oldest))
                {
                    expired.Add(stored.Key);
                }
            }

            foreach (var key in expired)
            {
                await store.DeleteAsync(key, ct);
            }

            var dir = Path.Combine(recordingsRoot, camera.Id.ToString(CultureInfo.InvariantCulture), Folder);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var day in Directory.EnumerateDirectories(dir).Where(d => IsOlder(Path.GetFileName(d), oldest)))
            {
                Directory.Delete(day, recursive: true);
            }
        }
    }

    private static bool IsOlder(string day, DateTime oldest) =>
        DateTime.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date) &&
        date < oldest;
}
