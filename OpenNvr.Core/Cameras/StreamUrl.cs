namespace OpenNvr.Core.Cameras;

/// <summary>A camera stream URL split into the part that may be shown and the credentials that may not.</summary>
public sealed record StreamUrl(string UrlWithoutCredentials, StreamCredentials? Credentials, bool KeepsStoredCredentials)
{
    public const int MaxLength = 2048;
    public const string MaskedUserInfo = "***:***";

    // Shell metacharacters. ffmpeg gets its arguments without a shell, but URLs also travel into logs, scripts and
    // other tools. '&' is allowed in the query only: cameras such as Dahua's need "?channel=1&subtype=0".
    private static readonly char[] Forbidden = [';', '|', '`', '$', '<', '>', '"', '\'', '\\', '{', '}', '(', ')', '!', '*'];

    /// <summary>Parses and validates; <paramref name="error"/> says what is wrong (for a problem detail).</summary>
    public static StreamUrl? Parse(string? url, bool allowFileSources, string field, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(url))
        {
            error = $"{field} is required.";
            return null;
        }

        if (url.Length > MaxLength)
        {
            error = $"{field} is longer than {MaxLength} characters.";
            return null;
        }

        if (url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            error = $"{field} must not contain whitespace or control characters.";
            return null;
        }

        // A URL read back from the API comes with masked credentials: sending it back unchanged keeps the stored ones.
        var keepStored = false;
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var candidate = url;
        if (schemeEnd > 0 && url.AsSpan(schemeEnd + 3).StartsWith(MaskedUserInfo + "@"))
        {
            keepStored = true;
            candidate = string.Concat(url.AsSpan(0, schemeEnd + 3), url.AsSpan(schemeEnd + 3 + MaskedUserInfo.Length + 1));
        }

        var queryStart = candidate.IndexOf('?');
        var beforeQuery = queryStart < 0 ? candidate : candidate[..queryStart];
        if (candidate.IndexOfAny(Forbidden) >= 0 || beforeQuery.Contains('&'))
        {
            error = $"{field} contains characters that are not allowed (shell metacharacters such as ; | ` $ < > quotes or parentheses).";
            return null;
        }

        if (!Uri.TryCreate(candidate, UriKind.Absolute, out var uri))
        {
            error = $"{field} is not an absolute URL.";
            return null;
        }

        switch (uri.Scheme)
        {
            case "rtsp" or "rtsps":
                if (string.IsNullOrEmpty(uri.Host))
                {
                    error = $"{field} has no host.";
                    return null;
                }

                break;
            case "file" when allowFileSources:
                if (!string.IsNullOrEmpty(uri.UserInfo) || !uri.IsLoopback && !string.IsNullOrEmpty(uri.Host))
                {
                    error = $"{field}: a file:// source must be a local absolute path.";
                    return null;
                }

                return new StreamUrl(uri.AbsoluteUri, null, false);
            case "file":
                error = $"{field}: file:// sources are disabled (Cameras:AllowFileSources).";
                return null;
            default:
                error = $"{field} must use the rtsp:// or rtsps:// scheme.";
                return null;
        }

        StreamCredentials? credentials = null;
        var stripped = candidate;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var separator = uri.UserInfo.IndexOf(':');
            var user = Uri.UnescapeDataString(separator < 0 ? uri.UserInfo : uri.UserInfo[..separator]);
            var password = separator < 0 ? "" : Uri.UnescapeDataString(uri.UserInfo[(separator + 1)..]);
            credentials = new StreamCredentials(user, password);
            stripped = string.Concat(candidate.AsSpan(0, schemeEnd + 3), candidate.AsSpan(candidate.IndexOf('@', schemeEnd) + 1));
            keepStored = false;
        }

        return new StreamUrl(stripped, credentials, keepStored);
    }

    /// <summary>
    /// Whether two credential-free URLs reach the same server: scheme, host and port (the default port when none is
    /// given). Stored credentials follow a masked URL only to the server they were typed for; anything else would let
    /// an admin token send a camera's password to a host of its choosing.
    /// </summary>
    public static bool SameEndpoint(string? a, string? b)
    {
        if (a is null || b is null || !Uri.TryCreate(a, UriKind.Absolute, out var first) || !Uri.TryCreate(b, UriKind.Absolute, out var second))
        {
            return false;
        }

        return first.Scheme == second.Scheme
            && string.Equals(first.IdnHost, second.IdnHost, StringComparison.OrdinalIgnoreCase)
            && EffectivePort(first) == EffectivePort(second);
    }

    private static int EffectivePort(Uri uri) => uri.Port >= 0 ? uri.Port : uri.Scheme switch
    {
        "rtsp" => 554,
        "rtsps" => 322,
        _ => -1,
    };

    /// <summary>The URL as shown to users: credentials replaced by <c>***:***</c>.</summary>
    public static string Mask(string urlWithoutCredentials, bool hasCredentials) =>
        hasCredentials ? Insert(urlWithoutCredentials, MaskedUserInfo) : urlWithoutCredentials;

    /// <summary>The URL the Recorder connects to: credentials percent-encoded back into the user information.</summary>
    public static string WithCredentials(string urlWithoutCredentials, StreamCredentials? credentials) =>
        credentials is null || credentials.Username.Length == 0 && credentials.Password.Length == 0
            ? urlWithoutCredentials
            : Insert(urlWithoutCredentials, Uri.EscapeDataString(credentials.Username) + ":" + Uri.EscapeDataString(credentials.Password));

    private static string Insert(string url, string userInfo)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        return schemeEnd < 0 || url.StartsWith("file:", StringComparison.Ordinal)
            ? url
            : string.Concat(url.AsSpan(0, schemeEnd + 3), userInfo, "@", url.AsSpan(schemeEnd + 3));
    }
}

public sealed record StreamCredentials(string Username, string Password);
