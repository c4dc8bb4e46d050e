using System.Diagnostics;
using System.Text;
using OpenNvr.Contracts;
using OpenNvr.Contracts.Internal;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

public sealed class SegmentListTests
{
    [Theory]
    [InlineData("45-24.mp4,0.000000,5.900000", "45-24.mp4", 0.0, 5.9)]
    [InlineData("\"a,b\"\"c.mp4\",10.5,20.25", "a,b\"c.mp4", 10.5, 20.25)]
    public void Parses_ffmpeg_csv_lines(string line, string name, double start, double end)
    {
        var entry = SegmentList.Parse(line)!;
        Assert.Equal((name, start, end), (entry.FileName, entry.StartSeconds, entry.EndSeconds));
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-times.mp4")]
    [InlineData("x.mp4,abc,1")]
    [InlineData("x.mp4,5,1")]
    [InlineData("x.mp4,1,2,3")]
    [InlineData("\"unterminated.mp4,1,2")]
    public void Refuses_what_is_not_an_entry(string line) => Assert.Null(SegmentList.Parse(line));

    [Fact]
    public void Reads_only_complete_new_lines()
    {
        var path = Path.Combine(TestTemp.NewFolder("seglist"), "list.csv");
        var list = new SegmentList(path);
        Assert.Empty(list.ReadNew());
        File.WriteAllText(path, "a.mp4,0,10\nb.mp4,10,2");
        Assert.Equal(["a.mp4"], list.ReadNew().Select(e => e.FileName));
        File.AppendAllText(path, "0\n");
        var second = Assert.Single(list.ReadNew());
        Assert.Equal(("b.mp4", 10.0, 20.0), (second.FileName, second.StartSeconds, second.EndSeconds));
        Assert.Empty(list.ReadNew());
    }
}

public sealed class ChunkClockTests
{
    [Fact]
    public void A_segment_whose_listed_start_precedes_the_previous_end_starts_where_that_one_ended()
    {
        // Seen under load: ffmpeg listed [0, 5.9] then [5.8, 9.9] (the first one's end is its last packet's pts plus
        // duration, one frame past the keyframe that opened the next).
        var clock = new ChunkClock();
        clock.SegmentOpened(1, 1003.3, 5.9);
        Assert.Equal((997.4, 1003.3), Round(clock.Place(new SegmentListEntry("a", 0, 5.9))!.Value));
        Assert.Equal((1003.3, 1007.3), Round(clock.Place(new SegmentListEntry("b", 5.8, 9.9))!.Value));
    }

    [Fact]
    public void Anchors_on_the_second_segment_and_places_chunks_back_to_back()
    {
        var clock = new ChunkClock();
        // The first segment opened after probing, with 2.6 s already buffered: its open time is not used.
        clock.SegmentOpened(0, 1000.0, 0);
        Assert.Null(clock.Place(new SegmentListEntry("a", 0, 5.9)));
        clock.SegmentOpened(1, 1003.3, 5.9);
        Assert.Equal((997.4, 1003.3), Round(clock.Place(new SegmentListEntry("a", 0, 5.9))!.Value));
        Assert.Equal((1003.3, 1007.3), Round(clock.Place(new SegmentListEntry("b", 5.9, 9.9))!.Value));
        // Jitter under the threshold keeps the anchor: chunks stay contiguous.
        clock.SegmentOpened(2, 1007.9, 9.9);
        Assert.Equal(997.4, Math.Round(clock.Anchor!.Value, 3));
        Assert.Equal(0, clock.Reanchors);
        // A drift beyond it moves the anchor (the index shows the truth).
        clock.SegmentOpened(3, 1020.0, 13.9);
        Assert.Equal(1006.1, Math.Round(clock.Anchor!.Value, 3));
        Assert.Equal(1, clock.Reanchors);
    }

    [Fact]
    public void Without_an_anchor_a_segment_ends_at_the_given_wall_clock() =>
        Assert.Equal((95.5, 100.0), ChunkClock.PlaceByEnd(4.5, 100.0));

    private static (double, double) Round((double Start, double End) v) => (Math.Round(v.Start, 3), Math.Round(v.End, 3));
}

public sealed class JpegSplitterTests
{
    [Fact]
    public void Splits_a_stream_of_jpegs_on_markers_whatever_the_read_boundaries()
    {
        var one = File.ReadAllBytes(RepositoryPaths.TestData("persons", "astronaut.jpg"));
        var two = File.ReadAllBytes(RepositoryPaths.TestData("persons", "grace_hopper.jpg"));
        var stream = one.Concat(two).Concat(one).ToArray();
        foreach (var chunk in new[] { 1, 7, 4096, stream.Length })
        {
            var splitter = new JpegSplitter();
            var frames = new List<byte[]>();
            for (var i = 0; i < stream.Length; i += chunk)
            {
                splitter.Feed(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)), f => frames.Add(f.ToArray()));
            }

            Assert.Equal(3, frames.Count);
            Assert.Equal(one, frames[0]);
            Assert.Equal(two, frames[1]);
            Assert.Equal(one, frames[2]);
        }
    }
}

public sealed class ChunkOutboxTests
{
    private static ChunkRegistration Chunk(int i) =>
        new(1, $"1/2026-11-27/13/{i:D2}-00.mp4", 1000 + i * 10, 1010 + i * 10, 10, 1000 + i, "h264", 768, 576);

    [Fact]
    public void Survives_restarts_delivers_in_order_and_forgets_only_what_was_acknowledged()
    {
        var dir = TestTemp.NewFolder("outbox");
        using (var outbox = new ChunkOutbox(dir))
        {
            for (var i = 0; i < 5; i++)
            {
                outbox.Append(Chunk(i));
            }

            var first = outbox.Peek(2);
            Assert.Equal([Chunk(0), Chunk(1)], first.Select(e => e.Chunk));
            outbox.Acknowledge(first);
            Assert.Equal(3, outbox.Depth);
            Assert.False(outbox.IsPending(1, Chunk(1).Path));
            Assert.True(outbox.IsPending(1, Chunk(2).Path));
        }

        // A power cut in the middle of an append leaves a torn line: it is cut at the next start.
        var file = Directory.GetFiles(dir, "chunks-*.jsonl").Single();
        File.AppendAllText(file, "{\"camera_id\":1,\"path\":\"1/torn");

        using (var reopened = new ChunkOutbox(dir))
        {
            Assert.Equal(3, reopened.Depth);
            Assert.Equal([Chunk(2), Chunk(3), Chunk(4)], reopened.Peek(10).Select(e => e.Chunk));
            Assert.Equal(1010 + 1 * 10, reopened.AcknowledgedEnd(1));
            reopened.Append(Chunk(5));
            var rest = reopened.Peek(10);
            Assert.Equal([Chunk(2), Chunk(3), Chunk(4), Chunk(5)], rest.Select(e => e.Chunk));
            reopened.Acknowledge(rest);
            Assert.Equal(0, reopened.Depth);
            Assert.Empty(reopened.Peek(10));
        }

        using var again = new ChunkOutbox(dir);
        Assert.Equal(0, again.Depth);
        Assert.Equal(1060, again.AcknowledgedEnd(1));
    }

    [Fact]
    public void Rolls_to_new_files_and_deletes_delivered_ones()
    {
        var dir = TestTemp.NewFolder("outbox-roll");
        using var outbox = new ChunkOutbox(dir, rollBytes: 16 * 1024);
        var big = Chunk(0) with { Codec = new string('x', 20) };
        var perLine = Encoding.UTF8.GetByteCount(System.Text.Json.JsonSerializer.Serialize(big, ContractJson.Options)) + 1;
        var count = (int)(outbox.RollBytes / perLine) + 20;
        for (var i = 0; i < count; i++)
        {
            outbox.Append(big with { Path = $"1/x/{i}.mp4" });
        }

        Assert.Equal(2, Directory.GetFiles(dir, "chunks-*.jsonl").Length);
        while (outbox.Peek(1000) is { Count: > 0 } batch)
        {
            outbox.Acknowledge(batch);
        }

        Assert.Equal(0, outbox.Depth);
        Assert.Single(Directory.GetFiles(dir, "chunks-*.jsonl"));
    }
}

public sealed class Mp4ProbeTests
{
    [Fact]
    public async Task A_torn_last_fragment_is_cut_off_and_the_rest_plays()
    {
        var dir = TestTemp.NewFolder("mp4probe");
        var file = Path.Combine(dir, "chunk.mp4");
        await RunAsync("ffmpeg", "-v", "error", "-i", RepositoryPaths.TestData("video", "vtest.mp4"), "-t", "6", "-c", "copy",
            "-movflags", "+frag_keyframe+empty_moov+default_base_moof", file);
        var whole = new FileInfo(file).Length;
        var written = File.GetLastWriteTimeUtc(file);
        // Tear the last fragment as a crash would.
        using (var stream = new FileStream(file, FileMode.Open))
        {
            stream.SetLength(whole - 5000);
        }

        File.SetLastWriteTimeUtc(file, written);
        var removed = Mp4Probe.TruncateIncompleteTail(file);
        Assert.True(removed > 0);
        Assert.Equal(written, File.GetLastWriteTimeUtc(file));
        Assert.Equal(0, Mp4Probe.TruncateIncompleteTail(file));

        var report = await Ffprobe.ReadAllFramesAsync(file);
        Assert.True(report.Errors.Length == 0, report.Errors);
        // Fragments of 2 s (GOP 20 at 10 fps): the torn third one is gone, two remain.
        Assert.Equal(40, report.Frames);
        var probe = (await Mp4Probe.ProbeAsync("ffprobe", file, CancellationToken.None))!;
        Assert.Equal(("h264", 768, 576, 40, 4.0), (probe.Codec, probe.Width, probe.Height, probe.Frames, probe.DurationSeconds));
    }

    private static async Task RunAsync(string exe, params string[] args)
    {
        var (exitCode, _, errors) = await TestProcesses.RunAsync(exe, args);
        Assert.True(exitCode == 0, errors);
    }
}

public sealed class ChildProcessesTests
{
    [Fact]
    public async Task The_next_start_kills_ffmpeg_children_left_by_a_crashed_host()
    {
        var root = TestTemp.NewFolder("orphans");
        // An ffmpeg writing under this root whose owner is dead (a pid that has exited).
        using var dead = await TestProcesses.StartAsync(new ProcessStartInfo("true"));
        await dead.WaitForExitAsync();
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-v", "error", "-re", "-stream_loop", "-1", "-i", RepositoryPaths.TestData("video", "vtest.mp4"), "-c", "copy", "-f", "null",
                     "-metadata", "comment=opennvr " + root, "-" })
        {
            start.ArgumentList.Add(a);
        }

        using var orphan = await TestProcesses.StartAsync(start);
        using var unrelated = await TestProcesses.StartAsync(new ProcessStartInfo("sleep") { ArgumentList = { "30" } });
        try
        {
            Directory.CreateDirectory(Path.Combine(root, ".recorder"));
            File.WriteAllLines(Path.Combine(root, ".recorder", $"children-{Environment.MachineName}-{dead.Id}.txt"),
                [orphan.Id.ToString(), unrelated.Id.ToString()]);

            using var children = new ChildProcesses(root);
            Assert.Equal(1, children.SweepOrphans());
            Assert.True(orphan.WaitForExit(5000));
            Assert.False(unrelated.HasExited); // not an ffmpeg of ours: left alone
            Assert.Empty(Directory.GetFiles(Path.Combine(root, ".recorder"), $"children-*-{dead.Id}.txt"));
        }
        finally
        {
            foreach (var p in new[] { orphan, unrelated })
            {
                if (!p.HasExited)
                {
                    p.Kill();
                }
            }
        }
    }
}
