using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Core;

public sealed class RecordingsTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    private const double T0 = 1_795_784_700;

    private async Task<int> CameraWithChunksAsync(params (double Start, double End, string? File)[] chunks)
    {
        var camera = await core.CreateCameraAsync("rec-" + Guid.NewGuid().ToString("N")[..6]);
        using var recorder = core.Internal();
        var rows = chunks.Select((c, i) =>
        {
            var path = $"{camera}/2026-11-27/{i:000}.mp4";
            long size = 0;
            if (c.File is not null)
            {
                var full = Path.Combine(core.RecordingsRoot, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                File.Copy(c.File, full);
                size = new FileInfo(full).Length;
            }

            return new { camera_id = camera, path, start_unix = c.Start, end_unix = c.End, duration_s = c.End - c.Start, size_bytes = size, codec = "h264" };
        }).ToArray();
        (await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new { recordings = rows })).EnsureSuccessStatusCode();
        return camera;
    }

    [Fact]
    public async Task Window_returns_chunks_overlapping_both_edges_oldest_first_with_the_gaps()
    {
        // 0.5 s between the first two chunks (continuous), 10 s hole before the third.
        var camera = await CameraWithChunksAsync((T0, T0 + 10, null), (T0 + 10.5, T0 + 20, null), (T0 + 30, T0 + 40, null), (T0 - 100, T0 - 90, null));
        using var admin = await core.AdminAsync();

        var window = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0 + 5}&end_unix={T0 + 35}"));
        Assert.Equal(camera, (int)window["camera_id"]!);
        Assert.Equal(T0 + 5, (double)window["start_unix"]!);
        Assert.Equal(T0 + 35, (double)window["end_unix"]!);
        var recordings = window["recordings"]!.AsArray();
        Assert.Equal([T0, T0 + 10.5, T0 + 30], recordings.Select(r => (double)r!["start_unix"]!));
        Assert.Equal([T0 + 10, T0 + 20, T0 + 40], recordings.Select(r => (double)r!["end_unix"]!));
        var first = recordings[0]!.AsObject();
        Assert.Equal(["id", "start_unix", "end_unix", "duration_s", "size_bytes", "url"], first.Select(p => p.Key));
        Assert.Equal($"/api/v1/recordings/{camera}/{(long)first["id"]!}/file", (string)first["url"]!);
        Assert.Equal(10.0, (double)first["duration_s"]!);
        Assert.Equal([(T0 + 20, T0 + 30)], Gaps(window));

        // Wider than the recordings: gaps at both edges too.
        var wide = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0 - 5}&end_unix={T0 + 45}"));
        Assert.Equal(3, wide["recordings"]!.AsArray().Count);
        Assert.Equal([(T0 - 5, T0), (T0 + 20, T0 + 30), (T0 + 40, T0 + 45)], Gaps(wide));

        // A chunk that ends exactly at the window's start does not overlap it.
        var after = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0 + 40}&end_unix={T0 + 100}"));
        Assert.Empty(after["recordings"]!.AsArray());
        Assert.Equal([(T0 + 40, T0 + 100)], Gaps(after));

        // Empty window of a camera with nothing in it.
        var empty = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0 + 1000}&end_unix={T0 + 1001.5}"));
        Assert.Empty(empty["recordings"]!.AsArray());
        Assert.Equal([(T0 + 1000, T0 + 1001.5)], Gaps(empty));
    }

    [Theory]
    [InlineData("start_unix=200&end_unix=100", "greater")]
    [InlineData("start_unix=100&end_unix=100", "greater")]
    [InlineData("start_unix=0&end_unix=604801", "7 days")]
    [InlineData("start_unix=100", "required")]
    [InlineData("end_unix=100", "required")]
    [InlineData("start_unix=abc&end_unix=100", "StartUnix\" from \"abc")]
    [InlineData("start_unix=NaN&end_unix=100", "start_unix must be finite")]
    [InlineData("start_unix=-5&end_unix=100", "between 0 and")]
    [InlineData("start_unix=1%27%3B%20DROP%20TABLE%20recordings%3B--&end_unix=100", "StartUnix")]
    public async Task Invalid_windows_are_400_problems(string query, string expected)
    {
        var camera = await core.CreateCameraAsync("invalid-window");
        using var admin = await core.AdminAsync();
        var detail = await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?{query}"), HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
        var playlistDetail = await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/recordings/{camera}/playlist.m3u8?{query}"), HttpStatusCode.BadRequest);
        Assert.Contains(expected, playlistDetail);
        Assert.True(await core.ScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'recordings'") == 1);
    }

    [Fact]
    public async Task File_streams_the_exact_bytes_with_range_support_by_header_or_media_token()
    {
        var source = RepositoryPaths.TestData("video", "vtest.mp4");
        var camera = await CameraWithChunksAsync((T0, T0 + 10, source));
        var expected = await File.ReadAllBytesAsync(source);
        using var admin = await core.AdminAsync();
        var window = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix={T0}&end_unix={T0 + 10}"));
        var url = (string)window["recordings"]![0]!["url"]!;

        using var whole = await admin.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("video/mp4", whole.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected, await whole.Content.ReadAsByteArrayAsync());
        Assert.Contains("bytes", whole.Headers.AcceptRanges);

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var partial = await admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(expected[1000..2000], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 1000-1999/{expected.Length}", partial.Content.Headers.ContentRange?.ToString());

        using var tail = new HttpRequestMessage(HttpMethod.Get, url);
        tail.Headers.Range = new RangeHeaderValue(null, 16);
        using var tailResponse = await admin.SendAsync(tail);
        Assert.Equal(expected[^16..], await tailResponse.Content.ReadAsByteArrayAsync());

        // Without a header, a media token in the query opens the file; without either, 401.
        var media = await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{camera}/media-token", null));
        using var anonymous = core.Anonymous();
        using var byToken = await anonymous.GetAsync($"{url}?token={media["token"]}");
        Assert.Equal(expected.Length, (await byToken.Content.ReadAsByteArrayAsync()).Length);
        await HttpAssert.ProblemAsync(await anonymous.GetAsync(url), HttpStatusCode.Unauthorized);
        // An access token is not accepted in the query string.
        var access = (string)(await core.LoginAsync("admin", CoreFixture.AdminPassword))["access_token"]!;
        await HttpAssert.ProblemAsync(await anonymous.GetAsync($"{url}?token={access}"), HttpStatusCode.Unauthorized);

        // Index row whose file is gone: 404 problem, not 500.
        File.Delete(Directory.GetFiles(Path.Combine(core.RecordingsRoot, camera.ToString()), "*.mp4", SearchOption.AllDirectories).Single());
        await HttpAssert.ProblemAsync(await admin.GetAsync(url), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Playlist_lists_fragmented_chunks_as_byte_ranges_that_players_fetch_with_the_embedded_token()
    {
        var work = Path.Combine(core.RecordingsRoot, "work-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(work);
        var fragmented = Path.Combine(work, "frag.mp4");
        // What the Recorder writes: stream copy into fragmented MP4 (moov first, then moof/mdat pairs).
        var (exitCode, _, errors) = await TestProcesses.RunAsync("ffmpeg", "-v", "error", "-y", "-i", RepositoryPaths.TestData("video", "vtest.mp4"),
            "-t", "10", "-c", "copy", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", fragmented);
        Assert.True(exitCode == 0, errors);

        var camera = await CameraWithChunksAsync((T0, T0 + 10, fragmented), (T0 + 10, T0 + 20, fragmented), (T0 + 40, T0 + 50, fragmented));
        using var admin = await core.AdminAsync();
        using var response = await admin.GetAsync($"/api/v1/recordings/{camera}/playlist.m3u8?start_unix={T0}&end_unix={T0 + 60}");
        var playlist = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, playlist);
        Assert.Equal("application/vnd.apple.mpegurl", response.Content.Headers.ContentType?.MediaType);

        var lines = playlist.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("#EXTM3U", lines[0]);
        Assert.Contains("#EXT-X-VERSION:7", lines);
        Assert.Contains("#EXT-X-PLAYLIST-TYPE:VOD", lines);
        Assert.Contains("#EXT-X-TARGETDURATION:10", lines);
        Assert.Equal("#EXT-X-ENDLIST", lines[^1]);
        Assert.Equal(3, lines.Count(l => l.StartsWith("#EXTINF:10.000")));
        Assert.Equal(2, lines.Count(l => l == "#EXT-X-DISCONTINUITY"));
        Assert.Equal(3, lines.Count(l => l.StartsWith("#EXT-X-MAP:")));

        // Fetch the first segment exactly as a player would: relative URL, byte ranges, no Authorization header.
        var map = Regex.Match(playlist, "#EXT-X-MAP:URI=\"([^\"]+)\",BYTERANGE=\"(\\d+)@0\"");
        var range = Regex.Match(playlist, "#EXT-X-BYTERANGE:(\\d+)@(\\d+)\n([^\n]+)");
        var initLength = long.Parse(map.Groups[2].Value);
        var segmentUrl = new Uri(new Uri($"http://core/api/v1/recordings/{camera}/playlist.m3u8"), range.Groups[3].Value).PathAndQuery;
        var bytes = await File.ReadAllBytesAsync(fragmented);
        Assert.Equal(bytes.Length - initLength, long.Parse(range.Groups[1].Value));
        Assert.Equal(initLength, long.Parse(range.Groups[2].Value));

        using var player = core.Anonymous();
        using var initRequest = new HttpRequestMessage(HttpMethod.Get, segmentUrl) { Headers = { Range = new RangeHeaderValue(0, initLength - 1) } };
        var init = await (await player.SendAsync(initRequest)).Content.ReadAsByteArrayAsync();
        Assert.Equal("ftyp", System.Text.Encoding.ASCII.GetString(init, 4, 4));
        Assert.Contains("moov", System.Text.Encoding.ASCII.GetString(init));
        using var mediaRequest = new HttpRequestMessage(HttpMethod.Get, segmentUrl) { Headers = { Range = new RangeHeaderValue(initLength, initLength + 7) } };
        var media = await (await player.SendAsync(mediaRequest)).Content.ReadAsByteArrayAsync();
        Assert.Equal("moof", System.Text.Encoding.ASCII.GetString(media, 4, 4));

        // A player holding a media token gets that same token back in the segment URLs, never a fresh one.
        var mediaToken = (string)(await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{camera}/media-token", null)))["token"]!;
        var byToken = await (await player.GetAsync($"/api/v1/recordings/{camera}/playlist.m3u8?start_unix={T0}&end_unix={T0 + 60}&token={mediaToken}")).Content.ReadAsStringAsync();
        var embedded = Regex.Matches(byToken, "token=([^\"\n]+)").Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).Distinct().ToList();
        Assert.Equal([mediaToken], embedded);

        // No chunks in the window: 404 problem rather than an unplayable empty playlist.
        await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/recordings/{camera}/playlist.m3u8?start_unix={T0 + 100}&end_unix={T0 + 200}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Evidence_flag_is_set_by_operators_with_a_grant_and_refused_to_viewers()
    {
        var camera = await CameraWithChunksAsync((T0, T0 + 10, null));
        var id = await core.ScalarAsync<long>("SELECT id FROM recordings WHERE camera_id = $1", camera);
        var (_, op) = await core.CreateUserAsync("operator", camera);
        var (_, viewer) = await core.CreateUserAsync("viewer", camera);
        var (_, stranger) = await core.CreateUserAsync("operator");

        await HttpAssert.ProblemAsync(await viewer.PutAsJsonAsync($"/api/v1/recordings/{camera}/{id}/evidence", new { is_evidence = true }), HttpStatusCode.Forbidden);
        await HttpAssert.ProblemAsync(await stranger.PutAsJsonAsync($"/api/v1/recordings/{camera}/{id}/evidence", new { is_evidence = true }), HttpStatusCode.NotFound);
        var set = await HttpAssert.OkJsonAsync(await op.PutAsJsonAsync($"/api/v1/recordings/{camera}/{id}/evidence", new { is_evidence = true }));
        Assert.True((bool)set["is_evidence"]!);
        Assert.True(await core.ScalarAsync<bool>("SELECT is_evidence FROM recordings WHERE id = $1", id));
        Assert.True(await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'recording.evidence_set' AND target_id = $1", id.ToString()) == 1);
    }

    private static List<(double, double)> Gaps(JsonNode window) =>
        window["gaps"]!.AsArray().Select(g => ((double)g!["start_unix"]!, (double)g["end_unix"]!)).ToList();
}
