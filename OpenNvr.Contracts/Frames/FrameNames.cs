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
/// <para>A camera's frames live in <c>camera_&lt;id&gt;/</c>, the original OpenNVR's layout, so that the reference's
/// examples (<c>opennvr://frames/camera_0/latest.jpg</c>) work as written. The bare id (<c>opennvr://frames/7/…</c>,
/// this project's first layout) stays an alias: <see cref="PublishedFolder"/> maps it to <c>camera_7</c>. Every reader
/// (Inference's resolver, the Recorder's <c>GET /frames</c>, Core's live view) goes through it.</para>
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

    /// <summary>The prefix of a camera's frame folder: <c>camera_&lt;id&gt;</c>.</summary>
    public const string CameraFolderPrefix = "camera_";

    /// <summary>The folder of a camera's frames: <c>camera_&lt;id&gt;</c>.</summary>
    public static string CameraFolder(int cameraId) => CameraFolderPrefix + cameraId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The folder a valid camera segment of a frame URI names: a bare camera id (the numeric alias) is its
    /// <c>camera_&lt;id&gt;</c> folder; any other name (<c>camera_7</c>, <c>console-uploads</c>) is itself.
    /// </summary>
    public static string PublishedFolder(string camera) =>
        TryParseBareId(camera, out var id) ? CameraFolder(id) : camera;

    /// <summary>The camera id a frame folder belongs to: <c>camera_&lt;id&gt;</c> or the bare id; false for other folders.</summary>
    public static bool TryParseCameraId(string? camera, out int cameraId)
    {
        cameraId = 0;
        return camera is not null && (TryParseBareId(camera, out cameraId) ||
               camera.StartsWith(CameraFolderPrefix, StringComparison.Ordinal) && TryParseBareId(camera[CameraFolderPrefix.Length..], out cameraId));
    }

    /// <summary>The frame URI of a camera's file in the published layout: <c>opennvr://frames/camera_&lt;id&gt;/&lt;file&gt;</c>.</summary>
    public static string FrameUri(int cameraId, string file) => $"opennvr://frames/{CameraFolder(cameraId)}/{file}";

    /// <summary>The prefix of an annotated image (a frame with a task's boxes drawn, <c>input.options.annotate</c>).</summary>
    public const string AnnotatedPrefix = "annotated_";

    /// <summary>
    /// The name of an annotated image: <c>annotated_&lt;unix ms, 13 digits&gt;_&lt;32 hex&gt;.jpg</c>. The random part makes
    /// every request's name its own (two requests never overwrite each other's image); the fixed-width time makes the
    /// ordinal order of names the order they were made in, which is how the oldest are found and removed.
    /// </summary>
    public static string AnnotatedFile(DateTimeOffset madeAt, Guid id) =>
        AnnotatedPrefix + Math.Clamp(madeAt.ToUnixTimeMilliseconds(), 0, 9_999_999_999_999).ToString("D13", CultureInfo.InvariantCulture) + "_" + id.ToString("N") + ".jpg";

    /// <summary>Whether <paramref name="file"/> is an annotated image's name (<see cref="AnnotatedFile"/>).</summary>
    public static bool IsAnnotatedFile(string? file) => file is not null && AnnotatedPattern().IsMatch(file);

    // Digits only, no sign, no leading zero (so "007" is not an alias of camera 7, and each id has one spelling).
    private static bool TryParseBareId(string text, out int id)
    {
        id = 0;
        return text.Length is > 0 and <= 10 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0') &&
               int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }

    [GeneratedRegex(@"^annotated_[0-9]{13}_[0-9a-f]{32}\.jpg\z")]
    private static partial Regex AnnotatedPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,64}\z")]
    private static partial Regex CameraPattern();

    // A leading character that is not a dot keeps "..", ".jpg" and hidden files out.
    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?i:jpg|jpeg|png)\z")]
    private static partial Regex FilePattern();
}
