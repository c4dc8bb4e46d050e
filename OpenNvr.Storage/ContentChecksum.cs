using System.Security.Cryptography;

namespace OpenNvr.Storage;

/// <summary>
/// MD5, the checksum Azure Blob Storage keeps as an object's Content-MD5 and checks on every transfer. It guards
/// against corruption in transit and at rest, not against an adversary.
/// </summary>
internal static class ContentChecksum
{
    private const int BufferSize = 128 * 1024;

    public static async Task<(long Size, byte[] Md5)> OfFileAsync(string path, CancellationToken ct)
    {
        await using var stream = OpenSequential(path);
        var md5 = await MD5.HashDataAsync(stream, ct);
        return (stream.Length, md5);
    }

    public static FileStream OpenSequential(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);

    public static string Hex(byte[]? md5) => md5 is null ? "none" : Convert.ToHexStringLower(md5);
}
