using Microsoft.Extensions.Options;
using OpenNvr.Core.Recordings;

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

/// <summary>Chunks on the recordings volume (<c>Recorder:RecordingsRoot</c>), read in place.</summary>
public sealed class RecordingsFolderChunkSource(IOptions<RecordingsOptions> options) : IChunkFileSource
{
    public Task<LocalChunk> OpenAsync(string relativePath, CancellationToken ct)
    {
        var full = options.Value.Resolve(relativePath);
        return full is not null && File.Exists(full)
            ? Task.FromResult(new LocalChunk(full))
            : Task.FromException<LocalChunk>(new FileNotFoundException($"The chunk {relativePath} is not on the recordings volume.", relativePath));
    }
}
