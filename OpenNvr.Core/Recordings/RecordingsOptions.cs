namespace OpenNvr.Core.Recordings;

/// <summary>The <c>Recorder</c> section as Core reads it: where the Recorder's chunks and snapshots live.</summary>
public sealed class RecordingsOptions
{
    public const string Section = "Recorder";

    public string? RecordingsRoot { get; set; }

    /// <summary>The absolute path of a stored relative path, or null if there is no root or it would escape it.</summary>
    public string? Resolve(string relativePath)
    {
        if (string.IsNullOrEmpty(RecordingsRoot) || RecordingPaths.Check(relativePath, "path") is not null)
        {
            return null;
        }

        var root = Path.GetFullPath(RecordingsRoot);
        var full = Path.GetFullPath(Path.Combine(root, relativePath));
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return full.StartsWith(rootWithSeparator, StringComparison.Ordinal) ? full : null;
    }
}
