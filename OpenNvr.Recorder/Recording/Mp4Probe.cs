using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace OpenNvr.Recorder.Recording;

public sealed record Mp4ProbeResult(string? Codec, int? Width, int? Height, int Frames, double DurationSeconds);

/// <summary>Inspection and repair of a chunk that ffmpeg could not close (crash, kill -9, power cut).</summary>
public static class Mp4Probe
{
    /// <summary>
    /// Cuts a fragmented MP4 after its last complete top-level box, so that a fragment torn by the crash
    /// (a <c>moof</c> without its whole <c>mdat</c>) does not follow the playable ones. Returns the bytes removed.
    /// The modification time (the chunk's last write, used as its end) is kept.
    /// </summary>
    public static long TruncateIncompleteTail(string path)
    {
        var written = File.GetLastWriteTimeUtc(path);
        var removed = Truncate(path);
        if (removed > 0)
        {
            File.SetLastWriteTimeUtc(path, written);
        }

        return removed;
    }

    private static long Truncate(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        var length = stream.Length;
        long lastCompleteEnd = 0, lastMoofStart = -1;
        foreach (var box in new Mp4Boxes(stream).TopLevel())
        {
            if (box.Type == "moof")
            {
                lastMoofStart = box.Offset;
            }
            else if (box.Type == "mdat")
            {
                lastMoofStart = -1;
            }

            if (lastMoofStart < 0)
            {
                lastCompleteEnd = box.End;
            }
        }

        // A moof whose mdat is missing or torn goes too.
        var keep = lastMoofStart >= 0 ? lastMoofStart : lastCompleteEnd;
        if (keep >= length || keep == 0)
        {
            return 0;
        }

        stream.SetLength(keep);
        stream.Flush(flushToDisk: true);
        return length - keep;
    }

    /// <summary>Codec, size, decodable frames and duration (from packet timestamps) of a chunk; null if unreadable.</summary>
    public static async Task<Mp4ProbeResult?> ProbeAsync(string ffprobe, string path, CancellationToken ct)
    {
        var start = new ProcessStartInfo(ffprobe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "-v", "error", "-select_streams", "v:0", "-show_entries",
                     "stream=codec_name,width,height:packet=pts_time,duration_time", "-of", "json", path,
                 })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start);
        if (process is null)
        {
            return null;
        }

        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        await stderr;
        try
        {
            using var doc = JsonDocument.Parse(await stdout);
            var root = doc.RootElement;
            string? codec = null;
            int? width = null, height = null;
            if (root.TryGetProperty("streams", out var streams) && streams.GetArrayLength() > 0)
            {
                var s = streams[0];
                codec = s.TryGetProperty("codec_name", out var c) ? c.GetString() : null;
                width = s.TryGetProperty("width", out var w) ? w.GetInt32() : null;
                height = s.TryGetProperty("height", out var h) ? h.GetInt32() : null;
            }

            var frames = 0;
            double first = double.MaxValue, last = double.MinValue;
            if (root.TryGetProperty("packets", out var packets))
            {
                foreach (var p in packets.EnumerateArray())
                {
                    if (!p.TryGetProperty("pts_time", out var ptsText) ||
                        !double.TryParse(ptsText.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var pts))
                    {
                        continue;
                    }

                    var duration = p.TryGetProperty("duration_time", out var d) &&
                                   double.TryParse(d.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var dv) ? dv : 0;
                    frames++;
                    first = Math.Min(first, pts);
                    last = Math.Max(last, pts + duration);
                }
            }

            return new Mp4ProbeResult(codec, width, height, frames, frames == 0 ? 0 : Math.Round(last - first, 3));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
