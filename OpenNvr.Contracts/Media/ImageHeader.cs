using System.Buffers.Binary;

namespace OpenNvr.Contracts.Media;

public enum ImageFormat
{
    Jpeg,
    Png,
}

/// <summary>
/// Format and dimensions read from the first bytes of a JPEG or PNG, before any decoding, so that a decompression
/// bomb (a small file that claims a huge canvas) is refused without allocating its pixels.
/// </summary>
public readonly record struct ImageHeader(ImageFormat Format, int Width, int Height)
{
    public long Pixels => (long)Width * Height;

    public string MediaType => Format == ImageFormat.Jpeg ? MediaTypes.Jpeg : MediaTypes.Png;

    public string Extension => Format == ImageFormat.Jpeg ? MediaTypes.JpegExtension : MediaTypes.PngExtension;

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The format by its signature alone (JPEG's SOI + marker, PNG's 8 bytes), without reading dimensions.</summary>
    public static ImageFormat? DetectFormat(ReadOnlySpan<byte> data) =>
        data.StartsWith(PngSignature) ? ImageFormat.Png
        : data is [0xFF, 0xD8, 0xFF, ..] ? ImageFormat.Jpeg
        : null;

    /// <summary>The header, or null when the bytes are not a JPEG or PNG whose dimensions can be read.</summary>
    public static ImageHeader? TryRead(ReadOnlySpan<byte> data) => DetectFormat(data) switch
    {
        ImageFormat.Png => TryReadPng(data),
        ImageFormat.Jpeg when data.Length >= 4 => TryReadJpeg(data),
        _ => null,
    };

    private static ImageHeader? TryReadPng(ReadOnlySpan<byte> data)
    {
        // Signature, then the IHDR chunk: length (13), "IHDR", width, height (big-endian).
        if (data.Length < 24 || !data.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return null;
        }

        var width = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(16, 4));
        var height = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(20, 4));
        return width is 0 or > int.MaxValue || height is 0 or > int.MaxValue
            ? null
            : new ImageHeader(ImageFormat.Png, (int)width, (int)height);
    }

    private static ImageHeader? TryReadJpeg(ReadOnlySpan<byte> data)
    {
        // Walk the marker segments after SOI until a start-of-frame marker, which carries the dimensions.
        var position = 2;
        while (position + 4 <= data.Length)
        {
            if (data[position] != 0xFF)
            {
                return null;
            }

            var marker = data[position + 1];
            if (marker == 0xFF)
            {
                position++; // fill byte
                continue;
            }

            if (marker is 0x01 or 0xD8 or (>= 0xD0 and <= 0xD7))
            {
                position += 2; // standalone markers have no length
                continue;
            }

            if (marker is 0xD9 or 0xDA)
            {
                return null; // end of image or start of scan before any frame header
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(position + 2, 2));
            if (length < 2)
            {
                return null;
            }

            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (position + 9 > data.Length)
                {
                    return null;
                }

                int height = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(position + 5, 2));
                int width = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(position + 7, 2));
                return width == 0 || height == 0 ? null : new ImageHeader(ImageFormat.Jpeg, width, height);
            }

            position += 2 + length;
        }

        return null;
    }
}
