using System.Text;

namespace Microsoft.Extensions.Logging;

/// <summary>
/// Makes a value that came from a request safe to put into a log line. Console and file sinks print messages as
/// text, so a user name such as <c>"bob\n2026-01-01 info: Login of admin succeeded"</c> would forge a second entry;
/// terminal escape sequences could rewrite what an operator sees. Control characters (CR, LF, ESC, ...) and Unicode
/// line/paragraph separators become <c>\uXXXX</c> escapes, and long values are cut, so a log line stays one line of
/// bounded length. Use it for every value a client chose (names, paths, headers), never for our own constants.
/// </summary>
public static class LogValues
{
    public const int DefaultMaxLength = 200;

    public static string Sanitize(string? value, int maxLength = DefaultMaxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            return value ?? "";
        }

        var cut = value.Length > maxLength;
        var span = cut ? value.AsSpan(0, maxLength) : value.AsSpan();
        if (!cut && !NeedsEscaping(span))
        {
            return value;
        }

        var builder = new StringBuilder(span.Length + 16);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                builder.Append(c).Append(span[++i]);
            }
            else if (IsUnsafe(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        if (cut)
        {
            builder.Append("…(").Append(value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(" chars)");
        }

        return builder.ToString();
    }

    private static bool NeedsEscaping(ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (IsUnsafe(c))
            {
                return true;
            }
        }

        return false;
    }

    // Control characters (C0, DEL, C1), the Unicode line and paragraph separators, and lone surrogates (a proper pair passes), which some
    // sinks turn into replacement characters or refuse to write.
    private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' || char.IsSurrogate(c);
}
