using System.Text.RegularExpressions;

namespace OpenNvr.Storage;

/// <summary>
/// The names of stored objects: relative paths of segments of <c>A-Za-z0-9._-</c> joined by <c>/</c>, at most 1024
/// characters, no segment starting with a dot (<c>.</c>, <c>..</c> and hidden entries such as the Recorder's
/// <c>.outbox</c> are local state, never objects). The same rule as the recordings index's paths, so every indexed
/// chunk has a valid key and no key escapes a filesystem store's root.
/// </summary>
public static partial class StorageKeys
{
    public const int MaxLength = 1024;

    /// <summary>Null when <paramref name="key"/> is a valid key, else what is wrong with it.</summary>
    public static string? Check(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "a storage key is required";
        }

        if (key.Length > MaxLength)
        {
            return $"a storage key is at most {MaxLength} characters";
        }

        return Pattern().IsMatch(key)
            ? null
            : $"'{key}' is not a storage key (segments of A-Z, a-z, 0-9, '.', '_' or '-' joined by '/', none starting with '.')";
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is valid.</summary>
    public static string Require(string? key) => Check(key) is { } problem ? throw new ArgumentException(problem, nameof(key)) : key!;

    /// <summary>True when <paramref name="prefix"/> could start a valid key (empty lists everything).</summary>
    public static bool IsValidPrefix(string prefix) =>
        prefix.Length <= MaxLength && PrefixPattern().IsMatch(prefix);

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")]
    private static partial Regex Pattern();

    [GeneratedRegex("^([A-Za-z0-9_-][A-Za-z0-9._-]*(/([A-Za-z0-9_-][A-Za-z0-9._-]*)?)*)?$")]
    private static partial Regex PrefixPattern();
}
