using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Registration;

/// <summary>A position in the outbox: file number and byte offset within it.</summary>
public readonly record struct OutboxPosition(int File, long Offset);

public sealed record OutboxEntry(ChunkRegistration Chunk, OutboxPosition After);

/// <summary>
/// The durable queue of chunk registrations between the segmenter and Core, so that recording never depends on Core
/// being up. Layout under the replica's folder <c>&lt;RecordingsRoot&gt;/.outbox/&lt;recorder id&gt;/</c>:
/// <list type="bullet">
/// <item><c>chunks-NNNNNN.jsonl</c>: append-only JSON lines, one registration each, fsync'd before
/// <see cref="Append"/> returns; a new file is started when the current one passes <see cref="RollBytes"/> (4 MB).</item>
/// <item><c>delivered.json</c>: <c>{"file":N,"offset":B,"cameras":{"id":end_unix}}</c>, the position up to which
/// Core acknowledged and the end of each camera's last acknowledged chunk (the reconciliation horizon), replaced
/// atomically (write, fsync, rename). Files wholly before it are deleted.</item>
/// <item><c>rejected.jsonl</c>: registrations Core refused with a 4xx (dead letters, kept for the operator).</item>
/// </list>
/// Delivery is in order and at-least-once (a crash between Core's answer and the state write re-sends a batch);
/// Core's registration is idempotent on (camera_id, path), so every chunk gets exactly one index row.
/// A torn last line (power cut mid-append) is cut off at start-up.
/// </summary>
public sealed class ChunkOutbox : IDisposable
{
    public const long DefaultRollBytes = 4 * 1024 * 1024;
    private const string StateFile = "delivered.json";

    private readonly object _gate = new();
    private readonly string _dir;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly HashSet<(int, string)> _pendingPaths = [];
    private readonly IDisposable _gauge;
    private readonly Dictionary<int, double> _acknowledgedEnd = [];
    private OutboxPosition _delivered;
    private int _currentFile;
    private long _depth;

    public ChunkOutbox(string directory, long rollBytes = DefaultRollBytes)
    {
        RollBytes = rollBytes;
        _dir = directory;
        Directory.CreateDirectory(_dir);
        _delivered = ReadState();
        var files = ListFiles();
        _currentFile = files.Count > 0 ? Math.Max(files[^1], _delivered.File) : Math.Max(1, _delivered.File);
        if (files.Count > 0)
        {
            CutTornLine(FilePath(files[^1]));
        }

        foreach (var entry in ReadFrom(_delivered, int.MaxValue))
        {
            _depth++;
            _pendingPaths.Add((entry.Chunk.CameraId, entry.Chunk.Path));
        }

        _gauge = RecorderTelemetry.ObserveOutboxDepth(this, () => Interlocked.Read(ref _depth));
    }

    /// <summary>Size after which appends go to a new file (delivered files are deleted).</summary>
    public long RollBytes { get; }

    /// <summary>Registrations not yet acknowledged by Core.</summary>
    public long Depth => Interlocked.Read(ref _depth);

    /// <summary>End (Unix s) of the camera's last chunk Core acknowledged, if any.</summary>
    public double? AcknowledgedEnd(int cameraId)
    {
        lock (_gate)
        {
            return _acknowledgedEnd.TryGetValue(cameraId, out var end) ? end : null;
        }
    }

    public bool IsPending(int cameraId, string path)
    {
        lock (_gate)
        {
            return _pendingPaths.Contains((cameraId, path));
        }
    }

    /// <summary>Appends and fsyncs one registration; when this returns the chunk will reach Core eventually.</summary>
    public void Append(ChunkRegistration chunk)
    {
        var line = JsonSerializer.Serialize(chunk, CoreClient.Json) + "\n";
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (_gate)
        {
            var path = FilePath(_currentFile);
            if (File.Exists(path) && new FileInfo(path).Length + bytes.Length > RollBytes)
            {
                _currentFile++;
                path = FilePath(_currentFile);
            }

            using (var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            _pendingPaths.Add((chunk.CameraId, chunk.Path));
            _depth++;
        }

        _signal.Release();
    }

    /// <summary>Waits until something is appended (or the timeout passes).</summary>
    public Task WaitForAppendAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    /// <summary>The oldest unacknowledged registrations, in order.</summary>
    public IReadOnlyList<OutboxEntry> Peek(int max)
    {
        lock (_gate)
        {
            return ReadFrom(_delivered, max).ToList();
        }
    }

    /// <summary>Core acknowledged everything up to <paramref name="entries"/>' last position.</summary>
    public void Acknowledge(IReadOnlyList<OutboxEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var position = entries[^1].After;
            foreach (var entry in entries)
            {
                if (!_acknowledgedEnd.TryGetValue(entry.Chunk.CameraId, out var end) || end < entry.Chunk.EndUnix)
                {
                    _acknowledgedEnd[entry.Chunk.CameraId] = entry.Chunk.EndUnix;
                }
            }

            WriteState(position);
            _delivered = position;
            foreach (var entry in entries)
            {
                _pendingPaths.Remove((entry.Chunk.CameraId, entry.Chunk.Path));
            }

            _depth -= entries.Count;
            foreach (var file in ListFiles().Where(f => f < position.File))
            {
                File.Delete(FilePath(file));
            }

            // A fully delivered, large current file: start a new one so the old one can go.
            if (position.File == _currentFile && position.Offset >= RollBytes)
            {
                _currentFile++;
            }
        }
    }

    /// <summary>Keeps a registration Core refused for good (4xx) so that it is not lost silently.</summary>
    public void DeadLetter(ChunkRegistration chunk, string reason)
    {
        var line = JsonSerializer.Serialize(new { chunk, reason, at_unix = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 }, CoreClient.Json) + "\n";
        lock (_gate)
        {
            using var stream = new FileStream(Path.Combine(_dir, "rejected.jsonl"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            stream.Write(Encoding.UTF8.GetBytes(line));
            stream.Flush(flushToDisk: true);
        }
    }

    public void Dispose()
    {
        _gauge.Dispose();
        _signal.Dispose();
    }

    private IEnumerable<OutboxEntry> ReadFrom(OutboxPosition from, int max)
    {
        var count = 0;
        foreach (var file in ListFiles().Where(f => f >= from.File))
        {
            var start = file == from.File ? from.Offset : 0;
            var bytes = ReadTail(FilePath(file), start);
            var index = 0;
            while (index < bytes.Length && count < max)
            {
                var end = Array.IndexOf(bytes, (byte)'\n', index);
                if (end < 0)
                {
                    break; // a line being written (or torn): not yet an entry
                }

                var line = bytes.AsSpan(index, end - index);
                index = end + 1;
                var offset = start + index;
                ChunkRegistration? chunk = null;
                try
                {
                    chunk = JsonSerializer.Deserialize<ChunkRegistration>(line, CoreClient.Json);
                }
                catch (JsonException)
                {
                    // Unreadable line (disk corruption): skipped; the start-up reconciliation re-registers its chunk.
                }

                if (chunk is not null)
                {
                    count++;
                    yield return new OutboxEntry(chunk, new OutboxPosition(file, offset));
                }
            }

            if (count >= max)
            {
                yield break;
            }
        }
    }

    private static byte[] ReadTail(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset >= stream.Length)
        {
            return [];
        }

        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - offset];
        stream.ReadExactly(buffer);
        return buffer;
    }

    private List<int> ListFiles() => Directory.EnumerateFiles(_dir, "chunks-*.jsonl")
        .Select(p => Path.GetFileNameWithoutExtension(p)["chunks-".Length..])
        .Select(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1)
        .Where(i => i >= 0)
        .Order()
        .ToList();

    private string FilePath(int file) => Path.Combine(_dir, $"chunks-{file.ToString("D6", CultureInfo.InvariantCulture)}.jsonl");

    private OutboxPosition ReadState()
    {
        var path = Path.Combine(_dir, StateFile);
        if (!File.Exists(path))
        {
            return new OutboxPosition(1, 0);
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (doc.RootElement.TryGetProperty("cameras", out var cameras))
        {
            foreach (var camera in cameras.EnumerateObject())
            {
                if (int.TryParse(camera.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    _acknowledgedEnd[id] = camera.Value.GetDouble();
                }
            }
        }

        return new OutboxPosition(doc.RootElement.GetProperty("file").GetInt32(), doc.RootElement.GetProperty("offset").GetInt64());
    }

    private void WriteState(OutboxPosition position)
    {
        var path = Path.Combine(_dir, StateFile);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            var state = new { file = position.File, offset = position.Offset, cameras = _acknowledgedEnd.ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value) };
            stream.Write(JsonSerializer.SerializeToUtf8Bytes(state));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static void CutTornLine(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0 || bytes[^1] == (byte)'\n')
        {
            return;
        }

        var keep = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.SetLength(keep);
        stream.Flush(flushToDisk: true);
    }
}
