using System.Threading.Channels;

namespace OpenNvr.Recorder.Live;

/// <summary>Which of a camera's streams: the main stream (recorded) or the sub-stream (decoded for analytics).</summary>
public enum LiveStream
{
    Main,
    Sub,
}

/// <summary>One fragment of a live stream with its place in time.</summary>
/// <param name="Sequence">Increases by one per fragment of the source, across runs.</param>
/// <param name="Epoch">The ffmpeg run (init segment) it belongs to.</param>
/// <param name="MediaStartSeconds">Decode time of its first frame in the run's media time.</param>
/// <param name="CaptureUnixMs">Wall-clock capture time of its first frame (<see cref="CaptureClock"/>).</param>
public sealed record LiveFragment(long Sequence, int Epoch, byte[] Bytes, double MediaStartSeconds, double DurationSeconds, bool IsKeyframe, double CaptureUnixMs);

/// <summary>What a viewer receives: a new init segment (first, and after every restart of the camera's ffmpeg) or a fragment.</summary>
public abstract record LiveMessage(int Bytes);

public sealed record LiveInitMessage(int Epoch, LiveStream Stream, Fmp4Init Init) : LiveMessage(Init.Bytes.Length);

public sealed record LiveFragmentMessage(LiveFragment Fragment) : LiveMessage(Fragment.Bytes.Length);

/// <summary>
/// One viewer's queue. The source puts messages in without ever waiting (<see cref="TryEnqueue"/>); the viewer's own
/// task takes them out and sends them. A viewer whose queue holds more than <c>Live:ViewerBufferBytes</c>, or whose
/// oldest message waited longer than <c>Live:ViewerMaxLagSeconds</c>, is dropped: its queue is completed and
/// <see cref="Dropped"/> fires, which aborts a send that hangs on a client that stopped reading.
/// </summary>
public sealed class LiveViewer : IDisposable
{
    private readonly Channel<(LiveMessage Message, long EnqueuedAt)> _queue =
        Channel.CreateUnbounded<(LiveMessage, long)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private readonly CancellationTokenSource _dropped = new();
    private readonly TimeProvider _clock;
    private readonly long _maxBytes;
    private readonly TimeSpan _maxLag;
    private readonly Lock _gate = new();
    private long _queuedBytes;
    private long _oldestEnqueuedAt;
    private int _queuedCount;

    internal LiveViewer(long id, LiveStream stream, TimeProvider clock, long maxBytes, TimeSpan maxLag)
    {
        Id = id;
        Stream = stream;
        _clock = clock;
        _maxBytes = maxBytes;
        _maxLag = maxLag;
    }

    public long Id { get; }

    /// <summary>The stream this viewer gets (a sub-stream request is served the main stream when there is no sub-stream).</summary>
    public LiveStream Stream { get; }

    /// <summary>Why the viewer was dropped (<c>slow</c>, <c>closed</c>), or null while it is served.</summary>
    public string? DropReason { get; private set; }

    /// <summary>Cancelled when the viewer is dropped.</summary>
    public CancellationToken Dropped => _dropped.Token;

    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _queuedBytes;
            }
        }
    }

    public long SentBytes { get; private set; }

    public long SentFragments { get; private set; }

    /// <summary>Called by the source (one writer at a time, under its lock). False: the viewer is too slow and was dropped.</summary>
    internal bool TryEnqueue(LiveMessage message)
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            if (DropReason is not null ||
                (_queuedCount > 0 && _clock.GetElapsedTime(_oldestEnqueuedAt, now) > _maxLag) ||
                _queuedBytes + message.Bytes > _maxBytes ||
                !_queue.Writer.TryWrite((message, now)))
            {
                return false;
            }

            if (++_queuedCount == 1)
            {
                _oldestEnqueuedAt = now;
            }

            _queuedBytes += message.Bytes;
            return true;
        }
    }

    /// <summary>The next message to send, or null when the viewer was dropped or closed.</summary>
    public async ValueTask<LiveMessage?> NextAsync(CancellationToken ct)
    {
        do
        {
            if (TryNext(out var message))
            {
                return message;
            }
        }
        while (await _queue.Reader.WaitToReadAsync(ct));

        return null;
    }

    /// <summary>Takes the next message if one is queued.</summary>
    public bool TryNext(out LiveMessage message)
    {
        lock (_gate)
        {
            if (!_queue.Reader.TryRead(out var item))
            {
                message = null!;
                return false;
            }

            message = item.Message;
            _queuedBytes -= message.Bytes;
            if (--_queuedCount > 0 && _queue.Reader.TryPeek(out var next))
            {
                _oldestEnqueuedAt = next.EnqueuedAt;
            }
        }

        SentBytes += message.Bytes;
        if (message is LiveFragmentMessage)
        {
            SentFragments++;
        }

        return true;
    }

    internal void Drop(string reason)
    {
        lock (_gate)
        {
            if (DropReason is not null)
            {
                return;
            }

            DropReason = reason;
            _queue.Writer.TryComplete();
        }

        try
        {
            _dropped.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _dropped.Dispose();
}
