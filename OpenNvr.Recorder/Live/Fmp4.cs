using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace OpenNvr.Recorder.Live;

/// <summary>
/// The initialisation segment (ftyp + moov) of a fragmented MP4 stream, with what a player must be told before it
/// can take the stream: the codec string for Media Source Extensions (<c>video/mp4; codecs="avc1.4D401E"</c>), the
/// picture size and the track's timescale (fragment times are in its units).
/// </summary>
public sealed record Fmp4Init(byte[] Bytes, string Codec, int Width, int Height, uint Timescale, Fmp4SampleDefaults Defaults);

/// <summary>The track's defaults from moov/mvex/trex (fragments may leave sample duration and flags to them).</summary>
public readonly record struct Fmp4SampleDefaults(uint Duration, uint Flags);

/// <summary>One movie fragment (moof + mdat) as it came from ffmpeg, with its timing read from the moof.</summary>
public readonly record struct Fmp4Fragment(byte[] Bytes, ulong BaseDecodeTime, ulong Duration, int Samples, bool StartsWithKeyframe);

/// <summary>
/// Reads the boxes of fragmented MP4 (ISO/IEC 14496-12) that live view needs: the codec configuration and timescale of
/// the first video track, and for each fragment its base decode time (tfdt), total sample duration (trun, tfhd or
/// trex defaults) and whether its first sample is a sync sample (the sample_is_non_sync_sample bit is clear).
/// Malformed input is an <see cref="InvalidDataException"/>, never an out-of-range read.
/// </summary>
public static class Fmp4
{
    private const uint NonSyncSample = 0x0001_0000;

    /// <summary>Parses an init segment (ftyp + moov, or moov alone).</summary>
    public static Fmp4Init ParseInit(byte[] bytes)
    {
        var moov = Child(bytes, "moov") ?? throw new InvalidDataException("The init segment has no moov box.");
        var defaults = new Fmp4SampleDefaults(0, 0);
        foreach (var (type, body) in Children(moov))
        {
            if (type == "mvex" && Child(body, "trex") is { } trex && trex.Length >= 24)
            {
                // version/flags, track_ID, default_sample_description_index, default_sample_duration, _size, _flags.
                defaults = new Fmp4SampleDefaults(BinaryPrimitives.ReadUInt32BigEndian(trex.Span[12..]), BinaryPrimitives.ReadUInt32BigEndian(trex.Span[20..]));
            }
        }

        foreach (var (type, trak) in Children(moov))
        {
            if (type != "trak" || Child(trak, "mdia") is not { } mdia || Child(mdia, "hdlr") is not { } hdlr || hdlr.Length < 12 ||
                Encoding.ASCII.GetString(hdlr.Span.Slice(8, 4)) != "vide")
            {
                continue;
            }

            var mdhd = Child(mdia, "mdhd") ?? throw new InvalidDataException("The video track has no mdhd box.");
            var timescale = mdhd.Span[0] == 1
                ? Read32(mdhd, 20)
                : Read32(mdhd, 12);
            if (timescale == 0)
            {
                throw new InvalidDataException("The video track's timescale is 0.");
            }

            var stsd = Child(mdia, "minf", "stbl", "stsd") ?? throw new InvalidDataException("The video track has no stsd box.");
            if (stsd.Length < 16)
            {
                throw new InvalidDataException("The stsd box is truncated.");
            }

            // stsd: version/flags, entry_count, then the first sample entry (a box).
            var entry = stsd[8..];
            var entrySize = (int)Math.Min(Read32(entry, 0), (uint)entry.Length);
            var format = Encoding.ASCII.GetString(entry.Span.Slice(4, 4));
            if (entrySize < 8 + 78)
            {
                throw new InvalidDataException($"The {format} sample entry is truncated.");
            }

            // VisualSampleEntry: 6 reserved, data_reference_index, 16 bytes pre-defined, width, height, then 50 bytes.
            var width = BinaryPrimitives.ReadUInt16BigEndian(entry.Span[(8 + 24)..]);
            var height = BinaryPrimitives.ReadUInt16BigEndian(entry.Span[(8 + 26)..]);
            var configuration = entry[(8 + 78)..entrySize];
            var codec = format switch
            {
                "avc1" or "avc3" when Child(configuration, "avcC") is { Length: >= 4 } avcC =>
                    string.Create(CultureInfo.InvariantCulture, $"{format}.{avcC.Span[1]:X2}{avcC.Span[2]:X2}{avcC.Span[3]:X2}"),
                "hvc1" or "hev1" when Child(configuration, "hvcC") is { Length: >= 13 } hvcC => HevcCodec(format, hvcC.Span),
                _ => format,
            };
            return new Fmp4Init(bytes, codec, width, height, timescale, defaults);
        }

        throw new InvalidDataException("The init segment has no video track.");
    }

    /// <summary>Parses one fragment: <paramref name="bytes"/> holds a moof box followed by its mdat.</summary>
    public static Fmp4Fragment ParseFragment(byte[] bytes, Fmp4SampleDefaults defaults)
    {
        var traf = Child(bytes, "moof", "traf") ?? throw new InvalidDataException("The fragment has no moof/traf box.");
        var tfhd = Child(traf, "tfhd") ?? throw new InvalidDataException("The fragment has no tfhd box.");
        if (tfhd.Length < 8)
        {
            throw new InvalidDataException("The tfhd box is truncated.");
        }

        var tfhdFlags = Read32(tfhd, 0) & 0x00FF_FFFF;
        var at = 8; // version/flags, track_ID
        if ((tfhdFlags & 0x01) != 0)
        {
            at += 8; // base_data_offset
        }

        if ((tfhdFlags & 0x02) != 0)
        {
            at += 4; // sample_description_index
        }

        var defaultDuration = defaults.Duration;
        var defaultFlags = defaults.Flags;
        if ((tfhdFlags & 0x08) != 0)
        {
            defaultDuration = Read32(tfhd, at);
            at += 4;
        }

        if ((tfhdFlags & 0x10) != 0)
        {
            at += 4; // default_sample_size
        }

        if ((tfhdFlags & 0x20) != 0)
        {
            defaultFlags = Read32(tfhd, at);
        }

        ulong baseDecodeTime = 0;
        if (Child(traf, "tfdt") is { } tfdt)
        {
            baseDecodeTime = tfdt.Length >= 4 && tfdt.Span[0] == 1 ? Read64(tfdt, 4) : Read32(tfdt, 4);
        }

        var trun = Child(traf, "trun") ?? throw new InvalidDataException("The fragment has no trun box.");
        var trunFlags = Read32(trun, 0) & 0x00FF_FFFF;
        var samples = (int)Math.Min(Read32(trun, 4), int.MaxValue);
        at = 8;
        if ((trunFlags & 0x01) != 0)
        {
            at += 4; // data_offset
        }

        uint? firstSampleFlags = null;
        if ((trunFlags & 0x04) != 0)
        {
            firstSampleFlags = Read32(trun, at);
            at += 4;
        }

        var perSample = ((trunFlags & 0x100) != 0 ? 4 : 0) + ((trunFlags & 0x200) != 0 ? 4 : 0) +
                        ((trunFlags & 0x400) != 0 ? 4 : 0) + ((trunFlags & 0x800) != 0 ? 4 : 0);
        if (samples < 0 || at + (long)samples * perSample > trun.Length)
        {
            throw new InvalidDataException("The trun box is truncated.");
        }

        ulong duration = 0;
        for (var i = 0; i < samples; i++)
        {
            var sample = at + i * perSample;
            var field = sample;
            if ((trunFlags & 0x100) != 0)
            {
                duration += Read32(trun, field);
                field += 4;
            }
            else
            {
                duration += defaultDuration;
            }

            if ((trunFlags & 0x200) != 0)
            {
                field += 4;
            }

            if (i == 0 && firstSampleFlags is null && (trunFlags & 0x400) != 0)
            {
                firstSampleFlags = Read32(trun, field);
            }
        }

        var keyframe = samples > 0 && ((firstSampleFlags ?? defaultFlags) & NonSyncSample) == 0;
        return new Fmp4Fragment(bytes, baseDecodeTime, duration, samples, keyframe);
    }

    /// <summary>RFC 6381 codec string of an HEVC track from its hvcC (ISO/IEC 14496-15, annex E).</summary>
    private static string HevcCodec(string format, ReadOnlySpan<byte> hvcC)
    {
        var profileSpace = (hvcC[1] >> 6) & 0x3;
        var tier = (hvcC[1] >> 5) & 0x1;
        var profile = hvcC[1] & 0x1F;
        var compatibility = BinaryPrimitives.ReadUInt32BigEndian(hvcC[2..]);
        uint reversed = 0;
        for (var i = 0; i < 32; i++)
        {
            reversed |= ((compatibility >> i) & 1) << (31 - i);
        }

        var level = hvcC[12];
        var builder = new StringBuilder(format).Append('.');
        if (profileSpace > 0)
        {
            builder.Append((char)('A' + profileSpace - 1));
        }

        builder.Append(profile.ToString(CultureInfo.InvariantCulture)).Append('.')
            .Append(reversed.ToString("X", CultureInfo.InvariantCulture)).Append('.')
            .Append(tier == 0 ? 'L' : 'H').Append(level.ToString(CultureInfo.InvariantCulture));
        var constraints = hvcC.Slice(6, 6);
        var last = constraints.LastIndexOfAnyExcept((byte)0);
        for (var i = 0; i <= last; i++)
        {
            builder.Append('.').Append(constraints[i].ToString("X", CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    /// <summary>The body of the first child box of the given type path, or null.</summary>
    private static ReadOnlyMemory<byte>? Child(ReadOnlyMemory<byte> container, params string[] path)
    {
        var current = container;
        foreach (var wanted in path)
        {
            ReadOnlyMemory<byte>? found = null;
            foreach (var (type, body) in Children(current))
            {
                if (type == wanted)
                {
                    found = body;
                    break;
                }
            }

            if (found is not { } next)
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    /// <summary>The boxes directly inside a container body (type and body, header excluded).</summary>
    private static IEnumerable<(string Type, ReadOnlyMemory<byte> Body)> Children(ReadOnlyMemory<byte> container)
    {
        var offset = 0;
        while (offset + 8 <= container.Length)
        {
            var header = container.Span[offset..];
            long size = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = Encoding.ASCII.GetString(header.Slice(4, 4));
            var headerLength = 8;
            if (size == 1)
            {
                if (offset + 16 > container.Length)
                {
                    throw new InvalidDataException($"The {type} box's 64-bit size is truncated.");
                }

                size = (long)BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
                headerLength = 16;
            }
            else if (size == 0)
            {
                size = container.Length - offset;
            }

            if (size < headerLength || offset + size > container.Length)
            {
                throw new InvalidDataException($"The {type} box at offset {offset} claims {size} bytes; {container.Length - offset} remain.");
            }

            yield return (type, container.Slice(offset + headerLength, (int)size - headerLength));
            offset += (int)size;
        }
    }

    private static uint Read32(ReadOnlyMemory<byte> body, int offset) =>
        offset + 4 <= body.Length
            ? BinaryPrimitives.ReadUInt32BigEndian(body.Span[offset..])
            : throw new InvalidDataException("A box is shorter than its fields.");

    private static ulong Read64(ReadOnlyMemory<byte> body, int offset) =>
        offset + 8 <= body.Length
            ? BinaryPrimitives.ReadUInt64BigEndian(body.Span[offset..])
            : throw new InvalidDataException("A box is shorter than its fields.");
}
