using System.Buffers.Binary;
using System.Text;

namespace OpenNvr.Recorder.Live;

/// <summary>
/// Cuts a fragmented MP4 byte stream (ffmpeg's live output on a pipe) into what live view hands on: the init segment
/// (ftyp + moov) and each fragment (moof + mdat), whole, whatever the read sizes. Other top-level boxes (mfra, free,
/// sidx, prft...) are skipped. A box larger than <see cref="MaxBoxBytes"/> or a size that cannot be is corrupt input:
/// <see cref="Feed"/> throws <see cref="InvalidDataException"/> and the splitter must be <see cref="Reset"/>.
/// </summary>
public sealed class Fmp4StreamSplitter
{
    /// <summary>No single frame of a camera comes near this (a 4K keyframe is a few MB).</summary>
    public const int MaxBoxBytes = 64 * 1024 * 1024;

    private byte[] _buffer = new byte[256 * 1024];
    private int _length;
    private byte[]? _ftyp;
    private byte[]? _moof;

    /// <summary>Raised with ftyp + moov (or moov alone when no ftyp came first).</summary>
    public event Action<byte[]>? InitSegment;

    /// <summary>Raised with moof + mdat.</summary>
    public event Action<byte[]>? Fragment;

    public void Reset()
    {
        _length = 0;
        _ftyp = null;
        _moof = null;
    }

    public void Feed(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (_length == _buffer.Length)
            {
                Grow(_length * 2);
            }

            var take = Math.Min(data.Length, _buffer.Length - _length);
            data[..take].CopyTo(_buffer.AsSpan(_length));
            _length += take;
            data = data[take..];
            Drain();
        }
    }

    private void Drain()
    {
        var offset = 0;
        while (_length - offset >= 8)
        {
            var header = _buffer.AsSpan(offset, _length - offset);
            long size = BinaryPrimitives.ReadUInt32BigEndian(header);
            if (size == 1)
            {
                if (header.Length < 16)
                {
                    break;
                }

                size = (long)BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
            }

            var type = Encoding.ASCII.GetString(header.Slice(4, 4));
            if (size < 8 || size > MaxBoxBytes)
            {
                throw new InvalidDataException($"A '{type}' box of {size} bytes: the stream is corrupt or not fragmented MP4.");
            }

            if (size > header.Length)
            {
                if (size > _buffer.Length)
                {
                    // Keep the partial box and make room for all of it.
                    Compact(offset);
                    offset = 0;
                    Grow((int)size);
                }

                break;
            }

            OnBox(type, header[..(int)size]);
            offset += (int)size;
        }

        Compact(offset);
    }

    private void OnBox(string type, ReadOnlySpan<byte> box)
    {
        switch (type)
        {
            case "ftyp":
                _ftyp = box.ToArray();
                _moof = null;
                break;
            case "moov":
                var init = new byte[(_ftyp?.Length ?? 0) + box.Length];
                _ftyp?.CopyTo(init, 0);
                box.CopyTo(init.AsSpan(_ftyp?.Length ?? 0));
                _ftyp = null;
                InitSegment?.Invoke(init);
                break;
            case "moof":
                _moof = box.ToArray();
                break;
            case "mdat" when _moof is { } moof:
                var fragment = new byte[moof.Length + box.Length];
                moof.CopyTo(fragment, 0);
                box.CopyTo(fragment.AsSpan(moof.Length));
                _moof = null;
                Fragment?.Invoke(fragment);
                break;
        }
    }

    private void Compact(int consumed)
    {
        if (consumed == 0)
        {
            return;
        }

        _buffer.AsSpan(consumed, _length - consumed).CopyTo(_buffer);
        _length -= consumed;
    }

    private void Grow(int atLeast)
    {
        var bigger = new byte[Math.Max(atLeast, _buffer.Length * 2)];
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        _buffer = bigger;
    }
}
