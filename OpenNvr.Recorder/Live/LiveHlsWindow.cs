using System.Globalization;
using System.Text;

namespace OpenNvr.Recorder.Live;

/// <summary>
/// The live HLS view of one camera stream (RFC 8216 with the Low-Latency HLS additions of its second edition):
/// segments start at keyframes (so every segment is independent) once the previous one is at least
/// <c>Live:HlsMinSegmentSeconds</c> long; each segment is made of parts of at most <c>Live:HlsPartSeconds</c>, built from
/// ffmpeg's per-frame fragments, and a part is published as soon as it is complete. Players that know LL-HLS (hls.js,
/// Safari) follow the parts and block on the next one (<c>_HLS_msn</c>/<c>_HLS_part</c>, preload hint); players that do
/// not (ffmpeg, ffplay, mpv) read the whole segments. Every segment carries <c>EXT-X-PROGRAM-DATE-TIME</c> = the capture
/// time of its first frame. A new ffmpeg run (new init segment) starts a new segment after <c>EXT-X-DISCONTINUITY</c>
/// with its own <c>EXT-X-MAP</c>. URIs end in <c>.mp4</c> (init) and <c>.m4s</c> (media) so that every player accepts them.
/// Not thread-safe: <see cref="LiveSource"/> calls it under its lock.
/// </summary>
public sealed class LiveHlsWindow(LiveOptions options)
{
    private const double Epsilon = 1e-6;

    private readonly List<HlsSegment> _segments = [];
    private readonly Dictionary<int, Fmp4Init> _inits = [];
    private long _nextMsn;
    private long _removedDiscontinuities;
    private double _longestSegment;
    private double _keyframeInterval;
    private double? _lastKeyframeAt;
    private int _lastEpoch = -1;

    public double PartTarget => options.HlsPartSeconds;

    /// <summary>EXT-X-TARGETDURATION: the longest segment so far, rounded up (it only ever grows, as players expect).</summary>
    public int TargetDuration => Math.Max(1, (int)Math.Ceiling(_longestSegment - 0.001));

    /// <summary>True once a segment is complete: a playlist can be served.</summary>
    public bool HasCompleteSegment => _segments.Any(s => s.Complete);

    public long? LastMsn => _segments.Count > 0 ? _segments[^1].Msn : null;

    public void AddInit(int epoch, Fmp4Init init) => _inits[epoch] = init;

    public Fmp4Init? Init(int epoch) => _inits.GetValueOrDefault(epoch);

    /// <summary>The run ended: its last segment is complete as it is.</summary>
    public void EndRun()
    {
        if (_segments.Count > 0 && !_segments[^1].Complete)
        {
            CompleteSegment(_segments[^1]);
        }
    }

    /// <summary>Adds a fragment; true when a part (and possibly a segment) was completed.</summary>
    public bool Add(LiveFragment fragment)
    {
        if (fragment.IsKeyframe)
        {
            if (_lastKeyframeAt is { } previous && fragment.Epoch == _lastEpoch && fragment.MediaStartSeconds > previous)
            {
                _keyframeInterval = fragment.MediaStartSeconds - previous;
            }

            _lastKeyframeAt = fragment.MediaStartSeconds;
        }

        var current = _segments.Count > 0 && !_segments[^1].Complete ? _segments[^1] : null;
        var changed = false;
        if (current is not null && (fragment.Epoch != current.Epoch ||
                                    (fragment.IsKeyframe && current.Duration >= options.HlsMinSegmentSeconds - Epsilon)))
        {
            CompleteSegment(current);
            current = null;
            changed = true;
        }

        if (current is null)
        {
            if (!fragment.IsKeyframe)
            {
                // A segment (and a player joining at it) must start with a keyframe.
                return changed;
            }

            current = new HlsSegment(_nextMsn++, fragment.Epoch, fragment.CaptureUnixMs,
                Discontinuity: _lastEpoch >= 0 && fragment.Epoch != _lastEpoch);
            _lastEpoch = fragment.Epoch;
            _segments.Add(current);
            Trim();
        }

        var part = current.Parts.Count > 0 && !current.Parts[^1].Complete ? current.Parts[^1] : null;
        if (part is not null && part.Duration + fragment.DurationSeconds > options.HlsPartSeconds + Epsilon)
        {
            part.Finish();
            part = null;
            changed = true;
        }

        if (part is null)
        {
            part = new HlsPart(current.Parts.Count, fragment.IsKeyframe);
            current.Parts.Add(part);
        }

        part.Append(fragment);
        if (part.Duration >= options.HlsPartSeconds - 0.001)
        {
            // Full: publish it now rather than when the next frame arrives.
            part.Finish();
            changed = true;
        }

        return changed;
    }

    /// <summary>True when segment <paramref name="msn"/> (and, given <paramref name="part"/>, that part of it) is complete or already gone.</summary>
    public bool IsAvailable(long msn, int? part)
    {
        if (_segments.Count == 0)
        {
            return false;
        }

        if (msn < _segments[0].Msn)
        {
            return true;
        }

        var segment = Find(msn);
        if (segment is null)
        {
            return false;
        }

        return part is null ? segment.Complete : segment.Complete || (part < segment.Parts.Count && segment.Parts[part.Value].Complete);
    }

    /// <summary>The bytes of a complete segment, or null.</summary>
    public byte[]? Segment(long msn) => Find(msn) is { Complete: true } segment ? segment.Bytes() : null;

    /// <summary>The bytes of a complete part, or null.</summary>
    public byte[]? Part(long msn, int index) =>
        Find(msn) is { } segment && index >= 0 && index < segment.Parts.Count && segment.Parts[index].Complete ? segment.Parts[index].Bytes : null;

    /// <summary>
    /// The part a player will ask for next (the preload hint): (msn, index). When the open segment has run for a
    /// whole keyframe interval, the next fragment is expected to be a keyframe, which opens the next segment.
    /// </summary>
    public (long Msn, int Part)? NextPart()
    {
        if (_segments.Count == 0)
        {
            return null;
        }

        var last = _segments[^1];
        if (last.Complete)
        {
            return (last.Msn + 1, 0);
        }

        var open = last.Parts.Count > 0 && !last.Parts[^1].Complete;
        if (!open && _keyframeInterval > 0 && last.Duration >= Math.Max(_keyframeInterval, options.HlsMinSegmentSeconds) - 0.001)
        {
            return (last.Msn + 1, 0);
        }

        return (last.Msn, open ? last.Parts.Count - 1 : last.Parts.Count);
    }

    /// <summary>True when waiting for part <paramref name="part"/> of segment <paramref name="msn"/> is over: it is complete, or it never will be.</summary>
    public bool IsPartSettled(long msn, int part) =>
        Part(msn, part) is not null || (Find(msn) is { Complete: true }) || (_segments.Count > 0 && msn < _segments[0].Msn) ||
        (LastMsn is { } last && msn < last);

    public string RenderPlaylist()
    {
        var inv = CultureInfo.InvariantCulture;
        // The open segment is listed once it has a complete part (its tags would otherwise announce nothing).
        var listed = _segments.Where(s => s.Complete || s.Parts.Any(p => p.Complete)).ToList();
        var first = listed[0];
        var discontinuitySequence = _removedDiscontinuities + (first.Discontinuity ? 1 : 0);
        var text = new StringBuilder()
            .Append("#EXTM3U\n#EXT-X-VERSION:9\n")
            .Append(inv, $"#EXT-X-TARGETDURATION:{TargetDuration}\n")
            .Append(inv, $"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={3 * options.HlsPartSeconds:0.###}\n")
            .Append(inv, $"#EXT-X-PART-INF:PART-TARGET={options.HlsPartSeconds:0.###}\n")
            .Append(inv, $"#EXT-X-MEDIA-SEQUENCE:{first.Msn}\n")
            .Append(inv, $"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuitySequence}\n")
            .Append("#EXT-X-INDEPENDENT-SEGMENTS\n");

        // Parts are listed for the segments of the last three target durations (older ones only as whole segments).
        var partsFrom = listed.Count;
        var recent = 0.0;
        for (var i = listed.Count - 1; i >= 0 && recent < 3 * TargetDuration; i--)
        {
            partsFrom = i;
            recent += listed[i].Duration;
        }

        for (var i = 0; i < listed.Count; i++)
        {
            var segment = listed[i];
            if (i > 0 && segment.Discontinuity)
            {
                text.Append("#EXT-X-DISCONTINUITY\n");
            }

            if (i == 0 || segment.Epoch != listed[i - 1].Epoch)
            {
                text.Append(inv, $"#EXT-X-MAP:URI=\"init-{segment.Epoch}.mp4\"\n");
            }

            text.Append(inv, $"#EXT-X-PROGRAM-DATE-TIME:{DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(segment.CaptureUnixMs)).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\n");
            if (i >= partsFrom)
            {
                foreach (var part in segment.Parts.Where(p => p.Complete))
                {
                    text.Append(inv, $"#EXT-X-PART:DURATION={part.Duration:0.00000},URI=\"part-{segment.Msn}.{part.Index}.m4s\"")
                        .Append(part.Independent ? ",INDEPENDENT=YES\n" : "\n");
                }
            }

            if (segment.Complete)
            {
                text.Append(inv, $"#EXTINF:{segment.Duration:0.00000},\n").Append(inv, $"seg-{segment.Msn}.m4s\n");
            }
        }

        if (NextPart() is { } hint)
        {
            text.Append(inv, $"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-{hint.Msn}.{hint.Part}.m4s\"\n");
        }

        return text.ToString();
    }

    private HlsSegment? Find(long msn)
    {
        if (_segments.Count == 0)
        {
            return null;
        }

        var index = msn - _segments[0].Msn;
        return index >= 0 && index < _segments.Count ? _segments[(int)index] : null;
    }

    private void CompleteSegment(HlsSegment segment)
    {
        if (segment.Parts.Count > 0)
        {
            segment.Parts[^1].Finish();
        }

        segment.Complete = true;
        _longestSegment = Math.Max(_longestSegment, segment.Duration);
    }

    private void Trim()
    {
        // Keep at least the window of complete segments (and never fewer than three), then forget older ones.
        while (_segments.Count > 4)
        {
            var kept = _segments.Skip(1).Where(s => s.Complete).Sum(s => s.Duration);
            if (kept < options.HlsWindowSeconds)
            {
                break;
            }

            if (_segments[0].Discontinuity)
            {
                _removedDiscontinuities++;
            }

            _segments.RemoveAt(0);
        }

        var epochs = _segments.Select(s => s.Epoch).ToHashSet();
        foreach (var epoch in _inits.Keys.Where(e => !epochs.Contains(e) && e < _lastEpoch).ToList())
        {
            _inits.Remove(epoch);
        }
    }

    private sealed record HlsSegment(long Msn, int Epoch, double CaptureUnixMs, bool Discontinuity)
    {
        private byte[]? _bytes;

        public List<HlsPart> Parts { get; } = [];

        public bool Complete { get; set; }

        public double Duration => Parts.Sum(p => p.Duration);

        public byte[] Bytes()
        {
            if (_bytes is null)
            {
                var all = new byte[Parts.Sum(p => p.Bytes!.Length)];
                var at = 0;
                foreach (var part in Parts)
                {
                    part.Bytes!.CopyTo(all, at);
                    at += part.Bytes.Length;
                }

                _bytes = all;
            }

            return _bytes;
        }
    }

    private sealed class HlsPart(int index, bool independent)
    {
        private List<byte[]>? _fragments = [];

        public int Index { get; } = index;

        public bool Independent { get; } = independent;

        public double Duration { get; private set; }

        public bool Complete => Bytes is not null;

        public byte[]? Bytes { get; private set; }

        public void Append(LiveFragment fragment)
        {
            _fragments!.Add(fragment.Bytes);
            Duration += fragment.DurationSeconds;
        }

        public void Finish()
        {
            if (_fragments is null)
            {
                return;
            }

            var all = new byte[_fragments.Sum(f => f.Length)];
            var at = 0;
            foreach (var fragment in _fragments)
            {
                fragment.CopyTo(all, at);
                at += fragment.Length;
            }

            Bytes = all;
            _fragments = null;
        }
    }
}
