using System.Globalization;

namespace OpenNvr.Recorder.Recording;

/// <summary>One line of ffmpeg's segment list (csv): the segment's file name and its start and end in stream seconds.</summary>
public sealed record SegmentListEntry(string FileName, double StartSeconds, double EndSeconds)
{
    public double DurationSeconds => EndSeconds - StartSeconds;
}

/// <summary>
/// Reads ffmpeg's <c>-segment_list_type csv</c> file incrementally: <c>file,start,end</c> per finished segment (the
/// file name is quoted when it holds a comma or a quote). ffmpeg appends a line when a segment is closed, so only
/// complete lines (ending in a newline) are taken.
/// </summary>
public sealed class SegmentList(string path)
{
    private long _offset;

    public string Path { get; } = path;

    /// <summary>Entries appended since the last call.</summary>
    public IReadOnlyList<SegmentListEntry> ReadNew()
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        string text;
        using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (stream.Length <= _offset)
            {
                return [];
            }

            stream.Seek(_offset, SeekOrigin.Begin);
            var buffer = new byte[stream.Length - _offset];
            stream.ReadExactly(buffer);
            var complete = Array.LastIndexOf(buffer, (byte)'\n') + 1;
            if (complete == 0)
            {
                return [];
            }

            _offset += complete;
            text = System.Text.Encoding.UTF8.GetString(buffer, 0, complete);
        }

        var entries = new List<SegmentListEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Parse(line) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    /// <summary>Parses one csv line; null when it is not a segment entry.</summary>
    public static SegmentListEntry? Parse(string line)
    {
        string name;
        string rest;
        if (line.StartsWith('"'))
        {
            var close = 1;
            var builder = new System.Text.StringBuilder();
            while (close < line.Length)
            {
                if (line[close] == '"')
                {
                    if (close + 1 < line.Length && line[close + 1] == '"')
                    {
                        builder.Append('"');
                        close += 2;
                        continue;
                    }

                    break;
                }

                builder.Append(line[close]);
                close++;
            }

            if (close >= line.Length || close + 1 >= line.Length || line[close + 1] != ',')
            {
                return null;
            }

            name = builder.ToString();
            rest = line[(close + 2)..];
        }
        else
        {
            var comma = line.IndexOf(',');
            if (comma <= 0)
            {
                return null;
            }

            name = line[..comma];
            rest = line[(comma + 1)..];
        }

        var parts = rest.Split(',');
        return parts.Length == 2 &&
               double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var start) &&
               double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var end) &&
               double.IsFinite(start) && double.IsFinite(end) && end >= start
            ? new SegmentListEntry(name, start, end)
            : null;
    }
}
