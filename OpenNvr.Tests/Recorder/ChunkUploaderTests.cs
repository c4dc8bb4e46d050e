using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenNvr.Contracts.Internal;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Upload;
using OpenNvr.Storage;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// The upload path between the segmenter and the registration outbox, against a real blob server (Azurite) and the
/// filesystem store: order, verification, registration only once stored, dead letters, the hot cache, the
/// free-space floor during an outage, restarts.
/// </summary>
public sealed class ChunkUploaderTests : UploaderTestBase
{
    [Fact]
    public async Task Chunks_are_stored_verified_then_registered_in_queue_order()
    {
        using var parts = Parts(_blob);
        var chunks = Enumerable.Range(0, 7).Select(i => SealChunk(1, i)).ToList();
        foreach (var (chunk, _) in chunks)
        {
            parts.Queue.Append(chunk);
        }

        Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None));

        Assert.Equal(0, parts.Queue.Depth);
        Assert.Equal(chunks.Select(c => c.Chunk), parts.Outbox.Peek(100).Select(e => e.Chunk));
        foreach (var (chunk, bytes) in chunks)
        {
            var stored = await _blob.GetPropertiesAsync(chunk.Path);
            Assert.Equal(MD5.HashData(bytes), stored!.ContentMd5);
            Assert.True(File.Exists(Local(chunk.Path)), "a local copy stays as hot cache");
        }

        Assert.Equal(chunks.Sum(c => c.Bytes.Length), parts.Copies.Bytes);
        Assert.False(await parts.Uploader.UploadNextAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_chunk_whose_file_is_gone_is_dead_lettered_and_never_registered_and_the_rest_goes_on()
    {
        using var parts = Parts(_blob);
        var (first, _) = SealChunk(2, 0);
        var (lost, _) = SealChunk(2, 1);
        var (third, _) = SealChunk(2, 2);
        parts.Queue.Append(first);
        parts.Queue.Append(lost);
        parts.Queue.Append(third);
        File.Delete(Local(lost.Path));

        Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None));

        Assert.Equal([first, third], parts.Outbox.Peek(100).Select(e => e.Chunk));
        Assert.Null(await _blob.GetPropertiesAsync(lost.Path));
        var deadLetter = Assert.Single(await File.ReadAllLinesAsync(Path.Combine(_state, "uploads", "rejected.jsonl")));
        Assert.Contains(lost.Path, deadLetter, StringComparison.Ordinal);
        Assert.Contains("missing", deadLetter, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Local_copies_beyond_the_cache_bound_are_evicted_oldest_first_and_only_after_their_upload()
    {
        var chunks = Enumerable.Range(0, 6).Select(i => SealChunk(4, i, size: 10_000)).ToList();
        using var parts = Parts(_blob, new UploadOptions { LocalCacheMaxBytes = 25_000 });
        foreach (var (chunk, _) in chunks)
        {
            parts.Queue.Append(chunk);
        }

        Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None));
        var (waiting, _) = SealChunk(4, 6, size: 10_000);
        parts.Queue.Append(waiting);
        Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None)); // evicts first, then uploads the 7th

        // 60 KB uploaded with a 25 KB bound: the four oldest went, the newest two stayed; the 7th was still waiting
        // when eviction ran and is now a cached copy too.
        Assert.Equal([false, false, false, false, true, true], chunks.Select(c => File.Exists(Local(c.Chunk.Path))));
        Assert.True(File.Exists(Local(waiting.Path)));
        Assert.Equal(30_000, parts.Copies.Bytes);
        foreach (var (chunk, bytes) in chunks)
        {
            Assert.Equal(MD5.HashData(bytes), (await _blob.GetPropertiesAsync(chunk.Path))!.ContentMd5);
        }
    }

    [Fact]
    public async Task A_filesystem_store_over_the_recordings_root_registers_in_place_without_copies()
    {
        var store = new FileSystemRecordingStore(_root);
        using var parts = Parts(store);
        Assert.True(parts.Uploader.WritesInPlace);
        var (chunk, bytes) = SealChunk(6, 0);
        parts.Queue.Append(chunk);

        Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None));

        Assert.Equal([chunk], parts.Outbox.Peek(10).Select(e => e.Chunk));
        Assert.Equal(0, parts.Copies.Count);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Local(chunk.Path)));
        Assert.Equal([chunk.Path], Directory.EnumerateFiles(Path.Combine(_root, "6"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_root, f).Replace('\\', '/')));
    }

    [Fact]
    public async Task A_filesystem_store_elsewhere_gets_a_verified_copy()
    {
        var storeRoot = TestTemp.NewFolder("upload-fsstore");
        using var parts = Parts(new FileSystemRecordingStore(storeRoot));
        Assert.False(parts.Uploader.WritesInPlace);
        var (chunk, bytes) = SealChunk(7, 0);
        parts.Queue.Append(chunk);

        Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None));

        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(storeRoot, chunk.Path)));
        Assert.Equal([chunk], parts.Outbox.Peek(10).Select(e => e.Chunk));
        Assert.Equal(1, parts.Copies.Count);
    }

}

/// <summary>The upload path while the blob server is away (a private Azurite, stopped and started again).</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class ChunkUploaderOutageTests : UploaderTestBase
{
    [Fact]
    public async Task While_the_store_is_away_nothing_is_registered_or_forgotten_and_it_all_goes_when_it_returns()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var store = BlobStore(azurite.ConnectionString);
        var chunks = Enumerable.Range(0, 4).Select(i => SealChunk(3, i)).ToList();
        using (var parts = Parts(store))
        {
            parts.Queue.Append(chunks[0].Chunk);
            Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None));
            await azurite.StopAsync();
            foreach (var (chunk, _) in chunks.Skip(1))
            {
                parts.Queue.Append(chunk);
            }

            await Assert.ThrowsAnyAsync<IOException>(() => parts.Uploader.UploadNextAsync(CancellationToken.None));

            Assert.Equal(3, parts.Queue.Depth);
            Assert.Equal([chunks[0].Chunk], parts.Outbox.Peek(100).Select(e => e.Chunk));
            Assert.All(chunks.Skip(1), c => Assert.True(File.Exists(Local(c.Chunk.Path))));
        }

        // The Recorder restarts while the store is still away, then the store returns.
        await azurite.StartAgainAsync();
        using var restarted = Parts(store);
        Assert.Equal(3, restarted.Queue.Depth);
        Assert.True(await restarted.Uploader.UploadNextAsync(CancellationToken.None));
        Assert.Equal(chunks.Select(c => c.Chunk), restarted.Outbox.Peek(100).Select(e => e.Chunk));
        foreach (var (chunk, bytes) in chunks)
        {
            Assert.Equal(MD5.HashData(bytes), (await store.GetPropertiesAsync(chunk.Path))!.ContentMd5);
        }
    }

    [Fact]
    public async Task Under_the_free_space_floor_with_the_store_away_cached_copies_go_first_then_the_oldest_waiting_files()
    {
        await using var azurite = await AzuriteServer.StartAsync();
        var store = BlobStore(azurite.ConnectionString);
        var uploaded = SealChunk(5, 0);
        var waiting = Enumerable.Range(1, 3).Select(i => SealChunk(5, i)).ToList();
        using (var parts = Parts(store))
        {
            parts.Queue.Append(uploaded.Chunk);
            Assert.True(await parts.Uploader.UploadNextAsync(CancellationToken.None));
        }

        await azurite.StopAsync();
        // A floor this disk can never reach: everything local that may go, goes.
        using var starved = Parts(store, recorder: new RecorderOptions { RecordingsRoot = _root, MinFreeBytes = long.MaxValue / 4, MinFreePercent = 0 });
        foreach (var (chunk, _) in waiting)
        {
            starved.Queue.Append(chunk);
        }

        // Nothing is left to try once every waiting file was dropped.
        Assert.False(await starved.Uploader.UploadNextAsync(CancellationToken.None));

        Assert.False(File.Exists(Local(uploaded.Chunk.Path)), "the uploaded copy is evicted first");
        Assert.All(waiting, c => Assert.False(File.Exists(Local(c.Chunk.Path))));
        Assert.Equal(0, starved.Queue.Depth);
        var deadLetters = await File.ReadAllLinesAsync(Path.Combine(_state, "uploads", "rejected.jsonl"));
        Assert.Equal(waiting.Select(c => c.Chunk.Path), deadLetters.Select(l => waiting.Single(c => l.Contains(c.Chunk.Path, StringComparison.Ordinal)).Chunk.Path));
        Assert.All(deadLetters, l => Assert.Contains("dropped_free_space", l, StringComparison.Ordinal));
    }
}

public abstract class UploaderTestBase : IAsyncLifetime
{
    private protected readonly string _root = TestTemp.NewFolder("upload-root");
    private protected readonly string _state = TestTemp.NewFolder("upload-state");
    private protected IRecordingStore _blob = null!;

    public async Task InitializeAsync() => _blob = BlobStore((await AzuriteServer.SharedAsync()).ConnectionString);

    public Task DisposeAsync() => Task.CompletedTask;

    private protected static IRecordingStore BlobStore(string connectionString) => new InstrumentedRecordingStore(
        StorageServiceCollectionExtensions.Create(new StorageOptions
        {
            Provider = StorageProviders.AzureBlob,
            ConnectionString = connectionString,
            Container = "uploads-" + Guid.NewGuid().ToString("N")[..12],
            BlobMaxRetries = 0,
            BlobNetworkTimeoutSeconds = 5,
        }), TimeProvider.System);

    private protected Parts Parts(IRecordingStore store, UploadOptions? options = null, RecorderOptions? recorder = null) =>
        new(store, _root, _state, options ?? new UploadOptions(), recorder ?? new RecorderOptions { RecordingsRoot = _root, MinFreePercent = 0 });

    /// <summary>A sealed chunk file of random bytes under the recordings root, and its registration.</summary>
    private protected (ChunkRegistration Chunk, byte[] Bytes) SealChunk(int camera, int index, int size = 0)
    {
        var bytes = RandomNumberGenerator.GetBytes(size > 0 ? size : 20_000 + index * 333);
        var path = $"{camera}/2026-11-27/13/{index:D2}-00.mp4";
        Directory.CreateDirectory(Path.GetDirectoryName(Local(path))!);
        File.WriteAllBytes(Local(path), bytes);
        var start = 1_795_784_700.0 + index * 10;
        return (new ChunkRegistration(camera, path, start, start + 10, 10, bytes.Length, "h264", 768, 576), bytes);
    }

    private protected string Local(string key) => Path.Combine(_root, key);
}

/// <summary>The upload path's parts over one state folder, as the Recorder wires them.</summary>
internal sealed class Parts : IDisposable
{
    public Parts(IRecordingStore store, string root, string state, UploadOptions options, RecorderOptions recorder)
    {
        Queue = new UploadQueue(Path.Combine(state, "uploads"), TimeProvider.System);
        Copies = new LocalCopies(Path.Combine(state, "cache"), root);
        Outbox = new ChunkOutbox(state);
        Uploader = new ChunkUploader(Queue, Copies, Outbox, store, Options.Create(options), Options.Create(recorder), TimeProvider.System,
            NullLogger<ChunkUploader>.Instance);
    }

    public UploadQueue Queue { get; }

    public LocalCopies Copies { get; }

    public ChunkOutbox Outbox { get; }

    public ChunkUploader Uploader { get; }

    public void Dispose()
    {
        Uploader.Dispose();
        Queue.Dispose();
        Copies.Dispose();
        Outbox.Dispose();
    }
}
