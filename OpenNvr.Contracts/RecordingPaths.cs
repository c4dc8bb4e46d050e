using System.Text.RegularExpressions;

namespace OpenNvr.Contracts;

/// <summary>
/// A chunk or snapshot path relative to <c>Recorder:RecordingsRoot</c>, as the Recorder reports it and Core stores it:
/// segments of <c>A-Za-z0-9._-</c> joined by <c>/</c>, no <c>.</c> or <c>..</c> segment, no leading <c>/</c>.
/// </summary>
public static partial class RecordingPaths
{
    public const int MaxLength = 1024;

    /// <summary>Null when the relative path is acceptable, else what is wrong, naming <paramref name="field"/>.</summary>
    public static string? Check(string? path, string field)
    {
        if (string.IsNullOrEmpty(path))
        {
            return $"{field} is required.";
        }

        if (path.Length > MaxLength)
        {
            return $"{field} is longer than {MaxLength} characters.";
        }

        return RelativePath().IsMatch(path) && path.Split('/').All(segment => segment is not ("." or ".."))
            ? null
            : $"{field} must be a relative path of segments of A-Z, a-z, 0-9, '.', '_' or '-' separated by '/', without '..'.";
    }

    /// <summary>
    /// The folder of one camera under the recordings root (<c>&lt;camera id&gt;/</c>): its chunks and snapshots lie
    /// there and nowhere else, so that a registration cannot point one camera's index at another camera's files.
    /// </summary>
    public static string CameraPrefix(int cameraId) => cameraId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/";

    /// <summary>Whether an (already checked) relative path lies in the camera's own folder.</summary>
    public static bool BelongsTo(string path, int cameraId) => path.StartsWith(CameraPrefix(cameraId), StringComparison.Ordinal);

    [GeneratedRegex(@"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\z")]
    private static partial Regex RelativePath();
}
