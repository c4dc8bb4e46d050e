namespace OpenNvr.Storage;

/// <summary>
/// Where recordings (MP4 chunks, event snapshots) are kept for good, shared by the Recorders that write them and the
/// Core that serves them: the local filesystem (one host) or Azure Blob Storage (any number of hosts). Objects are
/// named by keys, relative paths such as <c>1/2026-11-27/13/05-10.mp4</c> (see <see cref="StorageKeys"/>).
/// Failures of the store itself (unreachable, refused, a transfer that did not verify) are
/// <see cref="RecordingStoreException"/>s, which are <see cref="IOException"/>s: callers retry them.
/// </summary>
public interface IRecordingStore
{
    /// <summary><c>filesystem</c> or <c>azureblob</c> (<see cref="StorageProviders"/>).</summary>
    string Provider { get; }

    /// <summary>
    /// Copies a local file into the store under <paramref name="key"/> (replacing what was there) and returns only
    /// once the stored object was verified to have the file's size and MD5. A file that already is the stored object
    /// (<see cref="IsStoredInPlace"/>) is only hashed.
    /// </summary>
    Task<StoredObject> UploadFileAsync(string key, string localPath, CancellationToken ct = default);

    /// <summary>The object's size, time and MD5 (when the backend keeps one), or null when there is none.</summary>
    Task<StoredObject?> GetPropertiesAsync(string key, CancellationToken ct = default);

    /// <summary>
    /// Reads <paramref name="length"/> bytes (all that remain when null, fewer at the end of the object) from
    /// <paramref name="offset"/>: one ranged read, streamed. Null when the object does not exist; an empty stream
    /// when <paramref name="offset"/> is at or past its end.
    /// </summary>
    Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>Deletes the object; false when there was none.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken ct = default);

    /// <summary>Every object whose key starts with <paramref name="prefix"/> (plain string prefix), in ordinal key order.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, CancellationToken ct = default);

    /// <summary>
    /// True when <paramref name="localPath"/> is itself the stored object of <paramref name="key"/> (a filesystem
    /// store over the folder the Recorder writes into): uploading it copies nothing, and it must never be evicted
    /// as a cached copy.
    /// </summary>
    bool IsStoredInPlace(string key, string localPath);

    /// <summary>The absolute file of <paramref name="key"/> when the store is a local folder (served with sendfile), else null.</summary>
    string? LocalPath(string key);
}

/// <summary>A stored object: its key, size in bytes, last modification and MD5 (null where the backend keeps none).</summary>
public sealed record StoredObject(string Key, long Size, DateTimeOffset LastModified, byte[]? ContentMd5);

public static class StorageProviders
{
    public const string FileSystem = "filesystem";
    public const string AzureBlob = "azureblob";
}
