using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace OpenNvr.Storage;

/// <summary>
/// The store as one Azure Blob Storage container (Azurite locally): key <c>a/b/c.mp4</c> is the block blob of that
/// name. An upload sends the file with its MD5 as the blob's Content-MD5 and a transactional MD5 on every request
/// (the service rejects a corrupted transfer), then reads the blob's properties back and checks size and MD5.
/// Reads are single HTTP range requests. The container is created on first use.
/// </summary>
public sealed class AzureBlobRecordingStore(BlobContainerClient container) : IRecordingStore
{
    private static readonly StorageTransferOptions Transfer = new()
    {
        // Chunks and snapshots (a few MB) go in one request; larger files in 8 MB blocks, two at a time.
        InitialTransferSize = 64 * 1024 * 1024,
        MaximumTransferSize = 8 * 1024 * 1024,
        MaximumConcurrency = 2,
    };

    private readonly SemaphoreSlim _createGate = new(1, 1);
    private volatile bool _containerExists;

    public string Provider => StorageProviders.AzureBlob;

    public string ContainerName => container.Name;

    public async Task<StoredObject> UploadFileAsync(string key, string localPath, CancellationToken ct = default)
    {
        StorageKeys.Require(key);
        var (size, md5) = await ContentChecksum.OfFileAsync(localPath, ct);
        var blob = container.GetBlobClient(key);
        await CallAsync(async () =>
        {
            await EnsureContainerAsync(ct);
            await using var content = ContentChecksum.OpenSequential(localPath);
            await blob.UploadAsync(content, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentHash = md5, ContentType = ContentTypes.Of(key) },
                TransferOptions = Transfer,
                TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
            }, ct);
            return true;
        }, key, ct);

        var stored = await GetPropertiesAsync(key, ct)
            ?? throw new ChecksumMismatchException($"Blob '{key}' is missing right after its upload.");
        if (stored.Size != size || stored.ContentMd5 is null || !stored.ContentMd5.AsSpan().SequenceEqual(md5))
        {
            throw new ChecksumMismatchException(
                $"Blob '{key}' does not verify: {stored.Size} bytes, MD5 {ContentChecksum.Hex(stored.ContentMd5)}, expected {size} bytes, MD5 {ContentChecksum.Hex(md5)}.");
        }

        return stored;
    }

    public async Task<StoredObject?> GetPropertiesAsync(string key, CancellationToken ct = default)
    {
        StorageKeys.Require(key);
        var properties = await CallAsync(async () =>
        {
            try
            {
                return (BlobProperties?)(await container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: ct)).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return null;
            }
        }, key, ct);
        return properties is null ? null : new StoredObject(key, properties.ContentLength, properties.LastModified, properties.ContentHash);
    }

    public async Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        StorageKeys.Require(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "A read length cannot be negative.");
        }

        if (length == 0)
        {
            return await GetPropertiesAsync(key, ct) is null ? null : Stream.Null;
        }

        return await CallAsync(async () =>
        {
            try
            {
                var download = await container.GetBlobClient(key).DownloadStreamingAsync(
                    new BlobDownloadOptions { Range = new HttpRange(offset, length) }, ct);
                return download.Value.Content;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status == 416)
            {
                return Stream.Null; // the range starts at or past the end of the blob
            }
        }, key, ct);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken ct = default)
    {
        StorageKeys.Require(key);
        return CallAsync(async () =>
        {
            try
            {
                return (await container.GetBlobClient(key).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct)).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return false; // no container yet: nothing was ever stored
            }
        }, key, ct);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (!StorageKeys.IsValidPrefix(prefix))
        {
            throw new ArgumentException($"'{prefix}' cannot start a storage key.", nameof(prefix));
        }

        await using var pages = container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, ct)
            .AsPages().GetAsyncEnumerator(ct);
        while (true)
        {
            Page<BlobItem>? page;
            try
            {
                page = await CallAsync(async () => await pages.MoveNextAsync() ? pages.Current : null, prefix, ct);
            }
            catch (RecordingStoreException ex) when (ex.Status == 404)
            {
                yield break; // no container yet
            }

            if (page is null)
            {
                yield break;
            }

            // The service lists in ordinal (UTF-8 byte) order already; keys are ASCII.
            foreach (var item in page.Values)
            {
                if (StorageKeys.Check(item.Name) is null)
                {
                    yield return new StoredObject(item.Name, item.Properties.ContentLength ?? 0,
                        item.Properties.LastModified ?? DateTimeOffset.MinValue, item.Properties.ContentHash);
                }
            }
        }
    }

    public bool IsStoredInPlace(string key, string localPath) => false;

    public string? LocalPath(string key) => null;

    private async Task EnsureContainerAsync(CancellationToken ct)
    {
        if (_containerExists)
        {
            return;
        }

        await _createGate.WaitAsync(ct);
        try
        {
            if (!_containerExists)
            {
                await container.CreateIfNotExistsAsync(cancellationToken: ct);
                _containerExists = true;
            }
        }
        finally
        {
            _createGate.Release();
        }
    }

    /// <summary>Runs one call of the SDK; whatever it throws about the service becomes a <see cref="RecordingStoreException"/>.</summary>
    private static async Task<T> CallAsync<T>(Func<Task<T>> call, string key, CancellationToken ct)
    {
        try
        {
            return await call();
        }
        catch (RequestFailedException ex)
        {
            throw new RecordingStoreException($"Blob store refused '{key}': {ex.Status} {ex.ErrorCode ?? ex.Message}", ex.Status, ex);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is RequestFailedException or HttpRequestException or IOException or OperationCanceledException))
        {
            // The SDK's retries gave up; each attempt failed the same way.
            var last = ex.InnerExceptions[^1];
            throw new RecordingStoreException($"Blob store unreachable for '{key}': {last.Message}", (last as RequestFailedException)?.Status ?? 0, ex);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new RecordingStoreException($"Blob store timed out on '{key}': {ex.Message}", 0, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new RecordingStoreException($"Blob store unreachable for '{key}': {ex.Message}", 0, ex);
        }
    }
}
