namespace OpenNvr.Core.Telemetry;

/// <summary>Structured log messages of Core. Never pass secrets (passwords, tokens, stream credentials) here.</summary>
internal static partial class CoreLog
{
    [LoggerMessage(1, LogLevel.Information, "Created the first administrator {Username} on an empty database")]
    public static partial void AdminSeeded(ILogger logger, string username);

    [LoggerMessage(2, LogLevel.Warning, "No user exists and Auth:AdminPassword is not set: nobody can log in until it is")]
    public static partial void AdminPasswordMissing(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "Auth:JwtSigningKey is not set: using an ephemeral key (Development only); tokens die with this process")]
    public static partial void EphemeralJwtKey(ILogger logger);

    [LoggerMessage(4, LogLevel.Information, "Login of {Username} succeeded")]
    public static partial void LoginSucceeded(ILogger logger, string username);

    [LoggerMessage(5, LogLevel.Warning, "Login of {Username} failed ({Reason})")]
    public static partial void LoginFailed(ILogger logger, string username, string reason);

    [LoggerMessage(6, LogLevel.Warning, "Refresh token reuse detected for user {UserId}: family {FamilyId} revoked")]
    public static partial void RefreshTokenReuse(ILogger logger, int userId, Guid familyId);

    [LoggerMessage(7, LogLevel.Information, "Camera {CameraId} leased to recorder {RecorderId}")]
    public static partial void LeaseAssigned(ILogger logger, int cameraId, string recorderId);

    [LoggerMessage(10, LogLevel.Information, "Camera {CameraId} handed off from recorder {From} to recorder {To} to balance the load")]
    public static partial void LeaseHandOffStarted(ILogger logger, int cameraId, string from, string to);

    [LoggerMessage(11, LogLevel.Information, "Camera {CameraId} released by recorder {From}, now leased to recorder {To} ({ElapsedMs} ms after the hand-off began)")]
    public static partial void LeaseHandOffCompleted(ILogger logger, int cameraId, string from, string to, double elapsedMs);

    [LoggerMessage(8, LogLevel.Information, "Registered {Inserted} chunks ({Duplicates} duplicates) for {Cameras} cameras")]
    public static partial void RecordingsRegistered(ILogger logger, int inserted, int duplicates, int cameras);

    [LoggerMessage(9, LogLevel.Debug, "Stored {Count} events in {ElapsedMs} ms")]
    public static partial void EventsStored(ILogger logger, int count, double elapsedMs);



    [LoggerMessage(12, LogLevel.Information, "Camera {CameraId} state {State}")]
    public static partial void CameraState(ILogger logger, int cameraId, string state);

    [LoggerMessage(13, LogLevel.Information, "Created the demo camera {CameraId} ({CameraName}) from Demo:CameraUrl")]
    public static partial void DemoCameraSeeded(ILogger logger, int cameraId, string cameraName);

    [LoggerMessage(14, LogLevel.Warning, "Inference's /capabilities could not be read; AI policy tasks are checked against the known task names only: {Error}")]
    public static partial void InferenceCapabilitiesUnavailable(ILogger logger, string error);
}
