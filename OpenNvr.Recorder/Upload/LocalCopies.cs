using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;

namespace OpenNvr.Recorder.Upload;

/// <summary>
/// The hot cache: local copies of files whose upload was verified, oldest first, so that they can be evicted when
/// they pass <c>Recorder:LocalCacheMaxBytes</c> or the disk nears its free-space floor. A ledger, not a scan: a
/// <see cref="DurableQueue{T}"/> in <c>&lt;state folder&gt;/cache/</c> where a copy is appended after its verified
/// upload and acknowledged when evicted, so that a file is never evicted before its upload and a restart forgets
/// nothing. Files that never made it to the ledger (not yet uploaded) are never touched by eviction.
/// </summary>
public sealed class LocalCopies : IDisposable
{
    private readonly object _gate = new();
    private readonly DurableQueue<CachedCopy> _ledger;
    private readonly string _root;
    private readonly IDisposable _gauge;
    private long _bytes;

    public LocalCopies(string directory, string recordingsRoot)
    {
        _root = recordingsRoot;
        _ledger = new DurableQueue<CachedCopy>(directory, "copies", 1024 * 1024, ContractJson.Options, replay: copy =>
        {
            if (File.Exists(LocalPath(copy.Key)))
            {
                _bytes += copy.SizeBytes;
            }
        });
        _gauge = UploadTelemetry.ObserveCache(this, () => Interlocked.Read(ref _bytes));
    }

    /// <summary>Bytes of uploaded files still on the local disk (a file deleted behind the ledger's back counts until its turn).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Copies in the ledger (some may be gone already: retention deletes local copies with their objects).</summary>
    public long Count => _ledger.Depth;

    /// <summary>The file of <paramref name="key"/> was uploaded and verified: its local copy may be evicted from now on.</summary>
    public void Add(string key, long sizeBytes)
    {
        lock (_gate)
        {
            _ledger.Append(new CachedCopy(key, sizeBytes));
            Interlocked.Add(ref _bytes, sizeBytes);
        }
    }

    /// <summary>Retention deleted a local copy of <paramref name="sizeBytes"/> (with its stored object) before its eviction.</summary>
    public void Deleted(long sizeBytes) => Interlocked.Add(ref _bytes, -sizeBytes);

    /// <summary>
    /// Deletes the oldest local copies until at most <paramref name="keepBytes"/> remain, skipping (but forgetting)
    /// any whose key <paramref name="stillNeeded"/> (queued for upload again). Returns how many files and bytes went.
    /// </summary>
    public (int Files, long Bytes) EvictTo(long keepBytes, Func<string, bool> stillNeeded)
    {
        var files = 0;
        long bytes = 0;
        lock (_gate)
        {
            while (Interlocked.Read(ref _bytes) > keepBytes)
            {
                var batch = _ledger.Peek(64);
                if (batch.Count == 0)
                {
                    Interlocked.Exchange(ref _bytes, 0); // the count drifted (files deleted behind the ledger's back)
                    break;
                }

                var done = 0;
                foreach (var (copy, _) in batch)
                {
                    if (Interlocked.Read(ref _bytes) <= keepBytes)
                    {
                        break;
                    }

                    // Counted while its file exists: a copy deleted meanwhile (Deleted) was subtracted then.
                    var path = LocalPath(copy.Key);
                    if (File.Exists(path))
                    {
                        if (!stillNeeded(copy.Key))
                        {
                            File.Delete(path);
                            files++;
                            bytes += copy.SizeBytes;
                        }

                        Interlocked.Add(ref _bytes, -copy.SizeBytes);
                    }

                    done++;
                }

                _ledger.Acknowledge(batch[done - 1].After, done);
            }
        }

        if (files > 0)
        {
            UploadTelemetry.Evicted.Add(files);
        }

        return (files, bytes);
    }

    public void Dispose()
    {
        _gauge.Dispose();
        _ledger.Dispose();
    }

    private string LocalPath(string key) => Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar));
}
