using Microsoft.Extensions.Options;
using OpenNvr.Storage;

namespace OpenNvr.Core.Exports;

/// <summary>A chunk made available as a local file for ffmpeg; disposing releases it (a downloaded copy is deleted).</summary>
public sealed class LocalChunk(string path, Func<ValueTask>? release = null) : IAsyncDisposable
{
    public string Path { get; } = path;

    public ValueTask DisposeAsync() => release?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>
/// Where an export reads chunks from: the one seam between the export engine and recording storage. The filesystem
/// store hands out the Recorder's own file; an object store (Azure Blob) downloads the chunk to a temporary file.
/// </summary>
public interface IChunkFileSource
{
    /// <summary>The chunk with this stored relative path as a local file; <see cref="FileNotFoundException"/> when it is gone.</summary>
    Task<LocalChunk> OpenAsync(string relativePath, CancellationToken ct);
}

/// <summary>
/// Chunks from the recording store (<see cref="IRecordingStore"/>): a filesystem store's file is read in place; a blob
/// is downloaded (one streamed read) to <c>&lt;Exports:Root&gt;/.chunks/</c> and deleted when the export releases it,
/// so that Core never reads a folder of the Recorder.
/// </summary>
public sealed class RecordingStoreChunkSource(IRecordingStore store, IOptions<ExportOptions> options) : IChunkFileSource
{
    public async Task<LocalChunk> OpenAsync(string relativePath, CancellationToken ct)
    {
        if (StorageKeys.Check(relativePath) is { } invalid)
        {
            throw new FileNotFoundException($"The chunk {relativePath} cannot be in the recording store: {invalid}", relativePath);
        }

        if (store.LocalPath(relativePath) is { } local)
        {
            return File.Exists(local) ? new LocalChunk(local) : throw Missing(relativePath);
        }

        await using var source = await store.OpenReadAsync(relativePath, 0, null, ct) ?? throw Missing(relativePath);
        var folder = Path.Combine(options.Value.ResolveRoot(), ".chunks");
        Directory.CreateDirectory(folder);
        var copy = Path.Combine(folder, $"{Guid.NewGuid():N}{MediaTypes.Mp4Extension}");
        try
        {
            await using var target = File.Create(copy);
            await source.CopyToAsync(target, ct);
        }
        catch
        {
            File.Delete(copy);
            throw;
        }

        return new LocalChunk(copy, () =>
        {
            File.Delete(copy);
            return ValueTask.CompletedTask;
        });
    }

    private static FileNotFoundException Missing(string relativePath) =>
        new($"The chunk {relativePath} is not in the recording store (deleted by retention).", relativePath);
}
