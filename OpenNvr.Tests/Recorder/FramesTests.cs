using System.Net;
using OpenNvr.Recorder.Frames;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>An analysed camera (a looped local file, as the app host's demo camera) publishes latest.jpg, served over HTTP.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class FramesTests
{
    [Fact]
    public async Task An_analysed_file_camera_is_recorded_and_publishes_frames_atomically_and_GET_frames_serves_them()
    {
        await using var core = await CoreServer.StartAsync();
        var video = new Uri(RepositoryPaths.TestData("video", "vtest.mp4")).AbsoluteUri;
        var cameraId = await core.CreateCameraAsync("demo", video, new
        {
            ai_policies = new[] { new { task = "person_counting", interval_ms = 500 } },
        });
        await using var recorder = RecorderInstance.Start(core, settings: new Dictionary<string, string> { ["Recorder:FrameRate"] = "4" });
        var published = new List<PublishedFrame>();
        recorder.Services.GetService(typeof(IFramePublisher)).As<IFramePublisher>().FramePublished += f =>
        {
            lock (published)
            {
                published.Add(f);
            }
        };

        await Wait.UntilAsync(() => { lock (published) { return published.Count >= 8; } }, TimeSpan.FromSeconds(30), "8 published frames");
        var latest = Path.Combine(recorder.FramesRoot, $"camera_{cameraId}", "latest.jpg");
        var bytes = await File.ReadAllBytesAsync(latest);
        Assert.Equal([0xFF, 0xD8], bytes[..2]);
        Assert.Equal([0xFF, 0xD9], bytes[^2..]);
        var probe = await Ffprobe.ReadAllFramesAsync(latest);
        Assert.Equal((768, 576, 1), (probe.Width, probe.Height, probe.Frames));
        lock (published)
        {
            Assert.All(published, f => Assert.Equal((cameraId, latest), (f.CameraId, f.Path)));
            // About 4 frames per second of real time.
            var span = (published[^1].CapturedAt - published[0].CapturedAt).TotalSeconds;
            Assert.InRange((published.Count - 1) / span, 2.5, 6);
        }

        // No temporary file is ever left visible next to latest.jpg for longer than a write (f-*.jpg are the AI
        // pipeline's per-frame copies, taken while latest.jpg moves on).
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(latest)!), f => f.EndsWith(".jpg", StringComparison.Ordinal) && f != latest &&
                                                                                  !Path.GetFileName(f).StartsWith("f-", StringComparison.Ordinal));

        using var http = recorder.CreateClient();
        http.DefaultRequestHeaders.Add("X-Internal-Key", CoreFixture.InternalKey);
        using var ok = await http.GetAsync($"/frames/camera_{cameraId}/latest.jpg");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("image/jpeg", ok.Content.Headers.ContentType?.MediaType);
        var served = await ok.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xFF, 0xD8], served[..2]);
        Assert.Equal([0xFF, 0xD9], served[^2..]);

        // A file camera is recorded too (copy of the looped file in real time).
        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Count >= 1, TimeSpan.FromSeconds(30), "a chunk of the file camera");
    }
}

/// <summary>GET /frames validates its path like any user input (no Core needed: heartbeats just fail).</summary>
public sealed class FramesApiTests : IAsyncLifetime
{
    private CoreServer _core = null!;
    private RecorderInstance _recorder = null!;

    public async Task InitializeAsync()
    {
        _core = await CoreServer.StartAsync();
        _recorder = RecorderInstance.Start(_core);
    }

    public async Task DisposeAsync()
    {
        await _recorder.DisposeAsync();
        await _core.DisposeAsync();
    }

    [Theory]
    [InlineData("/frames/7/latest.jpg", HttpStatusCode.NotFound)]
    [InlineData("/frames/camera_7/latest.jpg", HttpStatusCode.NotFound)]
    [InlineData("/frames/camera_0/other.jpg", HttpStatusCode.NotFound)]
    [InlineData("/frames/..%2F..%2Fetc/passwd.jpg", HttpStatusCode.BadRequest)]
    [InlineData("/frames/1/..%2F..%2F..%2Fetc%2Fpasswd", HttpStatusCode.BadRequest)]
    [InlineData("/frames/1/.hidden.jpg", HttpStatusCode.BadRequest)]
    // A PNG is a valid frame name (Core's console uploads are frames too): not published here, so a 404 like Inference's.
    [InlineData("/frames/1/latest.png", HttpStatusCode.NotFound)]
    [InlineData("/frames/1/latest.gif", HttpStatusCode.BadRequest)]
    [InlineData("/frames/1/a..jpg", HttpStatusCode.BadRequest)]
    [InlineData("/frames/cam%20era/latest.jpg", HttpStatusCode.BadRequest)]
    [InlineData("/frames/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/latest.jpg", HttpStatusCode.BadRequest)]
    public async Task Bad_or_missing_frame_paths_are_problems(string path, HttpStatusCode status)
    {
        using var http = _recorder.CreateClient();
        http.DefaultRequestHeaders.Add("X-Internal-Key", CoreFixture.InternalKey);
        await HttpAssert.ProblemAsync(await http.GetAsync(path), status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-key")]
    public async Task Frames_need_the_service_credential(string? key)
    {
        _recorder.Frames.Publish(43, File.ReadAllBytes(RepositoryPaths.TestData("persons", "astronaut.jpg")));
        using var http = _recorder.CreateClient();
        if (key is not null)
        {
            http.DefaultRequestHeaders.Add("X-Internal-Key", key);
        }

        await HttpAssert.ProblemAsync(await http.GetAsync("/frames/43/latest.jpg"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_published_frame_is_served_and_replaced_atomically()
    {
        var publisher = _recorder.Frames;
        var first = await File.ReadAllBytesAsync(Directory.GetFiles(RepositoryPaths.TestData("persons"), "*.jpg").Order().First());
        var frame = publisher.Publish(42, first);
        // The original OpenNVR's layout: frames/camera_<id>/; the bare id stays an alias on GET /frames.
        Assert.Equal(Path.Combine(_recorder.FramesRoot, "camera_42", "latest.jpg"), frame.Path);
        using var http = _recorder.CreateClient();
        http.DefaultRequestHeaders.Add("X-Internal-Key", CoreFixture.InternalKey);
        Assert.Equal(first, await http.GetByteArrayAsync("/frames/camera_42/latest.jpg"));
        Assert.Equal(first, await http.GetByteArrayAsync("/frames/42/latest.jpg"));
        Assert.Equal(["latest.jpg"], Directory.GetFiles(Path.Combine(_recorder.FramesRoot, "camera_42")).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(_recorder.FramesRoot, "42")));
    }
}

internal static class CastExtensions
{
    public static T As<T>(this object? value) => (T)value!;
}
