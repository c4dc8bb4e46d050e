using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Retention;
using OpenNvr.Storage;

namespace OpenNvr.Recorder.Upload;

/// <summary>
/// Takes sealed files from the <see cref="UploadQueue"/> in order and puts them in the recording store, checksum
/// verified; a chunk is handed to the registration outbox (and so reaches Core's index) only after its upload was
/// verified, so that Core can serve every chunk it lists. A batch is uploaded <c>Recorder:UploadConcurrency</c> at a
/// time and completed in queue order up to its first failure; failures are retried by <see cref="OutboxDelivery"/>
/// (0.5 s doubling to 5 s) for as long as the store is away, while recording goes on. Before each round the local
/// disk is kept: the hot cache (<see cref="LocalCopies"/>) is evicted down to <c>Recorder:LocalCacheMaxBytes</c>, and
/// under the free-space floor to nothing; if the disk is still under the floor, the oldest waiting files are dropped
/// (dead-lettered, counted, logged as errors) rather than letting a full disk stop recording.
/// </summary>
public sealed class ChunkUploader : BackgroundService
{
    private readonly UploadQueue _queue;
    private readonly LocalCopies _copies;
    private readonly ChunkOutbox _outbox;
    private readonly IRecordingStore _store;
    private readonly UploadOptions _options;
    private readonly RecorderOptions _recorder;
    private readonly TimeProvider _clock;
    private readonly ILogger<ChunkUploader> _logger;
    private readonly string _root;
    private long? _unavailableSince;

    public ChunkUploader(UploadQueue queue, LocalCopies copies, ChunkOutbox outbox, IRecordingStore store, IOptions<UploadOptions> options,
        IOptions<RecorderOptions> recorder, TimeProvider clock, ILogger<ChunkUploader> logger)
    {
        _queue = queue;
        _copies = copies;
        _outbox = outbox;
        _store = store;
        _options = options.Value;
        _recorder = recorder.Value;
        _clock = clock;
        _logger = logger;
        _root = _recorder.ResolveRecordingsRoot();
        WritesInPlace = store.IsStoredInPlace("0/probe.mp4", Path.Combine(_root, "0", "probe.mp4"));
    }

    /// <summary>The store is the recordings folder itself (filesystem store over <c>Recorder:RecordingsRoot</c>): nothing is copied or evicted.</summary>
    public bool WritesInPlace { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await OutboxDelivery.RunAsync(
            UploadNextAsync,
            _queue.WaitForAppendAsync,
            ex =>
            {
                _unavailableSince ??= _clock.GetTimestamp();
                UploadLog.StoreUnavailable(_logger, _queue.Depth, _queue.PendingBytes, ex.Message);
            },
            _clock,
            stoppingToken);

        // Shutdown: the supervisors stopped before this service (registered after it) sealed their last chunks.
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(_options.UploadDrainSeconds));
        try
        {
            while (await UploadNextAsync(drain.Token))
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or UnauthorizedAccessException)
        {
            // The store is away or the time is up: the queue keeps them for the next start.
        }
    }

    /// <summary>One round: keeps the local disk, then uploads a batch. False when nothing was waiting.</summary>
    public async Task<bool> UploadNextAsync(CancellationToken ct)
    {
        KeepLocalDisk();
        var batch = _queue.Peek(_options.UploadBatchSize);
        if (batch.Count == 0)
        {
            return false;
        }

        var outcomes = new Outcome[batch.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, batch.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.UploadConcurrency, CancellationToken = ct },
            async (i, token) => outcomes[i] = await UploadOneAsync(batch[i].Item, token));

        var done = Array.FindIndex(outcomes, o => o.Failure is not null);
        var completed = done < 0 ? batch : batch.Take(done).ToList();
        Complete(completed, outcomes);
        if (done >= 0)
        {
            throw outcomes[done].Failure as IOException ?? new IOException(outcomes[done].Failure!.Message, outcomes[done].Failure);
        }

        if (_unavailableSince is { } since)
        {
            _unavailableSince = null;
            UploadLog.StoreBack(_logger, _clock.GetElapsedTime(since).TotalSeconds, _queue.Depth);
        }

        return true;
    }

    private async Task<Outcome> UploadOneAsync(UploadItem item, CancellationToken ct)
    {
        if (StorageKeys.Check(item.Key) is { } invalid)
        {
            return Outcome.Rejected("invalid_key", invalid);
        }

        var local = Path.Combine(_root, item.Key.Replace('/', Path.DirectorySeparatorChar));
        try
        {
            if (!File.Exists(local))
            {
                // Stored before and evicted (a crash between the upload and the queue's acknowledgement), or lost.
                return await _store.GetPropertiesAsync(item.Key, ct) is { } stored && stored.Size == item.SizeBytes
                    ? new Outcome("already_stored", stored.Size, InPlace: false, null, null)
                    : Outcome.Rejected("missing", $"{local} is gone and the store does not have it");
            }

            var uploaded = await _store.UploadFileAsync(item.Key, local, ct);
            var inPlace = _store.IsStoredInPlace(item.Key, local);
            return new Outcome(inPlace ? "in_place" : "uploaded", uploaded.Size, inPlace, null, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new Outcome("failed", 0, false, null, ex);
        }
    }

    /// <summary>In queue order: cache ledger, then registration outbox, then the queue's acknowledgement.</summary>
    private void Complete(IReadOnlyList<UploadEntry> entries, Outcome[] outcomes)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        long bytes = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var (item, outcome) = (entries[i].Item, outcomes[i]);
            var kind = new KeyValuePair<string, object?>("kind", item.Kind);
            UploadTelemetry.Uploads.Add(1, kind, new KeyValuePair<string, object?>("outcome", outcome.Name));
            if (outcome.Reason is { } reason)
            {
                _queue.DeadLetter(item, outcome.Name + ": " + reason);
                UploadLog.DeadLettered(_logger, item.Kind, item.Key, reason);
                continue;
            }

            // Into the ledger before Core knows the chunk: retention can only find it in the index after this.
            if (outcome.Name == "uploaded")
            {
                _copies.Add(item.Key, outcome.Size);
            }

            if (item.Chunk is { } chunk)
            {
                _outbox.Append(chunk with { SizeBytes = outcome.Size });
            }

            bytes += outcome.Size;
            UploadTelemetry.Lag.Record(Math.Max(0, now - (item.Chunk?.EndUnix ?? item.QueuedAtUnix)), kind);
        }

        _queue.Acknowledge(entries);
        UploadLog.Uploaded(_logger, entries.Count, bytes, _queue.Depth);
    }

    /// <summary>The hot cache within its bound, and the disk above its free-space floor while the store is away.</summary>
    private void KeepLocalDisk()
    {
        if (WritesInPlace)
        {
            return; // the local files are the store; retention keeps its floor
        }

        if (_copies.Bytes > _options.LocalCacheMaxBytes)
        {
            Evict(_options.LocalCacheMaxBytes, "cache_bound");
        }

        var (free, floor) = FreeSpace();
        if (free >= floor)
        {
            return;
        }

        Evict(Math.Max(0, _copies.Bytes - (floor - free)), "free_space");
        (free, floor) = FreeSpace();
        while (free < floor && _queue.Peek(1) is [var oldest])
        {
            var path = Path.Combine(_root, oldest.Item.Key.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(path))
            {
                File.Delete(path);
            }

            _queue.DeadLetter(oldest.Item, "dropped_free_space: the store was away and the local disk reached its free-space floor");
            _queue.Acknowledge([oldest]);
            UploadTelemetry.Uploads.Add(1, new KeyValuePair<string, object?>("kind", oldest.Item.Kind),
                new KeyValuePair<string, object?>("outcome", "dropped_free_space"));
            UploadLog.DroppedForFreeSpace(_logger, free, floor, oldest.Item.Kind, oldest.Item.Key, oldest.Item.SizeBytes);
            (free, floor) = FreeSpace();
        }
    }

    private void Evict(long keepBytes, string reason)
    {
        var (files, bytes) = _copies.EvictTo(keepBytes, key => _queue.IsPending(0, key));
        if (files > 0)
        {
            UploadLog.Evicted(_logger, files, bytes, reason);
        }
    }

    private (long Free, long Floor) FreeSpace()
    {
        var (free, total) = RetentionService.VolumeSpace(_root);
        return (free, Math.Max(_recorder.MinFreeBytes, (long)(total * Math.Clamp(_recorder.MinFreePercent, 0, 100) / 100)));
    }

    /// <summary>What became of one file: <see cref="Failure"/> to retry, <see cref="Reason"/> to dead-letter, else stored.</summary>
    private readonly record struct Outcome(string Name, long Size, bool InPlace, string? Reason, Exception? Failure)
    {
        public static Outcome Rejected(string name, string reason) => new(name, 0, false, reason, null);
    }
}
