namespace OpenNvr.Core.Cameras;

public sealed class CameraOptions
{
    public const string Section = "Cameras";

    /// <summary>
    /// Allows <c>file://</c> sources (the app host's demo camera and tests loop a local MP4). Off by default: a
    /// camera URL must not let an administrator make the Recorder read arbitrary files.
    /// </summary>
    public bool AllowFileSources { get; set; }
}
