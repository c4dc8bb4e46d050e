using System.Text.RegularExpressions;

namespace OpenNvr.Core.Recordings;

/// <summary>The <c>Recorder</c> section as Core reads it: where the Recorder's chunks and snapshots live.</summary>
public sealed partial class RecordingsOptions
{
    public const string Section = "Recorder";
    public const int MaxPathLength = 1024;

    public string? RecordingsRoot { get; set; }

    /// <summary>Null when the relative path is acceptable (what the Recorder reports), else what is wrong.</summary>
    public static string? CheckRelativePath(string? path, string field)
    {
        if (string.IsNullOrEmpty(path))
        {
            return $"{field} is required.";
        }

        if (path.Length > MaxPathLength)
        {
            return $"{field} is longer than {MaxPathLength} characters.";
        }

        return RelativePath().IsMatch(path) && path.Split('/').All(segment => segment is not ("." or ".."))
            ? null
            : $"{field} must be a relative path of segments of A-Z, a-z, 0-9, '.', '_' or '-' separated by '/', without '..'.";
    }

    /// <summary>The absolute path of a stored relative path, or null if there is no root or it would escape it.</summary>
    public string? Resolve(string relativePath)
    {
        if (string.IsNullOrEmpty(RecordingsRoot) || CheckRelativePath(relativePath, "path") is not null)
        {
            return null;
        }

        var root = Path.GetFullPath(RecordingsRoot);
        var full = Path.GetFullPath(Path.Combine(root, relativePath));
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return full.StartsWith(rootWithSeparator, StringComparison.Ordinal) ? full : null;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")]
    private static partial Regex RelativePath();
}
