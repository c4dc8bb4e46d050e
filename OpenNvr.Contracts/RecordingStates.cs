namespace OpenNvr.Contracts;

/// <summary>A camera's recording state as the Recorder reports it and Core shows it.</summary>
public static class RecordingStates
{
    public const string Recording = "recording";
    public const string Reconnecting = "reconnecting";
    public const string Stalled = "stalled";
    public const string Disabled = "disabled";
    public const string Error = "error";

    /// <summary>What Core shows before any report.</summary>
    public const string Unknown = "unknown";

    /// <summary>The states a Recorder may report.</summary>
    public static readonly IReadOnlySet<string> Reported = new HashSet<string>(StringComparer.Ordinal)
    {
        Recording, Reconnecting, Stalled, Disabled, Error,
    };
}
