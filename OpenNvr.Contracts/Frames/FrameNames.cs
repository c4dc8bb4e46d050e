using System.Globalization;
using System.Text.RegularExpressions;

namespace OpenNvr.Contracts.Frames;

/// <summary>
/// Names under <c>&lt;Frames:Root&gt;</c>, shared by the Recorder (which publishes and serves frames), Inference (which
/// reads <c>opennvr://frames/&lt;camera&gt;/&lt;file&gt;</c>) and Core (which writes console uploads there).
/// A camera folder is 1-64 characters of <c>A-Z a-z 0-9 _ -</c>. A frame file is 1-128 characters of those and
/// <c>.</c>, does not start with a dot (no hidden files), holds no <c>..</c> and ends in <c>.jpg</c>, <c>.jpeg</c> or
/// <c>.png</c> (any case): the Recorder publishes JPEGs, Core's console uploads may be PNGs, and a name one side accepts
/// the other must accept too, or a valid frame that is simply missing would be a 400 on one host and a 404 on another.
/// </summary>
public static partial class FrameNames
{
    public const int MaxCameraLength = 64;
    public const int MaxFileLength = 128;

    /// <summary>The frame the Recorder replaces atomically with each decoded image.</summary>
    public const string LatestFile = "latest.jpg";

    public const string CameraRule = "1-64 characters of A-Z, a-z, 0-9, '_' or '-'";
    public const string FileRule = "1-128 characters of A-Z, a-z, 0-9, '_', '-' or '.', not starting with '.', without '..', ending in .jpg, .jpeg or .png";

    public static bool IsCameraFolder(string? camera) => camera is not null && CameraPattern().IsMatch(camera);

    public static bool IsFrameFile(string? file) =>
        file is { Length: <= MaxFileLength } && FilePattern().IsMatch(file) && !file.Contains("..", StringComparison.Ordinal);

    /// <summary>The folder of a camera's frames: its id.</summary>
    public static string CameraFolder(int cameraId) => cameraId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The camera id a frame folder belongs to (the inverse of <see cref="CameraFolder"/>); false for other folders.</summary>
    public static bool TryParseCameraId(string? camera, out int cameraId)
    {
        cameraId = 0;
        return camera is { Length: > 0 and <= 10 } && camera.All(char.IsAsciiDigit) && (camera == "0" || camera[0] != '0') &&
               int.TryParse(camera, NumberStyles.None, CultureInfo.InvariantCulture, out cameraId);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    private static partial Regex CameraPattern();

    // A leading character that is not a dot keeps "..", ".jpg" and hidden files out.
    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?i:jpg|jpeg|png)\z")]
    private static partial Regex FilePattern();
}
