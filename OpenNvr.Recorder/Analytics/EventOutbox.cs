using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

public sealed record EventOutboxEntry(EventIngest Event, OutboxPosition After);

/// <summary>
/// The durable queue of AI events between the pipeline and Core's ingest, so that events are not lost while Core is
/// away. Under <c>&lt;RecordingsRoot&gt;/.outbox/&lt;recorder id&gt;/events/</c>: <c>events-NNNNNN.jsonl</c>
/// (append-only JSON lines, fsync'd, a new file every <see cref="RollBytes"/>), <c>delivered.json</c> (the position
/// Core acknowledged, replaced atomically), <c>rejected.jsonl</c> (events Core refused with a 4xx). Unlike chunk
/// registrations (which the reconciler can rebuild from the files), events are bounded on disk: when the files pass
/// <c>Recorder:EventOutboxMaxBytes</c> the oldest file goes, and its undelivered events are counted in
/// <c>opennvr.recorder.events_dropped</c> (reason <c>outbox_full</c>). A torn last line is cut off at start-up.
/// </summary>
public sealed class EventOutbox : IDisposable
{
    private const string StateFile = "delivered.json";

    private readonly object _gate = new();
    private readonly string _dir;
    private readonly long _maxBytes;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly IDisposable _gauge;
    private OutboxPosition _delivered;
    private int _currentFile;
    private long _depth;

    public EventOutbox(string directory, long maxBytes, long rollBytes = 1024 * 1024)
    {
        _dir = directory;
        _maxBytes = Math.Max(rollBytes * 2, maxBytes);
        RollBytes = rollBytes;
        Directory.CreateDirectory(_dir);
        _delivered = ReadState();
        var files = ListFiles();
        _currentFile = files.Count > 0 ? Math.Max(files[^1], _delivered.File) : Math.Max(1, _delivered.File);
        if (files.Count > 0)
        {
            CutTornLine(FilePath(files[^1]));
        }

        _depth = ReadFrom(_delivered, int.MaxValue).LongCount();
        _gauge = RecorderTelemetry.ObserveEventOutboxDepth(this, () => Interlocked.Read(ref _depth));
    }

    public long RollBytes { get; }

    /// <summary>Events not yet acknowledged by Core.</summary>
    public long Depth => Interlocked.Read(ref _depth);

    /// <summary>Events dropped because the outbox was over its cap (since start).</summary>
    public long Dropped { get; private set; }

    public void Append(EventIngest e)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(e, CoreClient.Json) + "\n");
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
            EnforceCap();
        }

        _signal.Release();
    }

    public Task WaitForAppendAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public IReadOnlyList<EventOutboxEntry> Peek(int max)
    {
        lock (_gate)
        {
            return ReadFrom(_delivered, max).ToList();
        }
    }

    public void Acknowledge(IReadOnlyList<EventOutboxEntry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var position = entries[^1].After;
            if (Compare(position, _delivered) <= 0)
            {
                return; // the cap moved past these meanwhile
            }

            WriteState(position);
            _depth = Math.Max(0, _depth - entries.Count);
            _delivered = position;
            foreach (var file in ListFiles().Where(f => f < position.File))
            {
                File.Delete(FilePath(file));
            }

            if (position.File == _currentFile && position.Offset >= RollBytes)
            {
                _currentFile++;
            }
        }
    }

    public void DeadLetter(EventIngest e, string reason)
    {
        var line = JsonSerializer.Serialize(new { @event = e, reason, at_unix = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 }, CoreClient.Json) + "\n";
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

    /// <summary>Over the cap: whole files go, oldest first (never the one being written).</summary>
    private void EnforceCap()
    {
        var files = ListFiles();
        var total = files.Sum(f => new FileInfo(FilePath(f)).Length);
        foreach (var file in files)
        {
            if (total <= _maxBytes || file >= _currentFile)
            {
                break;
            }

            var size = new FileInfo(FilePath(file)).Length;
            var lost = file >= _delivered.File ? ReadFrom(_delivered.File == file ? _delivered : new OutboxPosition(file, 0), int.MaxValue).TakeWhile(e => e.After.File == file).LongCount() : 0;
            File.Delete(FilePath(file));
            total -= size;
            if (lost > 0)
            {
                _depth -= lost;
                Dropped += lost;
                RecorderTelemetry.EventsDropped.Add(lost, new KeyValuePair<string, object?>("reason", "outbox_full"));
            }

            if (_delivered.File <= file)
            {
                _delivered = new OutboxPosition(file + 1, 0);
                WriteState(_delivered);
            }
        }
    }

    private static int Compare(OutboxPosition a, OutboxPosition b) => a.File != b.File ? a.File.CompareTo(b.File) : a.Offset.CompareTo(b.Offset);

    private IEnumerable<EventOutboxEntry> ReadFrom(OutboxPosition from, int max)
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
                    break;
                }

                var line = bytes.AsSpan(index, end - index);
                index = end + 1;
                EventIngest? e = null;
                try
                {
                    e = JsonSerializer.Deserialize<EventIngest>(line, CoreClient.Json);
                }
                catch (JsonException)
                {
                    // An unreadable line (disk corruption) is skipped.
                }

                if (e is not null)
                {
                    count++;
                    yield return new EventOutboxEntry(e, new OutboxPosition(file, start + index));
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
            return [];
        }
    }

    private List<int> ListFiles() => Directory.EnumerateFiles(_dir, "events-*.jsonl")
        .Select(p => Path.GetFileNameWithoutExtension(p)["events-".Length..])
        .Select(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1)
        .Where(i => i >= 0)
        .Order()
        .ToList();

    private string FilePath(int file) => Path.Combine(_dir, $"events-{file.ToString("D6", CultureInfo.InvariantCulture)}.jsonl");

    private OutboxPosition ReadState()
    {
        var path = Path.Combine(_dir, StateFile);
        if (!File.Exists(path))
        {
            return new OutboxPosition(1, 0);
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return new OutboxPosition(doc.RootElement.GetProperty("file").GetInt32(), doc.RootElement.GetProperty("offset").GetInt64());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new OutboxPosition(1, 0); // unreadable state: re-send (Core stores a duplicate rather than nothing)
        }
    }

    private void WriteState(OutboxPosition position)
    {
        var path = Path.Combine(_dir, StateFile);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(JsonSerializer.SerializeToUtf8Bytes(new { file = position.File, offset = position.Offset }));
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
