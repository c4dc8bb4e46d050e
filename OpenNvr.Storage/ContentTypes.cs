namespace OpenNvr.Storage;

/// <summary>The Content-Type a stored object is served with, from its extension.</summary>
public static class ContentTypes
{
    public static string Of(string key) => Path.GetExtension(key).ToLowerInvariant() switch
    {
        ".mp4" => "video/mp4",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".png" => "image/png",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };
}
