namespace OpenNvr.Recorder.Live;

/// <summary>Structured log messages of live view (event ids 200-219; never a stream URL).</summary>
internal static partial class LiveLog
{
    [LoggerMessage(200, LogLevel.Debug, "Camera {CameraId} ({Stream}): live run started, {Codec} {Width}x{Height}")]
    public static partial void RunStarted(ILogger logger, int cameraId, LiveStream stream, string codec, int width, int height);

    [LoggerMessage(201, LogLevel.Information, "Camera {CameraId} ({Stream}): viewer {ViewerId} joined ({Viewers} now)")]
    public static partial void ViewerJoined(ILogger logger, int cameraId, LiveStream stream, long viewerId, int viewers);

    [LoggerMessage(202, LogLevel.Information, "Camera {CameraId} ({Stream}): viewer {ViewerId} left ({Reason}) after {Fragments} fragments")]
    public static partial void ViewerLeft(ILogger logger, int cameraId, LiveStream stream, long viewerId, string reason, long fragments);

    [LoggerMessage(203, LogLevel.Warning, "Camera {CameraId} ({Stream}): viewer {ViewerId} dropped: too slow ({QueuedBytes} bytes waiting)")]
    public static partial void ViewerDropped(ILogger logger, int cameraId, LiveStream stream, long viewerId, long queuedBytes);

    [LoggerMessage(204, LogLevel.Warning, "Camera {CameraId} ({Stream}): live output unreadable, skipped until the next run: {Error}")]
    public static partial void FeedError(ILogger logger, int cameraId, LiveStream stream, string error);
}
