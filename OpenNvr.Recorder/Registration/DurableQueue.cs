using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpenNvr.Recorder.Registration;

/// <summary>A position in an outbox: file number and byte offset within it.</summary>
public readonly record struct OutboxPosition(int File, long Offset) : IComparable<OutboxPosition>
{
    public int CompareTo(OutboxPosition other) => File != other.File ? File.CompareTo(other.File) : Offset.CompareTo(other.Offset);
}

/// <summary>
/// The durable append-only queue behind the Recorder's outboxes (<see cref="ChunkOutbox"/>,
/// <see cref="Analytics.EventOutbox"/>), so that what was handed to it survives crashes and Core outages. Layout in
/// its folder:
/// <list type="bullet">
/// <item><c>&lt;prefix&gt;-NNNNNN.jsonl</c>: append-only JSON lines, one item each, fsync'd before
/// <see cref="Append"/> returns; a new file is started when the current one passes <see cref="RollBytes"/>.</item>
/// <item><c>delivered.json</c>: <c>{"file":N,"offset":B,...}</c>, the position up to which Core acknowledged, plus
/// whatever extra state the owner keeps with it (<see cref="StoredExtra"/>), replaced atomically (write, fsync,
/// rename) so that a crash leaves either the old or the new state. Files wholly before it are deleted.</item>
/// <item><c>rejected.jsonl</c>: items Core refused with a 4xx (dead letters, kept for the operator).</item>
/// </list>
/// Delivery is in order and at-least-once (a crash between Core's answer and the state write re-sends a batch).
/// A torn last line (power cut mid-append) is cut off at start-up. Thread-safe; owners that need several calls to
/// be atomic (append then cap) hold their own lock around them.
/// </summary>
public sealed class DurableQueue<T> : IDisposable
    where T : class
{
    private const string StateFile = "delivered.json";

    private readonly object _gate = new();
    private readonly string _dir;
    private readonly string _prefix;
    private readonly JsonSerializerOptions _json;
    private readonly SemaphoreSlim _signal = new(0);
    private JsonObject _extra;
    private OutboxPosition _delivered;
    private int _currentFile;
    private long _depth;

    /// <param name="directory">The queue's folder (created if missing).</param>
    /// <param name="prefix">File name prefix of the numbered files (<c>chunks</c>, <c>events</c>).</param>
    /// <param name="rollBytes">Size after which appends go to a new file.</param>
    /// <param name="json">Serializer options for items and dead letters (the wire format Core reads).</param>
    /// <param name="replay">Called for each undelivered item found at start-up, so that the owner can rebuild its
    /// in-memory view in the same pass that counts them.</param>
    public DurableQueue(string directory, string prefix, long rollBytes, JsonSerializerOptions json, Action<T>? replay = null)
    {
        _dir = directory;
        _prefix = prefix;
        _json = json;
        RollBytes = rollBytes;
        Directory.CreateDirectory(_dir);
        (_delivered, _extra) = ReadState();
        var files = ListFiles();
        _currentFile = files.Count > 0 ? Math.Max(files[^1], _delivered.File) : Math.Max(1, _delivered.File);
        if (files.Count > 0)
        {
            CutTornLine(FilePath(files[^1]));
        }

        foreach (var (item, _) in ReadFrom(_delivered, int.MaxValue))
        {
            _depth++;
            replay?.Invoke(item);
        }
    }

    /// <summary>Size after which appends go to a new file (delivered files are deleted).</summary>
    public long RollBytes { get; }

    /// <summary>Items not yet acknowledged.</summary>
    public long Depth => Interlocked.Read(ref _depth);

    /// <summary>The owner's extra properties of <c>delivered.json</c> as found at start-up (empty if none).</summary>
    public JsonObject StoredExtra
    {
        get
        {
            lock (_gate)
            {
                return (JsonObject)_extra.DeepClone();
            }
        }
    }

    /// <summary>Appends and fsyncs one item; when this returns the item is on disk and will be delivered eventually.</summary>
    public void Append(T item)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(item, _json) + "\n");
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

            _depth++;
        }

        _signal.Release();
    }

    /// <summary>Waits until something is appended (or the timeout passes).</summary>
    public Task WaitForAppendAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    /// <summary>The oldest unacknowledged items, in order, each with the position just after it.</summary>
    public IReadOnlyList<(T Item, OutboxPosition After)> Peek(int max)
    {
        lock (_gate)
        {
            return ReadFrom(_delivered, max).ToList();
        }
    }

    /// <summary>
    /// Everything up to <paramref name="position"/> (<paramref name="count"/> items) was acknowledged: the state is
    /// persisted (with <paramref name="extra"/> replacing the owner's extra state if given) and wholly delivered
    /// files are deleted. Returns false, changing nothing, if the queue is already past it (the cap dropped them).
    /// </summary>
    public bool Acknowledge(OutboxPosition position, int count, JsonObject? extra = null)
    {
        lock (_gate)
        {
            if (position.CompareTo(_delivered) <= 0)
            {
                return false;
            }

            if (extra is not null)
            {
                _extra = (JsonObject)extra.DeepClone();
            }

            WriteState(position);
            _delivered = position;
            _depth = Math.Max(0, _depth - count); // the cap may have counted some of them as dropped meanwhile
            foreach (var file in ListFiles().Where(f => f < position.File))
            {
                File.Delete(FilePath(file));
            }

            // A fully delivered, large current file: start a new one so the old one can go.
            if (position.File == _currentFile && position.Offset >= RollBytes)
            {
                _currentFile++;
            }

            return true;
        }
    }

    /// <summary>
    /// Over <paramref name="maxBytes"/>: whole files go, oldest first (never the one being written), and the
    /// delivered position moves past them. Returns how many undelivered items they held (lost for good).
    /// </summary>
    public long DropOldestOverCap(long maxBytes)
    {
        lock (_gate)
        {
            long dropped = 0;
            var files = ListFiles();
            var total = files.Sum(f => new FileInfo(FilePath(f)).Length);
            foreach (var file in files)
            {
                if (total <= maxBytes || file >= _currentFile)
                {
                    break;
                }

                var size = new FileInfo(FilePath(file)).Length;
                var lost = file >= _delivered.File
                    ? ReadFrom(_delivered.File == file ? _delivered : new OutboxPosition(file, 0), int.MaxValue).TakeWhile(e => e.After.File == file).LongCount()
                    : 0;
                File.Delete(FilePath(file));
                total -= size;
                _depth -= lost;
                dropped += lost;
                if (_delivered.File <= file)
                {
                    _delivered = new OutboxPosition(file + 1, 0);
                    WriteState(_delivered);
                }
            }

            return dropped;
        }
    }

    /// <summary>Keeps a record of an item Core refused for good (4xx) so that it is not lost silently.</summary>
    public void DeadLetter(object record)
    {
        var line = JsonSerializer.Serialize(record, _json) + "\n";
        lock (_gate)
        {
            using var stream = new FileStream(Path.Combine(_dir, "rejected.jsonl"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            stream.Write(Encoding.UTF8.GetBytes(line));
            stream.Flush(flushToDisk: true);
        }
    }

    public void Dispose() => _signal.Dispose();

    private IEnumerable<(T Item, OutboxPosition After)> ReadFrom(OutboxPosition from, int max)
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
                    break; // a line being written (or torn): not yet an item
                }

                var line = bytes.AsSpan(index, end - index);
                index = end + 1;
                T? item = null;
                try
                {
                    item = JsonSerializer.Deserialize<T>(line, _json);
                }
                catch (JsonException)
                {
                    // Unreadable line (disk corruption): skipped rather than blocking everything behind it.
                }

                if (item is not null)
                {
                    count++;
                    yield return (item, new OutboxPosition(file, start + index));
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
        try
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
        catch (FileNotFoundException)
        {
            return []; // deleted between listing and reading (delivered or over the cap): nothing left to read
        }
    }

    private List<int> ListFiles() => Directory.EnumerateFiles(_dir, $"{_prefix}-*.jsonl")
        .Select(p => Path.GetFileNameWithoutExtension(p)[(_prefix.Length + 1)..])
        .Select(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1)
        .Where(i => i >= 0)
        .Order()
        .ToList();

    private string FilePath(int file) => Path.Combine(_dir, $"{_prefix}-{file.ToString("D6", CultureInfo.InvariantCulture)}.jsonl");

    private (OutboxPosition Position, JsonObject Extra) ReadState()
    {
        var path = Path.Combine(_dir, StateFile);
        if (!File.Exists(path))
        {
            return (new OutboxPosition(1, 0), []);
        }

        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is JsonObject root && root["file"] is JsonValue file && root["offset"] is JsonValue offset)
            {
                var position = new OutboxPosition(file.GetValue<int>(), offset.GetValue<long>());
                root.Remove("file");
                root.Remove("offset");
                return (position, root);
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // Falls through to the start below.
        }

        // Unreadable state: re-send from the start (Core is idempotent or stores a duplicate rather than nothing).
        return (new OutboxPosition(1, 0), []);
    }

    private void WriteState(OutboxPosition position)
    {
        var state = new JsonObject { ["file"] = position.File, ["offset"] = position.Offset };
        foreach (var (name, value) in _extra)
        {
            state[name] = value?.DeepClone();
        }

        var path = Path.Combine(_dir, StateFile);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(Encoding.UTF8.GetBytes(state.ToJsonString()));
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
