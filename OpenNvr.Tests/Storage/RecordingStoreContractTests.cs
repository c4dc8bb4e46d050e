using System.Security.Cryptography;
using OpenNvr.Storage;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Storage;

/// <summary>
/// What every recording store does, run against each backend: the local filesystem and Azure Blob Storage (a real
/// Azurite server). Real bytes: random files of odd sizes and the bundled MP4 clip.
/// </summary>
public abstract class RecordingStoreContractTests : IAsyncLifetime
{
    private readonly string _scratch = TestTemp.NewFolder("store-scratch");

    protected IRecordingStore Store { get; private set; } = null!;

    protected abstract Task<IRecordingStore> CreateStoreAsync();

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public async Task DisposeAsync()
    {
        await DisposeStoreAsync();
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task Upload_StoresTheFileWithItsSizeAndMd5()
    {
        var (path, bytes) = LocalFile(300_001);

        var stored = await Store.UploadFileAsync("1/2026-11-27/13/05-10.mp4", path);

        Assert.Equal(bytes.Length, stored.Size);
        Assert.Equal(MD5.HashData(bytes), stored.ContentMd5);
        var properties = await Store.GetPropertiesAsync("1/2026-11-27/13/05-10.mp4");
        Assert.NotNull(properties);
        Assert.Equal(bytes.Length, properties.Size);
        Assert.InRange(properties.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
        if (properties.ContentMd5 is not null)
        {
            Assert.Equal(MD5.HashData(bytes), properties.ContentMd5);
        }

        Assert.Equal(bytes, await ReadAllAsync("1/2026-11-27/13/05-10.mp4", 0, null));
    }

    [Fact]
    public async Task Upload_OfTheRealClip_ReadsBackByteForByte()
    {
        var clip = RepositoryPaths.TestData("video", "vtest.mp4");

        var stored = await Store.UploadFileAsync("3/2026-11-27/13/00-00.mp4", clip);

        var original = await File.ReadAllBytesAsync(clip);
        Assert.Equal(original.Length, stored.Size);
        Assert.Equal(original, await ReadAllAsync("3/2026-11-27/13/00-00.mp4", 0, null));
        // The ranges a player asks for: the head (ftyp/moov), a slice in the middle, the tail.
        Assert.Equal(original[..4096], await ReadAllAsync("3/2026-11-27/13/00-00.mp4", 0, 4096));
        Assert.Equal(original[1_000_000..1_250_000], await ReadAllAsync("3/2026-11-27/13/00-00.mp4", 1_000_000, 250_000));
        Assert.Equal(original[^1000..], await ReadAllAsync("3/2026-11-27/13/00-00.mp4", original.Length - 1000, null));
    }

    [Fact]
    public async Task Upload_ReplacesWhatWasStoredUnderTheKey()
    {
        var (first, _) = LocalFile(50_000);
        var (second, bytes) = LocalFile(70_123);

        await Store.UploadFileAsync("1/snapshots/2026-11-27/130510123.jpg", first);
        var stored = await Store.UploadFileAsync("1/snapshots/2026-11-27/130510123.jpg", second);

        Assert.Equal(bytes.Length, stored.Size);
        Assert.Equal(bytes, await ReadAllAsync("1/snapshots/2026-11-27/130510123.jpg", 0, null));
    }

    [Fact]
    public async Task RangedReads_ReturnExactlyTheRangeAndStopAtTheEnd()
    {
        var (path, bytes) = LocalFile(100_000);
        await Store.UploadFileAsync("2/2026-11-27/13/05-20.mp4", path);

        Assert.Equal(bytes[1000..6000], await ReadAllAsync("2/2026-11-27/13/05-20.mp4", 1000, 5000));
        Assert.Equal(bytes[99_990..], await ReadAllAsync("2/2026-11-27/13/05-20.mp4", 99_990, 100));
        Assert.Equal(bytes[42..], await ReadAllAsync("2/2026-11-27/13/05-20.mp4", 42, null));
        Assert.Empty(await ReadAllAsync("2/2026-11-27/13/05-20.mp4", 100_000, 10));
        Assert.Empty(await ReadAllAsync("2/2026-11-27/13/05-20.mp4", 250_000, null));
        Assert.Empty(await ReadAllAsync("2/2026-11-27/13/05-20.mp4", 10, 0));
    }

    [Fact]
    public async Task MissingObjects_AreNullNotErrors()
    {
        Assert.Null(await Store.GetPropertiesAsync("9/2026-11-27/13/00-00.mp4"));
        Assert.Null(await Store.OpenReadAsync("9/2026-11-27/13/00-00.mp4"));
        Assert.Null(await Store.OpenReadAsync("9/2026-11-27/13/00-00.mp4", 10, 0));
        Assert.False(await Store.DeleteAsync("9/2026-11-27/13/00-00.mp4"));
        Assert.Empty(await ListAsync("9/"));
    }

    [Fact]
    public async Task Delete_RemovesTheObject()
    {
        var (path, _) = LocalFile(10_000);
        await Store.UploadFileAsync("4/2026-11-27/13/05-30.mp4", path);

        Assert.True(await Store.DeleteAsync("4/2026-11-27/13/05-30.mp4"));

        Assert.Null(await Store.GetPropertiesAsync("4/2026-11-27/13/05-30.mp4"));
        Assert.Null(await Store.OpenReadAsync("4/2026-11-27/13/05-30.mp4"));
        Assert.False(await Store.DeleteAsync("4/2026-11-27/13/05-30.mp4"));
        Assert.True(File.Exists(path)); // the local file is the caller's business
    }

    [Fact]
    public async Task List_ByPrefix_InKeyOrder()
    {
        string[] keys =
        [
            "5/2026-11-27/14/00-00.mp4",
            "5/2026-11-27/13/05-10.mp4",
            "5/snapshots/2026-11-27/130510123.jpg",
            "5/2026-11-28/00/00-00.mp4",
            "55/2026-11-27/13/05-10.mp4",
        ];
        foreach (var key in keys)
        {
            var (path, _) = LocalFile(1000 + key.Length);
            await Store.UploadFileAsync(key, path);
        }

        var underCamera5 = await ListAsync("5/");
        Assert.Equal(["5/2026-11-27/13/05-10.mp4", "5/2026-11-27/14/00-00.mp4", "5/2026-11-28/00/00-00.mp4", "5/snapshots/2026-11-27/130510123.jpg"],
            underCamera5.Select(o => o.Key));
        Assert.All(underCamera5, o => Assert.Equal(1000 + o.Key.Length, o.Size));
        Assert.Equal(["5/2026-11-27/13/05-10.mp4", "5/2026-11-27/14/00-00.mp4"], (await ListAsync("5/2026-11-27/1")).Select(o => o.Key));
        Assert.Equal(["55/2026-11-27/13/05-10.mp4"], (await ListAsync("55")).Select(o => o.Key));
        Assert.Equal(5, (await ListAsync("5")).Count);
    }

    [Theory]
    [InlineData("../outside.mp4")]
    [InlineData("/etc/passwd")]
    [InlineData("1/../../x.mp4")]
    [InlineData("1/./x.mp4")]
    [InlineData(".outbox/chunks-000001.jsonl")]
    [InlineData("1/a b.mp4")]
    [InlineData("1//x.mp4")]
    [InlineData("")]
    public async Task InvalidKeys_AreRefusedBeforeAnyIo(string key)
    {
        var (path, _) = LocalFile(10);

        await Assert.ThrowsAsync<ArgumentException>(() => Store.UploadFileAsync(key, path));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetPropertiesAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key));
    }

    [Fact]
    public async Task Upload_OfAMissingLocalFile_IsAFileNotFoundAndStoresNothing()
    {
        await Assert.ThrowsAsync<FileNotFoundException>(() => Store.UploadFileAsync("6/2026-11-27/13/00-00.mp4", Path.Combine(_scratch, "nope.mp4")));
        Assert.Null(await Store.GetPropertiesAsync("6/2026-11-27/13/00-00.mp4"));
    }

    [Fact]
    public async Task ConcurrentUploads_AllVerify()
    {
        var files = Enumerable.Range(0, 12).Select(i => (Key: $"7/2026-11-27/13/{i:00}-00.mp4", File: LocalFile(20_000 + i * 997))).ToList();

        await Task.WhenAll(files.Select(f => Store.UploadFileAsync(f.Key, f.File.Path)));

        foreach (var (key, (_, bytes)) in files)
        {
            Assert.Equal(bytes, await ReadAllAsync(key, 0, null));
        }
    }

    protected (string Path, byte[] Bytes) LocalFile(int size)
    {
        var bytes = RandomNumberGenerator.GetBytes(size);
        var path = Path.Combine(_scratch, Guid.NewGuid().ToString("N") + ".bin");
        File.WriteAllBytes(path, bytes);
        return (path, bytes);
    }

    protected async Task<byte[]> ReadAllAsync(string key, long offset, long? length)
    {
        await using var stream = await Store.OpenReadAsync(key, offset, length) ?? throw new Xunit.Sdk.XunitException($"{key} is missing");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    protected async Task<List<StoredObject>> ListAsync(string prefix)
    {
        var list = new List<StoredObject>();
        await foreach (var item in Store.ListAsync(prefix))
        {
            list.Add(item);
        }

        return list;
    }
}

public sealed class FileSystemStoreContractTests : RecordingStoreContractTests
{
    private string _root = "";

    protected override Task<IRecordingStore> CreateStoreAsync()
    {
        _root = TestTemp.NewFolder("fsstore");
        return Task.FromResult<IRecordingStore>(new InstrumentedRecordingStore(new FileSystemRecordingStore(_root), TimeProvider.System));
    }

    protected override Task DisposeStoreAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AFileThatIsItsOwnObject_IsOnlyHashed()
    {
        var key = "8/2026-11-27/13/05-10.mp4";
        var inPlace = Path.Combine(_root, "8", "2026-11-27", "13", "05-10.mp4");
        Directory.CreateDirectory(Path.GetDirectoryName(inPlace)!);
        var bytes = RandomNumberGenerator.GetBytes(4321);
        await File.WriteAllBytesAsync(inPlace, bytes);
        var written = File.GetLastWriteTimeUtc(inPlace);

        Assert.True(Store.IsStoredInPlace(key, inPlace));
        var stored = await Store.UploadFileAsync(key, inPlace);

        Assert.Equal(MD5.HashData(bytes), stored.ContentMd5);
        Assert.Equal(written, File.GetLastWriteTimeUtc(inPlace));
        Assert.Equal(inPlace, Store.LocalPath(key));
        Assert.Equal(["8/2026-11-27/13/05-10.mp4"], Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_root, f).Replace('\\', '/')));
    }

    [Fact]
    public async Task LocalStateBesideTheObjects_IsNeverListed()
    {
        // The Recorder's own folders live in the same root when it writes in place.
        Directory.CreateDirectory(Path.Combine(_root, ".outbox", "rec-1"));
        await File.WriteAllTextAsync(Path.Combine(_root, ".outbox", "rec-1", "chunks-000001.jsonl"), "{}\n");
        Directory.CreateDirectory(Path.Combine(_root, "8", "2026-11-27", "13"));
        await File.WriteAllTextAsync(Path.Combine(_root, "8", "2026-11-27", "13", ".05-10.mp4~upload-1"), "partial");
        var (path, _) = LocalFile(100);
        await Store.UploadFileAsync("8/2026-11-27/13/05-20.mp4", path);

        Assert.Equal(["8/2026-11-27/13/05-20.mp4"], (await ListAsync("")).Select(o => o.Key));
    }
}

public sealed class AzureBlobStoreContractTests : RecordingStoreContractTests
{
    protected override async Task<IRecordingStore> CreateStoreAsync()
    {
        var azurite = await AzuriteServer.SharedAsync();
        return new InstrumentedRecordingStore(StorageServiceCollectionExtensions.Create(new StorageOptions
        {
            Provider = StorageProviders.AzureBlob,
            ConnectionString = azurite.ConnectionString,
            Container = "contract-" + Guid.NewGuid().ToString("N")[..12],
        }), TimeProvider.System);
    }

    [Fact]
    public async Task Properties_CarryTheMd5TheServiceChecked()
    {
        var (path, bytes) = LocalFile(12_345);
        await Store.UploadFileAsync("1/2026-11-27/13/05-40.mp4", path);

        var properties = await Store.GetPropertiesAsync("1/2026-11-27/13/05-40.mp4");

        Assert.Equal(MD5.HashData(bytes), properties!.ContentMd5);
        Assert.Equal(MD5.HashData(bytes), (await ListAsync("1/2026-11-27/13/05-40")).Single().ContentMd5);
    }

    [Fact]
    public async Task AStoreThatDoesNotAnswer_FailsWithARecordingStoreException()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var dead = StorageServiceCollectionExtensions.Create(new StorageOptions
        {
            Provider = StorageProviders.AzureBlob,
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{AzuriteServer.AccountName};",
            BlobMaxRetries = 0,
        });
        var (path, _) = LocalFile(100);

        var upload = await Assert.ThrowsAsync<RecordingStoreException>(() => dead.UploadFileAsync("1/x.mp4", path));
        Assert.IsAssignableFrom<IOException>(upload);
        await Assert.ThrowsAsync<RecordingStoreException>(() => dead.GetPropertiesAsync("1/x.mp4"));
        await Assert.ThrowsAsync<RecordingStoreException>(() => dead.OpenReadAsync("1/x.mp4"));
    }

    [Fact]
    public async Task WrongCredentials_AreRefusedWithTheStatus()
    {
        var azurite = await AzuriteServer.SharedAsync();
        var wrongKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var refused = StorageServiceCollectionExtensions.Create(new StorageOptions
        {
            Provider = StorageProviders.AzureBlob,
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={wrongKey};BlobEndpoint={azurite.BlobEndpoint};",
            BlobMaxRetries = 0,
        });
        var (path, _) = LocalFile(100);

        var ex = await Assert.ThrowsAsync<RecordingStoreException>(() => refused.UploadFileAsync("1/x.mp4", path));
        Assert.Equal(403, ex.Status);
    }
}
