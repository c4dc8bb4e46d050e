using System.Collections.Concurrent;
using OpenNvr.Storage;

namespace OpenNvr.Core.Recordings;

/// <summary>Where the initialisation part (ftyp + moov) of a fragmented MP4 chunk ends.</summary>
public readonly record struct Mp4Layout(long InitLength, long FileLength, bool IsFragmented);

/// <summary>
/// Reads the top-level boxes of an MP4 chunk in the recording store. A fragmented chunk (ftyp, moov, then moof/mdat
/// pairs) can be an HLS segment: its ftyp+moov is the EXT-X-MAP and the rest the media segment, both as byte ranges
/// of the one object. Only the head of the object is read (one ranged read of 64 KB: ftyp, moov and the first moof
/// header of a Recorder's chunk take about 2 KB; 1 MB when a moov is larger). Results are cached per (key, size):
/// finished chunks never change.
/// </summary>
public sealed class Mp4InitSegmentReader(IRecordingStore store)
{
    private const int MaxCacheEntries = 50_000;
    private static readonly int[] HeadSizes = [64 * 1024, 1024 * 1024];
    private readonly ConcurrentDictionary<(string Key, long Size), Mp4Layout> _cache = new();

    /// <summary>The chunk's layout, or null when it is not in the store or is no readable MP4.</summary>
    public async Task<Mp4Layout?> ReadAsync(string key, long size, CancellationToken ct)
    {
        if (_cache.TryGetValue((key, size), out var cached))
        {
            return cached;
        }

        foreach (var headSize in HeadSizes)
        {
            await using var head = await store.OpenReadAsync(key, 0, Math.Min(headSize, size), ct);
            if (head is null)
            {
                return null;
            }

            using var buffer = new MemoryStream();
            await head.CopyToAsync(buffer, ct);
            var (layout, needMore) = Parse(new HeadStream(buffer.ToArray(), size), size);
            if (layout is { } found)
            {
                if (_cache.Count >= MaxCacheEntries)
                {
                    _cache.Clear();
                }

                _cache[(key, size)] = found;
                return found;
            }

            if (!needMore || headSize >= size)
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The layout from the head of the object, or whether a longer head could still tell.</summary>
    private static (Mp4Layout? Layout, bool NeedMore) Parse(HeadStream stream, long length)
    {
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
                    return (moovEnd is { } initEnd ? new Mp4Layout(initEnd, length, true) : null, false);
                case "mdat" when moovEnd is null:
                    // Media before any moov: a plain (non-fragmented) MP4 with the index at the end.
                    return (new Mp4Layout(0, length, false), false);
            }
        }

        if (stream.RanPastHead)
        {
            return (null, true);
        }

        return (!boxes.Malformed && moovEnd is { } end ? new Mp4Layout(end, length, false) : null, false);
    }

    /// <summary>The first bytes of an object with the object's full length, so that box sizes are judged against it.</summary>
    private sealed class HeadStream(byte[] head, long length) : Stream
    {
        private long _position;

        /// <summary>A read asked for bytes past the head (more of the object is needed to tell).</summary>
        public bool RanPastHead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position >= head.Length)
            {
                RanPastHead |= _position < length;
                return 0;
            }

            var count = (int)Math.Min(buffer.Length, head.Length - _position);
            head.AsSpan((int)_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
