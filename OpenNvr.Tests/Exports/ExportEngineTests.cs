using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Exports;
using OpenNvr.Core.Recordings;
using OpenNvr.Tests.Recorder;
using OpenNvr.Tests.Web;

namespace OpenNvr.Tests.Exports;

/// <summary>
/// The export engine on real chunks: vtest.mp4 cut by ffmpeg into 10 s fragmented MP4 chunks exactly as the Recorder
/// writes them (keyframes every 2 s), given index times of our choosing.
/// </summary>
public sealed class ExportEngineTests : IClassFixture<ExportEngineTests.Chunks>
{
    private const double T0 = 1_800_000_000;
    private readonly Chunks _chunks;

    public ExportEngineTests(Chunks chunks) => _chunks = chunks;

    public sealed class Chunks : IAsyncLifetime
    {
        public string Root { get; } = TestTemp.NewFolder("export");

        public List<ExportChunk> Indexed { get; } = [];

        public async Task InitializeAsync()
        {
            var files = await WebConsoleFixture.CutChunksAsync(Root);
            for (var i = 0; i < files.Length; i++)
            {
                Indexed.Add(new ExportChunk(i + 1, Path.GetFileName(files[i]), T0 + (10 * i), T0 + (10 * (i + 1))));
            }
        }

        public Task DisposeAsync() => Task.CompletedTask;
    }

    private ExportEngine Engine() => new(
        Options.Create(new ExportOptions()),
        new RecordingStoreChunkSource(new OpenNvr.Storage.FileSystemRecordingStore(_chunks.Root), Options.Create(new ExportOptions())),
        NullLogger<ExportEngine>.Instance);

    private string Output() => Path.Combine(TestTemp.NewFolder("export-out"), "clip.mp4");

    [Fact]
    public async Task Exports_across_chunk_boundaries_from_the_keyframe_at_or_before_the_start_with_faststart_and_capture_time()
    {
        var plan = ExportPlanner.Plan(_chunks.Indexed, T0 + 13.3, T0 + 37.5)!;
        Assert.Equal([2L, 3L, 4L], plan.Pieces.Select(p => p.Chunk.Id).ToList());
        Assert.Empty(plan.Gaps);

        var output = Output();
        var reported = new List<double>();
        var result = await Engine().ExportAsync(plan, output, "camera 7", new SynchronousProgress(reported.Add), CancellationToken.None);

        // vtest has a keyframe every 2 s: 13.3 s starts at 12 s; the clip runs to 37.5 s.
        Assert.Equal(T0 + 12, result.StartUnix, 3);
        Assert.Equal(T0 + 37.5, result.EndUnix, 3);
        Assert.InRange(result.DurationSeconds, 25.5 - 0.11, 25.5 + 0.11);
        Assert.Equal(new FileInfo(output).Length, result.SizeBytes);
        Assert.False(File.Exists(output + ".part"));

        var probe = await Ffprobe.ReadAllFramesAsync(output);
        Assert.True(probe.Errors.Length == 0, probe.Errors);
        Assert.Equal(("h264", 768, 576), (probe.Codec, probe.Width, probe.Height));
        Assert.InRange(probe.Frames, 254, 256);
        Assert.True(await FirstFrameIsKeyframeAsync(output));

        // +faststart: the index (moov) comes before the media (mdat), so a browser plays the download at once.
        Assert.Equal(["ftyp", "moov", "mdat"], TopLevelBoxes(output).Where(b => b is "ftyp" or "moov" or "mdat").ToList());

        var tags = await FormatTagsAsync(output);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)T0 + 12).UtcDateTime, DateTime.Parse((string)tags["creation_time"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal));
        Assert.Contains("camera 7", (string)tags["comment"]!, StringComparison.Ordinal);
        Assert.Contains("no gaps", (string)tags["comment"]!, StringComparison.Ordinal);

        Assert.NotEmpty(reported);
        Assert.Equal(1.0, reported[^1]);
        Assert.True(reported.Zip(reported.Skip(1)).All(p => p.Second >= p.First), "progress went backwards");
    }

    [Fact]
    public async Task A_gap_is_noted_and_the_pieces_around_it_follow_one_another()
    {
        var withHole = _chunks.Indexed.Where(c => c.Id != 3).ToList(); // 20-30 s was never recorded
        var plan = ExportPlanner.Plan(withHole, T0 + 5, T0 + 45)!;
        Assert.Equal([new TimeSpanUnix(T0 + 20, T0 + 30)], plan.Gaps);

        var output = Output();
        var result = await Engine().ExportAsync(plan, output, "camera 7", null, CancellationToken.None);

        // 4-20 s (from the keyframe at 4 s), then 30-45 s: 31 s of video; the gap takes no time in the file.
        Assert.Equal(T0 + 4, result.StartUnix, 3);
        Assert.InRange(result.DurationSeconds, 31 - 0.11, 31 + 0.11);
        Assert.Equal(plan.Gaps, result.Gaps);
        var probe = await Ffprobe.ReadAllFramesAsync(output);
        Assert.InRange(probe.Frames, 309, 311);
        var comment = (string)(await FormatTagsAsync(output))["comment"]!;
        Assert.Contains("gaps (not recorded, joined in this file): " +
                        DateTimeOffset.FromUnixTimeSeconds((long)T0 + 20).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), comment, StringComparison.Ordinal);
    }

    [Fact]
    public void The_plan_covers_edges_duplicates_and_nothing_recorded()
    {
        var chunks = _chunks.Indexed;
        Assert.Null(ExportPlanner.Plan(chunks, T0 + 100, T0 + 200));
        Assert.Null(ExportPlanner.Plan(chunks, T0 - 100, T0));

        // Starting before the first chunk and ending after the last: both edges are gaps, the chunks are taken whole.
        var plan = ExportPlanner.Plan(chunks, T0 - 30, T0 + 90)!;
        Assert.Equal(6, plan.Pieces.Count);
        Assert.All(plan.Pieces, p => Assert.Equal((null, null), (p.InPointSeconds, p.OutPointSeconds)));
        Assert.Equal([new TimeSpanUnix(T0 - 30, T0), new TimeSpanUnix(T0 + 60, T0 + 90)], plan.Gaps);
        Assert.Equal(60, plan.Seconds, 6);

        // A duplicate registration of a chunk adds nothing; an overlapping neighbour is taken from where the previous ended.
        var messy = chunks.Take(2).Append(chunks[1] with { Id = 99 }).Append(new ExportChunk(100, "chunk02.mp4", T0 + 19.5, T0 + 29.5)).ToList();
        var messyPlan = ExportPlanner.Plan(messy, T0, T0 + 29.5)!;
        Assert.Equal([1L, 2L, 100L], messyPlan.Pieces.Select(p => p.Chunk.Id).ToList());
        Assert.Equal(0.5, messyPlan.Pieces[2].InPointSeconds!.Value, 6);
        Assert.Equal(29.5, messyPlan.Seconds, 6);
    }

    [Fact]
    public async Task A_chunk_file_that_is_gone_fails_the_export_with_a_message_and_leaves_nothing()
    {
        var plan = ExportPlanner.Plan([.. _chunks.Indexed.Take(2), new ExportChunk(42, "gone.mp4", T0 + 20, T0 + 30)], T0, T0 + 30)!;
        var output = Output();
        var failure = await Assert.ThrowsAsync<ExportFailedException>(() => Engine().ExportAsync(plan, output, "camera 7", null, CancellationToken.None));
        Assert.Contains("Recording 42", failure.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(output)!));
    }

    private static List<string> TopLevelBoxes(string file)
    {
        var boxes = new List<string>();
        using var stream = File.OpenRead(file);
        var header = new byte[16];
        long offset = 0;
        while (offset + 8 <= stream.Length)
        {
            stream.Position = offset;
            stream.ReadExactly(header, 0, 8);
            long size = BinaryPrimitives.ReadUInt32BigEndian(header);
            if (size == 1)
            {
                stream.ReadExactly(header, 8, 8);
                size = (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8));
            }

            boxes.Add(System.Text.Encoding.ASCII.GetString(header, 4, 4));
            offset += size;
        }

        return boxes;
    }

    private static async Task<JsonNode> FormatTagsAsync(string file) =>
        JsonNode.Parse(await RunAsync("ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", file))!["format"]!["tags"]!;

    private static async Task<bool> FirstFrameIsKeyframeAsync(string file) =>
        (await RunAsync("ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "packet=flags", "-of", "csv=p=0", file))
        .Trim().StartsWith('K');

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    /// <summary>Progress reported on the caller's thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
