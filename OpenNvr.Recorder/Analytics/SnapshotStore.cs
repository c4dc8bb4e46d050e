using System.Globalization;
using OpenNvr.Recorder.Infrastructure;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// Event snapshots under the recordings root: <c>&lt;camera&gt;/snapshots/&lt;yyyy-MM-dd&gt;/&lt;HHmmssfff&gt;.jpg</c>
/// (the frame that was analysed), kept as long as the camera's recordings.
/// </summary>
internal sealed class SnapshotStore(string recordingsRoot, TimeProvider clock)
{
    /// <summary>Moves the analysed frame into place and returns its path relative to the recordings root.</summary>
    public string Save(int cameraId, string framePath, DateTimeOffset capturedAt)
    {
        var at = capturedAt.UtcDateTime;
        var relative = string.Join('/', cameraId.ToString(CultureInfo.InvariantCulture), "snapshots",
            at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), at.ToString("HHmmssfff", CultureInfo.InvariantCulture) + ".jpg");
        var target = Path.Combine(recordingsRoot, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (!File.Exists(target))
        {
            // Another policy's event of the same frame may have saved it already (the same image).
            File.Move(framePath, target);
        }

        return relative;
    }

    /// <summary>Snapshot days older than the camera's retention (and <c>Recorder:MaxAgeDays</c>) go, like its chunks.</summary>
    public void Prune(IEnumerable<CameraConfig> cameras)
    {
        foreach (var camera in cameras.Where(c => c.RetentionDays > 0))
        {
            var dir = Path.Combine(recordingsRoot, camera.Id.ToString(CultureInfo.InvariantCulture), "snapshots");
            if (!Directory.Exists(dir))
            {
                continue;
            }

            var oldest = clock.GetUtcNow().UtcDateTime.Date.AddDays(-camera.RetentionDays);
            foreach (var day in Directory.EnumerateDirectories(dir))
            {
                if (DateTime.TryParseExact(Path.GetFileName(day), "yyyy-MM-dd", CultureInfo.InvariantCulture,
                        DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date) && date < oldest)
                {
                    Directory.Delete(day, recursive: true);
                }
            }
        }
    }
}
