using System.Collections.Concurrent;

namespace OpenNvr.Core.Recordings;

/// <summary>Where the initialisation part (ftyp + moov) of a fragmented MP4 chunk ends.</summary>
public readonly record struct Mp4Layout(long InitLength, long FileLength, bool IsFragmented);

/// <summary>
/// Reads the top-level boxes of an MP4 chunk. A fragmented chunk (ftyp, moov, then moof/mdat pairs) can be an HLS
/// segment: its ftyp+moov is the EXT-X-MAP and the rest the media segment, both as byte ranges of the one file.
/// Results are cached per (path, length): finished chunks never change.
/// </summary>
public sealed class Mp4InitSegmentReader
{
    private const int MaxCacheEntries = 50_000;
    private readonly ConcurrentDictionary<(string Path, long Length), Mp4Layout> _cache = new();

    public Mp4Layout? Read(string path)
    {
        FileInfo file = new(path);
        if (!file.Exists)
        {
            return null;
        }

        if (_cache.TryGetValue((path, file.Length), out var cached))
        {
            return cached;
        }

        var layout = Parse(path, file.Length);
        if (layout is { } found)
        {
            if (_cache.Count >= MaxCacheEntries)
            {
                _cache.Clear();
            }

            _cache[(path, file.Length)] = found;
        }

        return layout;
    }

    private static Mp4Layout? Parse(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096);
        var boxes = new Mp4Boxes(stream);
        long? moovEnd = null;
        foreach (var box in boxes.TopLevel())
        {
            switch (box.Type)
            {
                case "moov":
                    moovEnd = box.End;
                    break;
                case "moof":
                    return moovEnd is { } initEnd ? new Mp4Layout(initEnd, length, true) : null;
                case "mdat" when moovEnd is null:
                    // Media before any moov: a plain (non-fragmented) MP4 with the index at the end.
                    return new Mp4Layout(0, length, false);
            }
        }

        return !boxes.Malformed && moovEnd is { } end ? new Mp4Layout(end, length, false) : null;
    }
}
