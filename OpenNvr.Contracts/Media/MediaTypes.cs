namespace OpenNvr.Contracts.Media;

/// <summary>The media OpenNVR stores and serves, with the file extensions that name them.</summary>
public static class MediaTypes
{
    public const string Jpeg = "image/jpeg";
    public const string Png = "image/png";
    public const string Mp4 = "video/mp4";

    public const string JpegExtension = ".jpg";
    public const string PngExtension = ".png";
    public const string Mp4Extension = ".mp4";

    /// <summary>The media type of an image file by its extension (<c>.jpg</c>, <c>.jpeg</c>, <c>.png</c>, any case), else null.</summary>
    public static string? OfImageFile(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".jpg" or ".jpeg" => Jpeg,
        ".png" => Png,
        _ => null,
    };
}
