using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// A validated frame URI: a camera folder and a file name, each a single safe path segment, so a reference can never
/// name anything outside <c>&lt;Frames:Root&gt;/&lt;camera&gt;/</c>.
/// </summary>
public sealed record FrameReference(string Camera, string File)
{
    public const string Scheme = "opennvr://";
    public const int MaxUriLength = 512;

    public override string ToString() => $"{Scheme}frames/{Camera}/{File}";

    /// <summary>
    /// Parses <c>opennvr://frames/&lt;camera&gt;/&lt;file&gt;</c> or the short form <c>opennvr://&lt;camera&gt;/&lt;file&gt;</c>;
    /// the camera is the folder it names (<see cref="FrameNames.PublishedFolder"/>: <c>7</c> is <c>camera_7</c>).
    /// Rejects (400) other schemes, percent-encoding, backslashes, queries, and any segment that is not a plain name:
    /// there is deliberately no decoding step that could turn <c>%2e%2e</c> into <c>..</c> after validation.
    /// </summary>
    public static FrameReference Parse(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw Invalid("The frame URI is empty.");
        }

        if (uri.Length > MaxUriLength)
        {
            throw Invalid($"The frame URI is {uri.Length} characters long; at most {MaxUriLength} are accepted.");
        }

        if (!uri.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            var colon = uri.IndexOf(':');
            var scheme = colon > 0 && colon < 32 ? uri[..colon] : null;
            throw Invalid(scheme is null
                ? $"'{Shorten(uri)}' is not a frame URI: use opennvr://frames/<camera>/<file>."
                : $"The URI scheme '{scheme}' is not supported: use opennvr://frames/<camera>/<file>.");
        }

        var path = uri[Scheme.Length..];
        if (path.IndexOfAny(['%', '\\', '?', '#', '\0']) >= 0)
        {
            throw Invalid("The frame URI must not contain percent-encoding, backslashes, a query or a fragment.");
        }

        var segments = path.Split('/');
        var (camera, file) = segments switch
        {
            ["frames", var c, var f] => (c, f),
            [var c, var f] => (c, f),
            _ => throw Invalid($"'{Shorten(uri)}' does not name a frame: use opennvr://frames/<camera>/<file>."),
        };

        if (!FrameNames.IsCameraFolder(camera))
        {
            throw Invalid($"The camera '{Shorten(camera)}' is not a valid camera name (letters, digits, '_' and '-', at most 64).");
        }

        if (!FrameNames.IsFrameFile(file))
        {
            throw Invalid($"The file '{Shorten(file)}' is not a valid frame file name ({FrameNames.FileRule}).");
        }

        // The numeric alias (opennvr://frames/7/...) names the published camera_7 folder.
        return new FrameReference(FrameNames.PublishedFolder(camera), file);
    }

    private static InferenceProblemException Invalid(string detail) =>
        new(StatusCodes.Status400BadRequest, "Invalid frame URI", detail);

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "...";
}
