using System.Globalization;
using System.Text.Json.Nodes;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>ffprobe as the judge of a chunk: every frame decodes, no error is printed.</summary>
public static class Ffprobe
{
    public sealed record Report(int Frames, double DurationSeconds, string Codec, int Width, int Height, string Errors);

    public static async Task<Report> ReadAllFramesAsync(string file)
    {
        var (exitCode, output, errors) = await TestProcesses.RunAsync("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
            "-show_entries", "stream=codec_name,width,height,nb_read_frames:format=duration", "-of", "json", file);
        Assert.True(exitCode == 0, $"ffprobe failed on {file}: {errors}");
        var json = JsonNode.Parse(output)!;
        var stream = json["streams"]![0]!;
        return new Report(
            int.Parse((string)stream["nb_read_frames"]!, CultureInfo.InvariantCulture),
            double.Parse((string)json["format"]!["duration"]!, CultureInfo.InvariantCulture),
            (string)stream["codec_name"]!,
            (int)stream["width"]!,
            (int)stream["height"]!,
            errors.Trim());
    }
}
