using System.Buffers.Binary;
using System.Text;

namespace OpenNvr.Contracts.Media;

/// <summary>A top-level MP4 box: where it starts, how long it is (header included) and its four-character type.</summary>
public readonly record struct Mp4Box(long Offset, long Size, string Type)
{
    public long End => Offset + Size;
}

/// <summary>
/// Walks the top-level boxes of an MP4 file (ftyp, moov, moof/mdat pairs of a fragmented chunk, ...) from their
/// headers alone. The walk stops at the end of the file or at the first box whose header is unreadable or whose size
/// does not fit in the file (a chunk torn by a crash): <see cref="Malformed"/> then says so, and what came before
/// is intact. Core splits chunks into HLS init and media parts with it; the Recorder cuts torn tails with it.
/// </summary>
public sealed class Mp4Boxes(Stream stream)
{
    /// <summary>Whether the last walk stopped on a box that is truncated or malformed, rather than at the end.</summary>
    public bool Malformed { get; private set; }

    public IEnumerable<Mp4Box> TopLevel()
    {
        Malformed = false;
        var length = stream.Length;
        var header = new byte[16];
        long offset = 0;
        while (offset + 8 <= length)
        {
            stream.Position = offset;
            if (stream.ReadAtLeast(header.AsSpan(0, 8), 8, throwOnEndOfStream: false) < 8)
            {
                Malformed = true;
                yield break;
            }

            long size = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = Encoding.ASCII.GetString(header, 4, 4);
            if (size == 1)
            {
                // 64-bit size after the type.
                if (stream.ReadAtLeast(header.AsSpan(8, 8), 8, throwOnEndOfStream: false) < 8)
                {
                    Malformed = true;
                    yield break;
                }

                size = (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8, 8));
            }
            else if (size == 0)
            {
                size = length - offset; // to the end of the file
            }

            if (size < 8 || offset + size > length)
            {
                Malformed = true;
                yield break;
            }

            yield return new Mp4Box(offset, size, type);
            offset += size;
        }
    }
}
