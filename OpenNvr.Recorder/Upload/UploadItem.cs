using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;

namespace OpenNvr.Recorder.Upload;

public static class UploadKinds
{
    public const string Chunk = "chunk";
    public const string Snapshot = "snapshot";
}

/// <summary>
/// One sealed file waiting for the recording store: <c>key</c> is its path relative to <c>Recorder:RecordingsRoot</c>
/// and its name in the store; a chunk carries the registration Core gets once the upload is verified.
/// </summary>
public sealed record UploadItem(string Kind, string Key, long SizeBytes, double QueuedAtUnix, ChunkRegistration? Chunk = null);

public sealed record UploadEntry(UploadItem Item, OutboxPosition After);

/// <summary>A local copy of an uploaded file, kept as hot cache until evicted.</summary>
public sealed record CachedCopy(string Key, long SizeBytes);

/// <summary>Where the recording side hands sealed chunks (ffmpeg's and reconciliation's): the upload queue.</summary>
public interface ISealedChunkSink
{
    /// <summary>Durably queues a sealed chunk; when this returns it will be stored and registered eventually.</summary>
    void Append(ChunkRegistration chunk);

    /// <summary>True while the chunk waits for its upload.</summary>
    bool IsPending(int cameraId, string path);
}
