namespace OpenNvr.Recorder.Live;

/// <summary>Why a viewer could not join.</summary>
public enum LiveJoinRefusal
{
    None,
    NotStreaming,
    TooManyViewers,
}

/// <summary>
/// One camera stream's live fan-out: a single feed (the ffmpeg run that already holds the camera connection) publishes
/// init segments and fragments; any number of viewers get them through their own bounded queues, and the HLS window
/// keeps the last seconds as segments and parts. Publishing never waits: a viewer that cannot keep up is dropped
/// (<see cref="LiveViewer"/>), so a viewer can never slow the feed, and the feed can never slow the recording.
/// A joining viewer gets the current init segment and the fragments since the last keyframe, so its picture starts
/// at once.
/// </summary>
public sealed class LiveSource
{
    private readonly Lock _gate = new();
    private readonly List<LiveViewer> _viewers = [];
    private readonly List<LiveFragment> _sinceKeyframe = [];
    private readonly LiveOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly LiveHlsWindow _hls;
    private TaskCompletionSource _changed = NewSignal();
    private CaptureClock _capture = new();
    private Fmp4Init? _init;
    private int _epoch;
    private long _nextSequence;
    private long _nextViewerId;
    private long _lastFragmentAt;

    public LiveSource(int cameraId, LiveStream stream, LiveOptions options, TimeProvider clock, ILogger logger)
    {
        CameraId = cameraId;
        Stream = stream;
        _options = options;
        _clock = clock;
        _logger = logger;
        _hls = new LiveHlsWindow(options);
    }

    public int CameraId { get; }

    public LiveStream Stream { get; }

    /// <summary>A feed is running (an ffmpeg run delivered its init segment and has not ended).</summary>
    public bool IsRunning { get; private set; }

    /// <summary>The init segment of the current run (codec, size), or null before the first one.</summary>
    public Fmp4Init? Init
    {
        get
        {
            lock (_gate)
            {
                return _init;
            }
        }
    }

    public int Epoch
    {
        get
        {
            lock (_gate)
            {
                return _epoch;
            }
        }
    }

    public int ViewerCount
    {
        get
        {
            lock (_gate)
            {
                return _viewers.Count;
            }
        }
    }

    /// <summary>Fragments published since the source was made.</summary>
    public long Fragments => Interlocked.Read(ref _nextSequence);

    /// <summary>Live now: running, and a fragment came within the idle limit.</summary>
    public bool IsLive => IsRunning && _clock.GetElapsedTime(Interlocked.Read(ref _lastFragmentAt)).TotalSeconds < _options.IdleCloseSeconds;

    /// <summary>A new ffmpeg run delivered its init segment: a new epoch (media time restarts).</summary>
    public void BeginRun(Fmp4Init init)
    {
        lock (_gate)
        {
            _epoch++;
            _init = init;
            _capture = new CaptureClock();
            _sinceKeyframe.Clear();
            _hls.AddInit(_epoch, init);
            IsRunning = true;
            var message = new LiveInitMessage(_epoch, Stream, init);
            foreach (var viewer in _viewers.ToList())
            {
                Offer(viewer, message);
            }

            Signal();
        }

        LiveLog.RunStarted(_logger, CameraId, Stream, init.Codec, init.Width, init.Height);
    }

    /// <summary>Publishes one fragment of the current run, which fully arrived at <paramref name="arrivedUnixMs"/>.</summary>
    public LiveFragment? Publish(Fmp4Fragment fragment, double arrivedUnixMs)
    {
        lock (_gate)
        {
            if (_init is not { } init || !IsRunning)
            {
                return null;
            }

            var start = fragment.BaseDecodeTime / (double)init.Timescale;
            var duration = fragment.Duration / (double)init.Timescale;
            var capture = _capture.Observe(start, start + duration, arrivedUnixMs);
            var live = new LiveFragment(_nextSequence, _epoch, fragment.Bytes, start, duration, fragment.StartsWithKeyframe, capture);
            Interlocked.Increment(ref _nextSequence);
            Interlocked.Exchange(ref _lastFragmentAt, _clock.GetTimestamp());
            if (live.IsKeyframe)
            {
                _sinceKeyframe.Clear();
            }

            if (live.IsKeyframe || _sinceKeyframe.Count > 0)
            {
                _sinceKeyframe.Add(live);
            }

            var message = new LiveFragmentMessage(live);
            foreach (var viewer in _viewers.ToList())
            {
                Offer(viewer, message);
            }

            if (_hls.Add(live))
            {
                Signal();
            }

            LiveTelemetry.Fragments.Add(1, LiveTelemetry.Tags(CameraId, Stream));
            LiveTelemetry.CaptureToPublish.Record(arrivedUnixMs - capture, LiveTelemetry.Tags(CameraId, Stream));
            return live;
        }
    }

    /// <summary>The ffmpeg run ended (camera dropped, restart, camera released). Viewers stay for the next run.</summary>
    public void EndRun()
    {
        lock (_gate)
        {
            IsRunning = false;
            _hls.EndRun();
            Signal();
        }
    }

    /// <summary>A new viewer with the init segment and the fragments since the last keyframe already queued.</summary>
    public LiveViewer? Join(out LiveJoinRefusal refusal)
    {
        lock (_gate)
        {
            if (_init is null || !IsRunning)
            {
                refusal = LiveJoinRefusal.NotStreaming;
                return null;
            }

            if (_viewers.Count >= _options.MaxViewersPerStream)
            {
                refusal = LiveJoinRefusal.TooManyViewers;
                return null;
            }

            var viewer = new LiveViewer(++_nextViewerId, Stream, _clock, _options.ViewerBufferBytes, TimeSpan.FromSeconds(_options.ViewerMaxLagSeconds));
            _viewers.Add(viewer);
            viewer.TryEnqueue(new LiveInitMessage(_epoch, Stream, _init));
            foreach (var fragment in _sinceKeyframe)
            {
                viewer.TryEnqueue(new LiveFragmentMessage(fragment));
            }

            refusal = LiveJoinRefusal.None;
            LiveTelemetry.ViewersJoined.Add(1, LiveTelemetry.Tags(CameraId, Stream));
            LiveLog.ViewerJoined(_logger, CameraId, Stream, viewer.Id, _viewers.Count);
            return viewer;
        }
    }

    /// <summary>The viewer went away (its connection closed, or it was dropped and its task ended).</summary>
    public void Leave(LiveViewer viewer, string reason)
    {
        lock (_gate)
        {
            if (!_viewers.Remove(viewer))
            {
                return;
            }
        }

        viewer.Drop(reason);
        LiveLog.ViewerLeft(_logger, CameraId, Stream, viewer.Id, viewer.DropReason ?? reason, viewer.SentFragments);
    }

    /// <summary>The live playlist once a segment is complete, else null.</summary>
    public string? Playlist()
    {
        lock (_gate)
        {
            return _hls.HasCompleteSegment ? _hls.RenderPlaylist() : null;
        }
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) for a condition on the HLS window; true when it holds.</summary>
    public async Task<bool> WaitForHlsAsync(Func<LiveHlsWindow, bool> condition, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _clock.GetTimestamp();
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (condition(_hls))
                {
                    return true;
                }

                changed = _changed.Task;
            }

            var left = timeout - _clock.GetElapsedTime(deadline);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await changed.WaitAsync(left, _clock, ct);
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    /// <summary>Reads the HLS window under the source's lock.</summary>
    public T ReadHls<T>(Func<LiveHlsWindow, T> read)
    {
        lock (_gate)
        {
            return read(_hls);
        }
    }

    private void Offer(LiveViewer viewer, LiveMessage message)
    {
        if (viewer.TryEnqueue(message))
        {
            return;
        }

        // Too slow: drop it here, without waiting for anything (its own task sees the drop and closes the connection).
        _viewers.Remove(viewer);
        var queued = viewer.QueuedBytes;
        viewer.Drop("slow");
        LiveTelemetry.ViewersDropped.Add(1, [.. LiveTelemetry.Tags(CameraId, Stream), new("reason", "slow")]);
        LiveLog.ViewerDropped(_logger, CameraId, Stream, viewer.Id, queued);
    }

    private void Signal()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
