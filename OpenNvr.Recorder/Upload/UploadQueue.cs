using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;

namespace OpenNvr.Recorder.Upload;

/// <summary>
/// The durable queue of sealed files (chunks, snapshots) on their way to the recording store, between the segmenter
/// and the registration outbox: a <see cref="DurableQueue{T}"/> in <c>&lt;state folder&gt;/uploads/</c>
/// (<c>uploads-NNNNNN.jsonl</c>, <c>delivered.json</c>, and <c>rejected.jsonl</c> for files that cannot be uploaded
/// any more: gone from the disk, or dropped to keep the free-space floor). Survives crashes and store outages;
/// <see cref="ChunkUploader"/> takes items in order.
/// </summary>
public sealed class UploadQueue : ISealedChunkSink, IDisposable
{
    public const long DefaultRollBytes = 4 * 1024 * 1024;

    private readonly object _gate = new();
    private readonly DurableQueue<UploadItem> _queue;
    private readonly HashSet<string> _pendingKeys = [];
    private readonly TimeProvider _clock;
    private readonly IDisposable _gauges;
    private long _pendingBytes;

    public UploadQueue(string directory, TimeProvider clock, long rollBytes = DefaultRollBytes)
    {
        _clock = clock;
        _queue = new DurableQueue<UploadItem>(directory, "uploads", rollBytes, ContractJson.Options, replay: item =>
        {
            _pendingKeys.Add(item.Key);
            _pendingBytes += item.SizeBytes;
        });
        _gauges = UploadTelemetry.ObserveQueue(this, () => _queue.Depth, () => Interlocked.Read(ref _pendingBytes));
    }

    /// <summary>Files waiting for their upload.</summary>
    public long Depth => _queue.Depth;

    /// <summary>Bytes waiting for their upload (on the local disk until then).</summary>
    public long PendingBytes => Interlocked.Read(ref _pendingBytes);

    public void Append(ChunkRegistration chunk) => Enqueue(new UploadItem(UploadKinds.Chunk, chunk.Path, chunk.SizeBytes, Now(), chunk));

    /// <summary>Durably queues a snapshot (a key relative to the recordings root).</summary>
    public void AppendSnapshot(string key, long sizeBytes) => Enqueue(new UploadItem(UploadKinds.Snapshot, key, sizeBytes, Now()));

    public bool IsPending(int cameraId, string path)
    {
        lock (_gate)
        {
            return _pendingKeys.Contains(path);
        }
    }

    /// <summary>Waits until something is appended (or the timeout passes).</summary>
    public Task WaitForAppendAsync(TimeSpan timeout, CancellationToken ct) => _queue.WaitForAppendAsync(timeout, ct);

    /// <summary>The oldest waiting files, in order.</summary>
    public IReadOnlyList<UploadEntry> Peek(int max) => _queue.Peek(max).Select(e => new UploadEntry(e.Item, e.After)).ToList();

    /// <summary>Everything up to the last of <paramref name="entries"/> is done (stored, or dead-lettered).</summary>
    public void Acknowledge(IReadOnlyList<UploadEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!_queue.Acknowledge(entries[^1].After, entries.Count))
            {
                return;
            }

            foreach (var entry in entries)
            {
                _pendingKeys.Remove(entry.Item.Key);
                Interlocked.Add(ref _pendingBytes, -entry.Item.SizeBytes);
            }
        }
    }

    /// <summary>Keeps a record of a file that will never be uploaded (with why) so that it is not lost silently.</summary>
    public void DeadLetter(UploadItem item, string reason) =>
        _queue.DeadLetter(new { item, reason, at_unix = Now() });

    public void Dispose()
    {
        _gauges.Dispose();
        _queue.Dispose();
    }

    private void Enqueue(UploadItem item)
    {
        // Under the gate, so that IsPending never sees an item on disk but not pending (or pending but not on disk).
        lock (_gate)
        {
            _queue.Append(item);
            _pendingKeys.Add(item.Key);
            Interlocked.Add(ref _pendingBytes, item.SizeBytes);
        }
    }

    private double Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
}
