using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenCvSharp;
using OpenNvr.Contracts.Frames;
using OpenNvr.Core.WebConsole;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Recorder.Frames;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Live;

namespace OpenNvr.Tests.Inference;

/// <summary>
/// Inference and the Recorder as on two hosts: the real Recorder on Kestrel (its own frames folder, Core's lease
/// table behind it), Inference with an empty frames folder of its own, reaching the Recorder over HTTP by service
/// discovery with the Recorder–Inference key. Camera 5's frames exist only on the Recorder.
/// </summary>
public sealed class RemoteAnnotationFixture : IAsyncLifetime
{
    public const string InferenceKey = "recorder-inference-annotation-key";
    public const int CameraId = 5;
    public const int Keep = 3;
    public const int MaxBytes = 256 * 1024;

    private WebApplicationFactory<InferenceDbContext>? _inference;

    public CoreServer Core { get; private set; } = null!;

    public KestrelRecorder Recorder { get; private set; } = null!;

    public string RecorderFrames { get; private set; } = "";

    public string InferenceFrames { get; } = TestTemp.NewFolder("inference-frames");

    public HttpClient Client { get; private set; } = null!;

    public string CameraFolder => Path.Combine(RecorderFrames, FrameNames.CameraFolder(CameraId));

    public async Task InitializeAsync()
    {
        Core = await CoreServer.StartAsync();
        Recorder = await KestrelRecorder.StartAsync(Core, new Dictionary<string, string>
        {
            [ServiceKeys.RecorderInference] = InferenceKey,
            ["Frames:MaxAnnotatedPerCamera"] = Keep.ToString(CultureInfo.InvariantCulture),
            ["Frames:MaxAnnotatedBytes"] = MaxBytes.ToString(CultureInfo.InvariantCulture),
        });
        RecorderFrames = Recorder.Services.GetRequiredService<FramePublisher>().Root;
        Directory.CreateDirectory(CameraFolder);
        File.Copy(RepositoryPaths.TestData("persons", "vtest_0200.jpg"), Path.Combine(CameraFolder, FrameNames.LatestFile));
        File.Copy(RepositoryPaths.TestData("persons", "grace_hopper.jpg"), Path.Combine(CameraFolder, "grace.jpg"));
        // Camera 6: where the bound is tested with names of its own, so that it prunes no other test's image.
        Directory.CreateDirectory(Path.Combine(RecorderFrames, FrameNames.CameraFolder(6)));
        File.Copy(RepositoryPaths.TestData("persons", "astronaut.jpg"), Path.Combine(RecorderFrames, FrameNames.CameraFolder(6), FrameNames.LatestFile));

        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("annotate");
        _inference = new WebApplicationFactory<InferenceDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:inferencedb", connectionString);
            host.UseSetting("Frames:Root", InferenceFrames);
            host.UseSetting("Models:Root", RepositoryPaths.Models());
            host.UseSetting("services:recorder:http:0", Recorder.Url(""));
            host.UseSetting(ServiceKeys.RecorderInference, InferenceKey);
            host.UseSetting("Logging:LogLevel:Default", "Warning");
        });
        Client = _inference.CreateClient();
        Client.DefaultRequestHeaders.Add(SharedKeyClientExtensions.InferenceKeyHeader, InferenceKey);
    }

    /// <summary>A client of the Recorder's frames routes with <paramref name="key"/> in <c>X-Internal-Key</c> (none when null).</summary>
    public HttpClient RecorderClient(string? key)
    {
        var http = new HttpClient { BaseAddress = new Uri(Recorder.Url("/")), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            http.DefaultRequestHeaders.Add(SharedKeyEndpointExtensions.InternalKeyHeader, key);
        }

        return http;
    }

    public string[] AnnotatedFiles(int cameraId) =>
        [.. Directory.GetFiles(Path.Combine(RecorderFrames, FrameNames.CameraFolder(cameraId))).Select(Path.GetFileName).Where(FrameNames.IsAnnotatedFile).Order(StringComparer.Ordinal)!];

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_inference is not null)
        {
            await _inference.DisposeAsync();
        }

        if (Recorder is not null)
        {
            await Recorder.DisposeAsync();
        }

        if (Core is not null)
        {
            await Core.DisposeAsync();
        }

        TestTemp.TryDelete(InferenceFrames);
        TestTemp.TryDelete(RecorderFrames);
    }
}

/// <summary><c>input.options.annotate</c> when the frame is on the Recorder, not on Inference's disk.</summary>
public sealed class RemoteAnnotationTests(RemoteAnnotationFixture fixture) : IClassFixture<RemoteAnnotationFixture>
{
    private async Task<JsonElement> InferAsync(string task, string uri, bool annotate = true)
    {
        using var response = await fixture.Client.PostAsJsonAsync("/infer", new { task, input = new { frame = new { uri }, options = new { annotate } } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static ByteArrayContent Jpeg(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        return content;
    }

    [Fact]
    public async Task The_annotated_image_is_stored_on_the_recorder_and_read_back_by_inference_and_by_core()
    {
        var result = await InferAsync("person_counting", $"opennvr://frames/camera_{RemoteAnnotationFixture.CameraId}/latest.jpg");

        var uri = result.GetProperty("annotated_image_uri").GetString()!;
        var file = uri.Split('/')[^1];
        Assert.Equal($"opennvr://frames/camera_{RemoteAnnotationFixture.CameraId}/{file}", uri);
        Assert.True(FrameNames.IsAnnotatedFile(file), file);
        Assert.True(File.Exists(Path.Combine(fixture.CameraFolder, file)), "not on the Recorder");
        Assert.Empty(Directory.GetFileSystemEntries(fixture.InferenceFrames));

        // Inference resolves it like a frame (from the Recorder: it is not on Inference's disk).
        var again = await InferAsync("person_counting", uri, annotate: false);
        Assert.InRange(again.GetProperty("count").GetInt32(), 5, 9);

        // The Recorder serves it, and it shows the returned boxes on the frame.
        using var recorder = fixture.RecorderClient(RemoteAnnotationFixture.InferenceKey);
        var served = await recorder.GetByteArrayAsync($"/frames/camera_{RemoteAnnotationFixture.CameraId}/{file}");
        using (var original = Cv2.ImRead(Path.Combine(fixture.CameraFolder, FrameNames.LatestFile)))
        using (var annotated = Cv2.ImDecode(served, ImreadModes.Color))
        {
            AnnotationTests.AssertDrawnOn(original, annotated, AnnotationTests.Boxes(result, "detections", "bbox", ltwh: true));
        }

        // Core reads it through the client it reads live frames with (its own key, the Recorder's frames route).
        var fetched = await fixture.Core.Services.GetRequiredService<RecorderFrameClient>()
            .GetFileAsync(fixture.Recorder.Url("/"), RemoteAnnotationFixture.CameraId, file, CancellationToken.None);
        Assert.Equal(served, Assert.IsType<FrameFetch.Frame>(fetched).Jpeg);
    }

    [Fact]
    public async Task A_face_task_annotates_a_frame_of_the_recorder()
    {
        var result = await InferAsync("face_detection", $"opennvr://frames/camera_{RemoteAnnotationFixture.CameraId}/grace.jpg");

        Assert.Equal(1, result.GetProperty("face_count").GetInt32());
        var file = result.GetProperty("annotated_image_uri").GetString()!.Split('/')[^1];
        using var original = Cv2.ImRead(Path.Combine(fixture.CameraFolder, "grace.jpg"));
        using var annotated = Cv2.ImRead(Path.Combine(fixture.CameraFolder, file));
        AnnotationTests.AssertDrawnOn(original, annotated, AnnotationTests.Boxes(result, "faces", "bbox", ltwh: false));
    }

    [Fact]
    public async Task The_recorder_keeps_the_newest_annotated_images_of_a_camera()
    {
        using var recorder = fixture.RecorderClient(RemoteAnnotationFixture.InferenceKey);
        var jpeg = await File.ReadAllBytesAsync(RepositoryPaths.TestData("persons", "astronaut.jpg"));
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);
        var names = Enumerable.Range(0, RemoteAnnotationFixture.Keep + 2).Select(i => FrameNames.AnnotatedFile(start.AddSeconds(i), Guid.NewGuid())).ToList();
        foreach (var name in names)
        {
            using var response = await recorder.PutAsync($"/frames/camera_6/{name}", Jpeg(jpeg));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        Assert.Equal(names.TakeLast(RemoteAnnotationFixture.Keep), fixture.AnnotatedFiles(6));
        Assert.True(File.Exists(Path.Combine(fixture.RecorderFrames, "camera_6", FrameNames.LatestFile)));
        // The numeric alias names the same folder, as for reading.
        Assert.Equal(jpeg, await recorder.GetByteArrayAsync($"/frames/6/{names[^1]}"));
        // A name is never reused.
        await HttpAssert.ProblemAsync(await recorder.PutAsync($"/frames/camera_6/{names[^1]}", Jpeg(jpeg)), HttpStatusCode.Conflict);
        Assert.Equal(names.TakeLast(RemoteAnnotationFixture.Keep), fixture.AnnotatedFiles(6));
    }

    [Fact]
    public async Task The_recorder_refuses_what_is_not_an_annotated_image_of_a_known_camera()
    {
        var jpeg = await File.ReadAllBytesAsync(RepositoryPaths.TestData("persons", "astronaut.jpg"));
        var name = FrameNames.AnnotatedFile(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000), Guid.NewGuid());
        var camera = $"camera_{RemoteAnnotationFixture.CameraId}";
        using var inference = fixture.RecorderClient(RemoteAnnotationFixture.InferenceKey);
        using var core = fixture.RecorderClient(CoreFixture.InternalKey);
        using var anonymous = fixture.RecorderClient(null);

        // Only Inference writes: no key, or Core's, is refused.
        await HttpAssert.ProblemAsync(await anonymous.PutAsync($"/frames/{camera}/{name}", Jpeg(jpeg)), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await core.PutAsync($"/frames/{camera}/{name}", Jpeg(jpeg)), HttpStatusCode.Unauthorized);
        // Nothing the Recorder publishes can be overwritten, and names are the annotated ones only.
        foreach (var file in new[] { "latest.jpg", "f-1.jpg", "annotated_1.jpg", name.ToUpperInvariant(), name.Replace(".jpg", ".png", StringComparison.Ordinal) })
        {
            await HttpAssert.ProblemAsync(await inference.PutAsync($"/frames/{camera}/{file}", Jpeg(jpeg)), HttpStatusCode.BadRequest);
        }

        // No folder is created for a camera the Recorder has published nothing of.
        await HttpAssert.ProblemAsync(await inference.PutAsync($"/frames/camera_77/{name}", Jpeg(jpeg)), HttpStatusCode.NotFound);
        Assert.False(Directory.Exists(Path.Combine(fixture.RecorderFrames, "camera_77")));
        // The body is a JPEG within Frames:MaxAnnotatedBytes.
        await HttpAssert.ProblemAsync(await inference.PutAsync($"/frames/{camera}/{name}", Jpeg("not a jpeg"u8.ToArray())), HttpStatusCode.BadRequest);
        var large = new byte[RemoteAnnotationFixture.MaxBytes + 1];
        jpeg.CopyTo(large, 0);
        await HttpAssert.ProblemAsync(await inference.PutAsync($"/frames/{camera}/{name}", Jpeg(large)), HttpStatusCode.RequestEntityTooLarge);
        Assert.False(File.Exists(Path.Combine(fixture.CameraFolder, name)));
        Assert.Empty(Directory.GetFiles(fixture.CameraFolder, "*.tmp"));
    }
}
