using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Recordings;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Exports;

/// <summary>What an export produced.</summary>
/// <param name="StartUnix">Where the file starts: the keyframe at or before the requested start (or the first chunk's start).</param>
/// <param name="DurationSeconds">The file's duration (ffprobe).</param>
public sealed record ExportResult(double StartUnix, double EndUnix, double DurationSeconds, long SizeBytes, IReadOnlyList<TimeSpanUnix> Gaps);

/// <summary>An export could not be made; the message is safe to show to the user (no server paths).</summary>
public sealed class ExportFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Makes one MP4 from the chunks of an <see cref="ExportPlan"/> by stream copy (no re-encoding): ffmpeg's concat
/// demuxer joins the pieces (in point = the keyframe at or before the requested start, found with ffprobe; out point
/// = the requested end), <c>+faststart</c> moves the index to the front so that a browser plays the download at once,
/// <c>creation_time</c> is the first frame's wall-clock time and the <c>comment</c> lists the gaps. Progress (0..1)
/// comes from ffmpeg's <c>-progress</c> output. Written to <c>&lt;output&gt;.part</c> and renamed when complete, so a
/// file under the final name is always whole.
/// </summary>
public sealed class ExportEngine(IOptions<ExportOptions> options, IChunkFileSource files, ILogger<ExportEngine> logger)
{
    private readonly ExportOptions _options = options.Value;

    public async Task<ExportResult> ExportAsync(ExportPlan plan, string outputPath, string title, IProgress<double>? progress, CancellationToken ct)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("export.run");
        activity?.SetTag("opennvr.export.pieces", plan.Pieces.Count);
        activity?.SetTag("opennvr.export.gaps", plan.Gaps.Count);
        var watch = Stopwatch.StartNew();
        var opened = new List<LocalChunk>();
        var partial = outputPath + ".part";
        var listPath = outputPath + ".ffconcat";
        try
        {
            foreach (var piece in plan.Pieces)
            {
                try
                {
                    opened.Add(await files.OpenAsync(piece.Chunk.Path, ct));
                }
                catch (FileNotFoundException ex)
                {
                    throw new ExportFailedException($"Recording {piece.Chunk.Id} is in the index but its file is gone (deleted by retention?).", ex);
                }
            }

            // The first piece starts at the keyframe at or before the requested start, so the clip opens on a picture.
            var first = plan.Pieces[0];
            var firstKeyframe = await KeyframeAtOrBeforeAsync(opened[0].Path, first.InPointSeconds ?? 0, ct);
            var pieces = plan.Pieces.Select((p, i) => i == 0 ? p with { InPointSeconds = firstKeyframe.Offset > 0 ? firstKeyframe.Offset : null } : p).ToList();
            var startUnix = first.Chunk.StartUnix + firstKeyframe.Offset;
            var expectedSeconds = pieces.Sum(p => p.Seconds);

            var list = new StringBuilder("ffconcat version 1.0\n");
            for (var i = 0; i < pieces.Count; i++)
            {
                // In and out points are in the file's own timestamps (chunks start near, not always at, zero).
                var fileStart = i == 0 ? firstKeyframe.FileStart : pieces[i].OutPointSeconds is null && pieces[i].InPointSeconds is null ? 0 : await FileStartAsync(opened[i].Path, ct);
                list.Append("file '").Append(opened[i].Path.Replace("'", "'\\''", StringComparison.Ordinal)).Append("'\n");
                if (pieces[i].InPointSeconds is { } inPoint)
                {
                    list.Append(CultureInfo.InvariantCulture, $"inpoint {fileStart + inPoint:0.000000}\n");
                }

                if (pieces[i].OutPointSeconds is { } outPoint)
                {
                    list.Append(CultureInfo.InvariantCulture, $"outpoint {fileStart + outPoint:0.000000}\n");
                }
            }

            await File.WriteAllTextAsync(listPath, list.ToString(), ct);
            var comment = Comment(title, startUnix, plan.EndUnix, plan.Gaps);
            await RunFfmpegAsync(listPath, partial, startUnix, comment, expectedSeconds, progress, ct);

            var duration = await DurationAsync(partial, ct);
            File.Move(partial, outputPath, overwrite: true);
            var size = new FileInfo(outputPath).Length;
            progress?.Report(1);
            watch.Stop();
            ExportTelemetry.Exports.Add(1, new KeyValuePair<string, object?>("outcome", "done"));
            ExportTelemetry.Duration.Record(watch.Elapsed.TotalSeconds);
            ExportTelemetry.VideoSeconds.Record(duration);
            ExportTelemetry.Bytes.Add(size);
            activity?.SetTag("opennvr.export.seconds", duration);
            activity?.SetTag("opennvr.export.bytes", size);
            ExportLog.Finished(logger, title, duration, pieces.Count, plan.Gaps.Count, watch.Elapsed.TotalSeconds, size);
            return new ExportResult(startUnix, Math.Min(plan.EndUnix, plan.Pieces[^1].Chunk.EndUnix), duration, size, plan.Gaps);
        }
        catch (Exception ex)
        {
            TryDelete(partial);
            var outcome = ex is OperationCanceledException ? "cancelled" : "failed";
            ExportTelemetry.Exports.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            ExportLog.Failed(logger, title, ex.Message);
            if (ex is ExportFailedException or OperationCanceledException)
            {
                throw;
            }

            throw new ExportFailedException("The export failed: " + ex.Message, ex);
        }
        finally
        {
            TryDelete(listPath);
            foreach (var chunk in opened)
            {
                await chunk.DisposeAsync();
            }
        }
    }

    /// <summary>The offset (from the file's first packet) of the last keyframe at or before <paramref name="offsetSeconds"/>.</summary>
    private async Task<(double Offset, double FileStart)> KeyframeAtOrBeforeAsync(string file, double offsetSeconds, CancellationToken ct)
    {
        var output = await RunToEndAsync(_options.FfprobePath, ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", file], ct);
        double? fileStart = null;
        var keyframe = 0.0;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(',');
            if (fields.Length < 2 || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var pts))
            {
                continue;
            }

            fileStart ??= pts;
            var offset = pts - fileStart.Value;
            if (offset > offsetSeconds + 0.0005)
            {
                break;
            }

            if (fields[1].Contains('K', StringComparison.Ordinal))
            {
                keyframe = offset;
            }
        }

        return fileStart is null
            ? throw new ExportFailedException("A chunk of the range holds no video packet.")
            : (keyframe, fileStart.Value);
    }

    private async Task<double> FileStartAsync(string file, CancellationToken ct)
    {
        var output = await RunToEndAsync(_options.FfprobePath, ["-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "packet=pts_time", "-of", "csv=p=0", file], ct);
        return double.TryParse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var start)
            ? start
            : 0;
    }

    private async Task<double> DurationAsync(string file, CancellationToken ct)
    {
        var output = await RunToEndAsync(_options.FfprobePath, ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file], ct);
        return double.TryParse(output.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var duration)
            ? duration
            : throw new ExportFailedException("The exported file could not be read back.");
    }

    private async Task RunFfmpegAsync(string listPath, string output, double startUnix, string comment, double expectedSeconds, IProgress<double>? progress, CancellationToken ct)
    {
        var start = new ProcessStartInfo(_options.FfmpegPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
            "-f", "concat", "-safe", "0", "-i", listPath,
            "-map", "0:v:0", "-c", "copy",
            "-movflags", "+faststart",
            "-metadata", "creation_time=" + DateTimeOffset.UnixEpoch.AddSeconds(startUnix).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
            "-metadata", "comment=" + comment,
            "-f", "mp4", "-y", output,
        ];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new ExportFailedException($"Cannot start {_options.FfmpegPath}: {ex.Message}", ex);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                // out_time_us (out_time_ms in ffmpeg 5 is microseconds too); "N/A" before the first packet.
                if ((line.StartsWith("out_time_us=", StringComparison.Ordinal) || line.StartsWith("out_time_ms=", StringComparison.Ordinal)) &&
                    long.TryParse(line.AsSpan(line.IndexOf('=') + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var micros) && expectedSeconds > 0)
                {
                    progress?.Report(Math.Clamp(micros / 1e6 / expectedSeconds, 0, 0.99));
                }
            }

            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            if (ct.IsCancellationRequested)
            {
                throw;
            }

            throw new ExportFailedException($"The export took longer than {_options.TimeoutSeconds:0} s (Exports:TimeoutSeconds).");
        }

        if (process.ExitCode != 0)
        {
            var detail = (await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            logger.LogWarning("ffmpeg exited with {ExitCode} while exporting: {Error}", process.ExitCode, detail);
            throw new ExportFailedException($"ffmpeg could not join the chunks (exit code {process.ExitCode}).");
        }
    }

    private static async Task<string> RunToEndAsync(string file, IReadOnlyList<string> args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new ExportFailedException($"Cannot start {file}: {ex.Message}", ex);
        }

        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }

        await errors;
        return process.ExitCode == 0 ? await output : throw new ExportFailedException("A chunk of the range could not be read (it may be damaged).");
    }

    private static string Comment(string title, double startUnix, double endUnix, IReadOnlyList<TimeSpanUnix> gaps)
    {
        static string At(double unix) => DateTimeOffset.UnixEpoch.AddSeconds(unix).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var text = new StringBuilder(title).Append(": ").Append(At(startUnix)).Append(" to ").Append(At(endUnix));
        text.Append(gaps.Count == 0 ? "; no gaps" : "; gaps (not recorded, joined in this file): ");
        text.AppendJoin(", ", gaps.Select(g => $"{At(g.StartUnix)} to {At(g.EndUnix)}"));
        return text.ToString();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
