using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace OpenNvr.Storage;

/// <summary>
/// The store as a local folder (one host, the default): key <c>a/b/c.mp4</c> is the file <c>&lt;root&gt;/a/b/c.mp4</c>.
/// An upload copies into a temporary file beside the target (a name no key can have), fsyncs it, checks its MD5
/// against the source's and renames it over the target, so a reader never sees half an object. When the Recorder
/// writes into this very folder (its recordings root is the store's root), a chunk already is its stored object and
/// nothing is copied. MD5s are not kept (<see cref="StoredObject.ContentMd5"/> is null in properties and listings).
/// </summary>
public sealed class FileSystemRecordingStore : IRecordingStore
{
    private const int CopyBuffer = 128 * 1024;

    public FileSystemRecordingStore(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Provider => StorageProviders.FileSystem;

    public async Task<StoredObject> UploadFileAsync(string key, string localPath, CancellationToken ct = default)
    {
        var target = FullPath(key);
        var source = Path.GetFullPath(localPath);
        if (string.Equals(source, target, StringComparison.Ordinal))
        {
            var (size, md5) = await ContentChecksum.OfFileAsync(source, ct);
            return new StoredObject(key, size, File.GetLastWriteTimeUtc(target), md5);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // '~' is not allowed in keys: a temporary file is never listed, read or mistaken for an object.
        var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}~upload-{Guid.NewGuid():N}");
        try
        {
            byte[] sent;
            long length;
            await using (var input = ContentChecksum.OpenSequential(source))
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBuffer, FileOptions.Asynchronous))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
            {
                var buffer = new byte[CopyBuffer];
                int read;
                while ((read = await input.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), ct);
                }

                await output.FlushAsync(ct);
                output.Flush(flushToDisk: true);
                sent = hash.GetHashAndReset();
                length = output.Length;
            }

            var (storedSize, stored) = await ContentChecksum.OfFileAsync(temp, ct);
            if (storedSize != length || !stored.AsSpan().SequenceEqual(sent))
            {
                throw new ChecksumMismatchException(
                    $"Copy of '{source}' to '{key}' does not verify: {storedSize} bytes, MD5 {ContentChecksum.Hex(stored)}, expected {length} bytes, MD5 {ContentChecksum.Hex(sent)}.");
            }

            File.Move(temp, target, overwrite: true);
            return new StoredObject(key, length, File.GetLastWriteTimeUtc(target), sent);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public Task<StoredObject?> GetPropertiesAsync(string key, CancellationToken ct = default)
    {
        var file = new FileInfo(FullPath(key));
        return Task.FromResult(file.Exists ? new StoredObject(key, file.Length, file.LastWriteTimeUtc, null) : null);
    }

    public Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "A read length cannot be negative.");
        }

        FileStream stream;
        try
        {
            stream = new FileStream(FullPath(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }

        var start = Math.Min(offset, stream.Length);
        stream.Seek(start, SeekOrigin.Begin);
        var available = stream.Length - start;
        return Task.FromResult<Stream?>(new BoundedReadStream(stream, length is { } wanted ? Math.Min(wanted, available) : available));
    }

    public Task<bool> DeleteAsync(string key, CancellationToken ct = default)
    {
        var path = FullPath(key);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }

        File.Delete(path);
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!StorageKeys.IsValidPrefix(prefix))
        {
            throw new ArgumentException($"'{prefix}' cannot start a storage key.", nameof(prefix));
        }

        var folder = prefix.LastIndexOf('/') is var slash and >= 0 ? prefix[..slash] : "";
        var start = folder.Length == 0 ? Root : Path.Combine(Root, folder.Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var keys = new List<(string Key, FileInfo File)>();
        foreach (var file in new DirectoryInfo(start).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var key = Path.GetRelativePath(Root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal) && StorageKeys.Check(key) is null)
            {
                keys.Add((key, file));
            }
        }

        foreach (var (key, file) in keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            ct.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new StoredObject(key, file.Length, file.LastWriteTimeUtc, null);
        }
    }

    public bool IsStoredInPlace(string key, string localPath) =>
        string.Equals(Path.GetFullPath(localPath), FullPath(key), StringComparison.Ordinal);

    public string? LocalPath(string key) => FullPath(key);

    private string FullPath(string key)
    {
        StorageKeys.Require(key);
        // The key rule admits no '..' and no leading '/', so the result stays under the root.
        return Path.Combine(Root, key.Replace('/', Path.DirectorySeparatorChar));
    }
}
