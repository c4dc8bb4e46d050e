namespace OpenNvr.Core.Recordings;

/// <summary>
/// The <c>Recorder</c> section as Core reads it: only the default root of a filesystem recording store on a single host
/// (<c>Storage:Root</c> wins). Core never reads this folder itself: chunks and snapshots come through the store.
/// </summary>
public sealed class RecordingsOptions
{
    public const string Section = "Recorder";

    public string? RecordingsRoot { get; set; }
}
