using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using OpenNvr.Recorder.Live;
using OpenNvr.Recorder.Recording;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Live;

/// <summary>Live view's parts on real fragmented MP4 written by ffmpeg with the Recorder's own live output arguments.</summary>
public sealed class LiveUnitTests
{
    /// <summary>4 s of vtest.mp4 (768x576 H.264 Main, 10 fps, a keyframe every 2 s) as the Recorder's live output would carry it.</summary>
    private static async Task<byte[]> LiveOutputOfVtestAsync(double seconds = 4)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-hide_banner", "-loglevel", "error", "-t", seconds.ToString(CultureInfo.InvariantCulture), "-i", RepositoryPaths.TestData("video", "vtest.mp4") }
                     .Concat(FfmpegSegmenter.LiveOutputArguments("pipe:1")))
        {
            start.ArgumentList.Add(arg);
        }

        using var ffmpeg = Process.Start(start)!;
        using var output = new MemoryStream();
        var errors = ffmpeg.StandardError.ReadToEndAsync();
        await ffmpeg.StandardOutput.BaseStream.CopyToAsync(output);
        await ffmpeg.WaitForExitAsync();
        Assert.True(ffmpeg.ExitCode == 0, await errors);
        return output.ToArray();
    }

    private static (Fmp4Init Init, List<Fmp4Fragment> Fragments) Split(byte[] stream, int readSize)
    {
        var splitter = new Fmp4StreamSplitter();
        Fmp4Init? init = null;
        var fragments = new List<Fmp4Fragment>();
        splitter.InitSegment += bytes => init = Fmp4.ParseInit(bytes);
        splitter.Fragment += bytes => fragments.Add(Fmp4.ParseFragment(bytes, init!.Defaults));
        for (var offset = 0; offset < stream.Length; offset += readSize)
        {
            splitter.Feed(stream.AsSpan(offset, Math.Min(readSize, stream.Length - offset)));
        }

        return (init!, fragments);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7_919)]
    [InlineData(1_048_576)]
    public async Task Live_output_splits_into_the_init_segment_and_one_fragment_per_frame_whatever_the_read_size(int readSize)
    {
        var stream = await LiveOutputOfVtestAsync();
        var (init, fragments) = Split(stream, readSize);

        // Main profile (0x4D), level 3.1 (0x1F), as ffprobe reports for vtest.mp4.
        Assert.Equal("avc1.4D401F", init.Codec);
        Assert.Equal((768, 576), (init.Width, init.Height));
        Assert.True(init.Timescale > 0);

        // 4 s at 10 fps: 40 frames, one fragment each, back to back in media time.
        Assert.Equal(40, fragments.Count);
        Assert.All(fragments, f => Assert.Equal(1, f.Samples));
        for (var i = 1; i < fragments.Count; i++)
        {
            Assert.Equal(fragments[i - 1].BaseDecodeTime + fragments[i - 1].Duration, fragments[i].BaseDecodeTime);
        }

        Assert.Equal(4.0, fragments.Sum(f => (double)f.Duration) / init.Timescale, 3);

        // Keyframes exactly where ffprobe sees them (vtest.mp4: every 2 s).
        var keyframeTimes = fragments.Where(f => f.StartsWithKeyframe).Select(f => Math.Round((double)f.BaseDecodeTime / init.Timescale, 3)).ToList();
        Assert.Equal([0.0, 2.0], keyframeTimes);

        // The bytes are the stream: init + fragments reassemble it exactly.
        Assert.Equal(stream.Length, init.Bytes.Length + fragments.Sum(f => f.Bytes.Length));
    }

    [Fact]
    public async Task A_corrupt_box_size_is_invalid_data_not_an_out_of_range_read()
    {
        var stream = await LiveOutputOfVtestAsync(1);
        var (init, fragments) = Split(stream, 4096);
        var fragment = (byte[])fragments[1].Bytes.Clone();
        fragment[8 + 3] = 0xFF; // the mfhd box inside the moof now claims more bytes than the moof holds
        Assert.Throws<InvalidDataException>(() => Fmp4.ParseFragment(fragment, init.Defaults));

        var splitter = new Fmp4StreamSplitter();
        var garbage = new byte[] { 0x7F, 0xFF, 0xFF, 0xFF, (byte)'m', (byte)'d', (byte)'a', (byte)'t' };
        Assert.Throws<InvalidDataException>(() => splitter.Feed(garbage));
        Assert.Throws<InvalidDataException>(() => Fmp4.ParseInit(fragments[0].Bytes));
    }

    [Fact]
    public void Capture_clock_takes_the_fastest_arrival_and_is_not_fooled_by_a_backlog_burst()
    {
        var clock = new CaptureClock();
        const double t0 = 1_800_000_000_000;

        // A backlog of 2 s of frames arrives in one burst at t0 (frames 0..1.9 s); the newest was captured at t0.
        for (var i = 0; i < 20; i++)
        {
            clock.Observe(i * 0.1, (i + 1) * 0.1, t0 + (i * 2));
        }

        // From then on, frames arrive in real time 30 ms after their capture (plus jitter that only ever adds).
        double capture = 0;
        for (var i = 20; i < 60; i++)
        {
            var jitter = i % 3 == 0 ? 40 : 0;
            capture = clock.Observe(i * 0.1, (i + 1) * 0.1, t0 + ((i + 1 - 20) * 100) + 30 + jitter);
        }

        // Frame 59 (media 5.9 s) was captured 3.9 s after the newest backlog frame (media 2.0 s end ~ t0).
        Assert.InRange(capture - t0, 3900 - 5, 3900 + 35);

        // A camera whose clock runs slow by 0.05 %: the estimate follows within the allowed drift.
        var slow = new CaptureClock();
        double last = 0;
        for (var i = 0; i < 6000; i++)
        {
            var media = i * 0.1;
            var arrived = t0 + (media * 1000 * 1.0005) + 20;
            last = arrived - slow.Observe(media, media + 0.1, arrived);
        }

        Assert.InRange(last, 0, 200);
    }

    [Fact]
    public async Task Hls_window_cuts_segments_at_keyframes_and_parts_of_at_most_the_target_with_program_date_time()
    {
        var stream = await LiveOutputOfVtestAsync(8);
        var (init, fragments) = Split(stream, 65536);
        var options = new LiveOptions { HlsPartSeconds = 0.5, HlsMinSegmentSeconds = 1, HlsWindowSeconds = 4 };
        var window = new LiveHlsWindow(options);
        window.AddInit(1, init);
        const double capture0 = 1_800_000_000_000;
        long sequence = 0;
        foreach (var f in fragments)
        {
            var start = (double)f.BaseDecodeTime / init.Timescale;
            window.Add(new LiveFragment(sequence++, 1, f.Bytes, start, (double)f.Duration / init.Timescale, f.StartsWithKeyframe, capture0 + (start * 1000)));
        }

        var playlist = window.RenderPlaylist();
        var lines = playlist.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("#EXTM3U", lines[0]);
        Assert.Contains("#EXT-X-TARGETDURATION:2", lines);
        Assert.Contains("#EXT-X-PART-INF:PART-TARGET=0.5", lines);
        Assert.Contains(lines, l => l.StartsWith("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5", StringComparison.Ordinal));
        Assert.Contains("#EXT-X-MAP:URI=\"init-1.mp4\"", lines);

        // Segments are whole GOPs (2 s): 0-2, 2-4, 4-6 complete; 6-8 open (its parts listed). The window (4 s) keeps
        // at least 4 segments.
        var segments = lines.Where(l => l.StartsWith("seg-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["seg-0.m4s", "seg-1.m4s", "seg-2.m4s"], segments);
        Assert.All(lines.Where(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal)), l => Assert.Equal("#EXTINF:2.00000,", l));
        var parts = lines.Where(l => l.StartsWith("#EXT-X-PART:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(parts);
        Assert.All(parts, p => Assert.Contains("DURATION=0.50000", p, StringComparison.Ordinal));
        Assert.All(parts.Where(p => p.Contains("part-3.0.m4s", StringComparison.Ordinal) || p.Contains(".0.m4s", StringComparison.Ordinal)),
            p => Assert.EndsWith(",INDEPENDENT=YES", p, StringComparison.Ordinal));
        // Segment 3 has run a whole keyframe interval (2 s): the next fragment is a keyframe, which opens segment 4.
        Assert.Contains("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-4.0.m4s\"", lines);
        Assert.False(window.IsPartSettled(3, 4));

        // Program date-times are the capture times of each segment's first frame.
        var dates = lines.Where(l => l.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            .Select(l => DateTimeOffset.Parse(l["#EXT-X-PROGRAM-DATE-TIME:".Length..], CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() - (long)capture0).ToList();
        Assert.Equal([0L, 2000L, 4000L, 6000L], dates);

        // A segment's bytes are its parts' bytes; the parts are the fragments.
        var segment1 = window.Segment(1)!;
        var expected = fragments.Where(f => f.BaseDecodeTime >= 2 * init.Timescale && f.BaseDecodeTime < 4 * init.Timescale).SelectMany(f => f.Bytes).ToArray();
        Assert.Equal(expected, segment1);
        Assert.Equal(segment1, Enumerable.Range(0, 4).SelectMany(i => window.Part(1, i)!).ToArray());
        Assert.Null(window.Part(1, 4));
        Assert.True(window.IsAvailable(1, null));
        Assert.False(window.IsAvailable(3, null));
        Assert.True(window.IsAvailable(3, 0));
    }

    [Fact]
    public async Task A_new_ffmpeg_run_is_a_discontinuity_with_its_own_map_and_old_segments_leave_the_window()
    {
        var stream = await LiveOutputOfVtestAsync(6);
        var (init, fragments) = Split(stream, 65536);
        var window = new LiveHlsWindow(new LiveOptions { HlsPartSeconds = 0.5, HlsMinSegmentSeconds = 1, HlsWindowSeconds = 4 });
        long sequence = 0;
        for (var epoch = 1; epoch <= 3; epoch++)
        {
            window.AddInit(epoch, init);
            foreach (var f in fragments)
            {
                var start = (double)f.BaseDecodeTime / init.Timescale;
                window.Add(new LiveFragment(sequence++, epoch, f.Bytes, start, (double)f.Duration / init.Timescale, f.StartsWithKeyframe, 1e12 + (sequence * 100)));
            }

            window.EndRun();
        }

        var lines = window.RenderPlaylist().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // 9 segments made (3 per run); the window keeps the newest ones (at least 4 s beyond the first).
        Assert.Contains("#EXT-X-MEDIA-SEQUENCE:5", lines);
        Assert.Equal(["seg-5.m4s", "seg-6.m4s", "seg-7.m4s", "seg-8.m4s"], lines.Where(l => l.StartsWith("seg-", StringComparison.Ordinal)).ToList());
        // Segment 6 opens run 3: one discontinuity (removed ones counted in the sequence: runs 2 and 3 started at 3 and 6).
        Assert.Equal(1, lines.Count(l => l == "#EXT-X-DISCONTINUITY"));
        Assert.Contains("#EXT-X-DISCONTINUITY-SEQUENCE:1", lines);
        Assert.Equal(["#EXT-X-MAP:URI=\"init-2.mp4\"", "#EXT-X-MAP:URI=\"init-3.mp4\""], lines.Where(l => l.StartsWith("#EXT-X-MAP", StringComparison.Ordinal)).ToList());
        Assert.Null(window.Init(1));
        Assert.NotNull(window.Init(3));
        Assert.Null(window.Segment(4));
    }

    [Fact]
    public async Task A_viewer_that_does_not_read_is_dropped_while_the_others_get_every_fragment_and_publishing_never_waits()
    {
        var stream = await LiveOutputOfVtestAsync(8);
        var (init, fragments) = Split(stream, 65536);
        var options = new LiveOptions { ViewerBufferBytes = 256 * 1024, ViewerMaxLagSeconds = 60 };
        var source = new LiveSource(1, LiveStream.Main, options, TimeProvider.System, NullLogger.Instance);
        source.BeginRun(init);
        var readers = Enumerable.Range(0, 8).Select(i => source.Join(out var refusal)!).ToList();
        var slow = source.Join(out _)!;
        var received = readers.Select(_ => 0).ToArray();
        foreach (var fragment in fragments)
        {
            Assert.NotNull(source.Publish(fragment, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            for (var r = 0; r < readers.Count; r++)
            {
                while (readers[r].TryNext(out var message))
                {
                    received[r] += message is LiveFragmentMessage ? 1 : 0;
                }
            }
        }

        Assert.Equal("slow", slow.DropReason);
        Assert.True(slow.Dropped.IsCancellationRequested);
        Assert.Equal(8, source.ViewerCount);
        Assert.All(received, count => Assert.Equal(fragments.Count, count));
        Assert.All(readers, r => Assert.Null(r.DropReason));
        // The slow one held at most its buffer; nothing was queued beyond it.
        Assert.InRange(slow.QueuedBytes, 0, options.ViewerBufferBytes);
    }
}
