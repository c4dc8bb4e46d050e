using System.Net;
using System.Text;

namespace OpenNvr.Tests.Core;

/// <summary>
/// Every time parameter in Unix seconds is range-checked (<c>UnixTime</c> in Contracts) before it becomes an instant:
/// far-future, overflowing, non-finite and negative values are 400 problems naming the parameter, never a 500 from an
/// overflow after validation (issue 17: <c>start_unix=253402300800&amp;end_unix=253402300801</c> was a 500).
/// </summary>
public sealed class TimeParameterRangeTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    public static TheoryData<string, string> OutOfRangeWindows => new()
    {
        { "start_unix=253402300800&end_unix=253402300801", "start_unix" },  // DateTimeOffset.MaxValue + 1 s
        { "start_unix=7258118400&end_unix=7258118401", "end_unix" },        // one second past the year 2200
        { "start_unix=1e20&end_unix=1.0000000001e20", "start_unix" },
        { "start_unix=1795784700&end_unix=1e308", "end_unix" },
        { "start_unix=1795784700&end_unix=1e400", "end_unix" },             // parses to infinity
        { "start_unix=NaN&end_unix=100", "start_unix" },
        { "start_unix=100&end_unix=Infinity", "end_unix" },
        { "start_unix=-Infinity&end_unix=100", "start_unix" },
        { "start_unix=-5&end_unix=100", "start_unix" },
        { "start_unix=-1e300&end_unix=-1e299", "start_unix" },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeWindows))]
    public async Task Recordings_window_playlist_and_events_search_refuse_out_of_range_times(string query, string field)
    {
        var camera = await core.CreateCameraAsync("range-" + Guid.NewGuid().ToString("N")[..6]);
        using var admin = await core.AdminAsync();
        foreach (var url in new[]
                 {
                     $"/api/v1/recordings/{camera}?{query}",
                     $"/api/v1/recordings/{camera}/playlist.m3u8?{query}",
                     $"/api/v1/events?{query}",
                     $"/api/v1/events?camera_id={camera}&{query}",
                 })
        {
            var detail = await HttpAssert.ProblemAsync(await admin.GetAsync(url), HttpStatusCode.BadRequest);
            Assert.Contains(field, detail);
            Assert.Contains("7258118400", detail);
        }
    }

    [Fact]
    public async Task The_last_second_of_the_range_is_accepted()
    {
        var camera = await core.CreateCameraAsync("range-edge");
        using var admin = await core.AdminAsync();
        var window = await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/recordings/{camera}?start_unix=7258118399&end_unix=7258118400"));
        Assert.Empty(window["recordings"]!.AsArray());
        Assert.Equal(7258118400.0, (double)window["end_unix"]!);
        var events = await HttpAssert.OkJsonAsync(await admin.GetAsync("/api/v1/events?start_unix=0&end_unix=7258118400"));
        Assert.NotNull(events["events"]);
    }

    public static TheoryData<string, string, string> OutOfRangeInternalBodies => new()
    {
        { "/api/v1/internal/recordings", """{"recordings":[{"camera_id":{camera},"path":"{camera}/x/a.mp4","start_unix":253402300800,"end_unix":253402300801}]}""", "start_unix" },
        { "/api/v1/internal/recordings", """{"recordings":[{"camera_id":{camera},"path":"{camera}/x/b.mp4","start_unix":1e300,"end_unix":1.0000001e300}]}""", "start_unix" },
        { "/api/v1/internal/recordings/query", """{"camera_id":{camera},"older_than_unix":1e300}""", "older_than_unix" },
        { "/api/v1/internal/recordings/query", """{"camera_id":{camera},"older_than_unix":-1}""", "older_than_unix" },
        { "/api/v1/internal/cameras/{camera}/state", """{"recording_state":"recording","last_recording_at_unix":253402300800}""", "last_recording_at_unix" },
        { "/api/v1/internal/cameras/{camera}/state", """{"recording_state":"recording","last_recording_at_unix":1e308}""", "last_recording_at_unix" },
    };

    [Theory]
    [MemberData(nameof(OutOfRangeInternalBodies))]
    public async Task Internal_routes_refuse_out_of_range_times_and_store_nothing(string route, string body, string field)
    {
        var camera = await core.CreateCameraAsync("range-int-" + Guid.NewGuid().ToString("N")[..6]);
        using var recorder = core.Internal();
        var id = camera.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var content = new StringContent(body.Replace("{camera}", id, StringComparison.Ordinal), Encoding.UTF8, "application/json");
        var detail = await HttpAssert.ProblemAsync(await recorder.PostAsync(route.Replace("{camera}", id, StringComparison.Ordinal), content), HttpStatusCode.BadRequest);
        Assert.Contains(field, detail);
        Assert.Equal(0, await core.ScalarAsync<long>("SELECT count(*) FROM recordings WHERE camera_id = $1", camera));
        Assert.Equal(0, await core.ScalarAsync<long>("SELECT count(*) FROM cameras WHERE id = $1 AND last_recording_at IS NOT NULL", camera));
    }

    [Theory]
    [InlineData("253402300800", "253402300801", "start_unix")]
    [InlineData("1795784700", "1e300", "end_unix")]
    [InlineData("-1", "100", "start_unix")]
    public async Task Exports_refuse_out_of_range_times_and_queue_nothing(string start, string end, string field)
    {
        var camera = await core.CreateCameraAsync("range-export-" + Guid.NewGuid().ToString("N")[..6]);
        using var admin = await core.AdminAsync();
        var id = camera.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var content = new StringContent($$"""{"camera_id":{{id}},"start_unix":{{start}},"end_unix":{{end}}}""", Encoding.UTF8, "application/json");
        var detail = await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/exports", content), HttpStatusCode.BadRequest);
        Assert.Contains(field, detail);
        Assert.Equal(0, await core.ScalarAsync<long>("SELECT count(*) FROM exports WHERE camera_id = $1", camera));
    }
}
