using System.Diagnostics;
using System.Text.Json;

namespace OpenNvr.Core.WebConsole;

public sealed record ProbedStream(string CodecType, string? CodecName, int? Width, int? Height);

public sealed record StreamProbeResult(bool Ok, string Detail, IReadOnlyList<ProbedStream> Streams, long ElapsedMs);

/// <summary>
/// The settings page's "Test URL" button: one ffprobe of the camera URL with a short timeout. ffprobe gets its
/// arguments as a list (never a shell), and the URL has already passed <see cref="Cameras.StreamUrl"/> validation.
/// What ffprobe prints is scrubbed of the credentials before it reaches the browser or a log.
/// </summary>
public sealed class StreamProbe(IConfiguration configuration)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(8);

    private string FfprobePath => configuration["WebConsole:FfprobePath"] is { Length: > 0 } path ? path : "ffprobe";

    public async Task<StreamProbeResult> ProbeAsync(string url, IReadOnlyList<string> secrets, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var start = new ProcessStartInfo(FfprobePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-v", "error", "-hide_banner" })
        {
            start.ArgumentList.Add(arg);
        }

        if (url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase))
        {
            // TCP interleaving passes firewalls and NAT; the socket timeout (microseconds) ends a silent camera early.
            start.ArgumentList.Add("-rtsp_transport");
            start.ArgumentList.Add("tcp");
            start.ArgumentList.Add("-timeout");
            start.ArgumentList.Add(((long)timeout.TotalMicroseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var arg in new[] { "-show_entries", "stream=codec_type,codec_name,width,height", "-of", "json", url })
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("ffprobe did not start.");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new StreamProbeResult(false, "ffprobe is not installed on the Core host; the URL is valid but was not tested.", [], started.ElapsedMilliseconds);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                ct.ThrowIfCancellationRequested();
                return new StreamProbeResult(false, $"No answer within {timeout.TotalSeconds:0} s (camera unreachable or not streaming).", [], started.ElapsedMilliseconds);
            }

            var output = await stdout;
            var errors = Scrub((await stderr).Trim(), url, secrets);
            var streams = ParseStreams(output);
            if (process.ExitCode != 0 || streams.Count == 0)
            {
                var reason = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"ffprobe exited with {process.ExitCode}";
                return new StreamProbeResult(false, reason.Length > 300 ? reason[..300] : reason, streams, started.ElapsedMilliseconds);
            }

            var video = streams.FirstOrDefault(s => s.CodecType == "video");
            var detail = video is null
                ? "The stream answered but carries no video."
                : $"Video {video.CodecName} {video.Width}x{video.Height}" + (streams.Count > 1 ? $" (+{streams.Count - 1} more streams)" : "");
            return new StreamProbeResult(video is not null, detail, streams, started.ElapsedMilliseconds);
        }
    }

    private static List<ProbedStream> ParseStreams(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.Length == 0 ? "{}" : json);
            if (!doc.RootElement.TryGetProperty("streams", out var streams) || streams.ValueKind != JsonValueKind.Array)
            {
                return [];
            }

            return streams.EnumerateArray().Select(s => new ProbedStream(
                s.TryGetProperty("codec_type", out var t) ? t.GetString() ?? "unknown" : "unknown",
                s.TryGetProperty("codec_name", out var n) ? n.GetString() : null,
                s.TryGetProperty("width", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetInt32() : null,
                s.TryGetProperty("height", out var h) && h.ValueKind == JsonValueKind.Number ? h.GetInt32() : null)).ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>ffprobe repeats the URL (with its user information) in its messages: never pass that on.</summary>
    private static string Scrub(string text, string url, IReadOnlyList<string> secrets)
    {
        text = text.Replace(url, "<url>", StringComparison.Ordinal);
        foreach (var secret in secrets.Where(s => s.Length > 0))
        {
            text = text.Replace(secret, "***", StringComparison.Ordinal);
            text = text.Replace(Uri.EscapeDataString(secret), "***", StringComparison.Ordinal);
        }

        return text;
    }
}
