using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenCvSharp;
using OpenNvr.Contracts.Frames;
using OpenNvr.Inference.Telemetry;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>
/// Inference with the frames on its own disk (single host), plus <c>camera_1</c> holding face photos and
/// <c>camera_2</c> the group photo whose people are partly counted from their faces alone.
/// </summary>
public sealed class AnnotationFixture : InferenceServiceFixture
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Directory.CreateDirectory(Path.Combine(FramesRoot, "camera_1"));
        File.Copy(RepositoryPaths.TestData("faces", "grace_hopper_512x512.jpg"), Path.Combine(FramesRoot, "camera_1", "grace_register.jpg"));
        File.Copy(RepositoryPaths.TestData("persons", "grace_hopper.jpg"), Path.Combine(FramesRoot, "camera_1", "latest.jpg"));
        File.Copy(RepositoryPaths.TestData("faces", "Tom_Cruise_avp_2014_4.jpg"), Path.Combine(FramesRoot, "camera_1", "stranger.jpg"));
        Directory.CreateDirectory(Path.Combine(FramesRoot, "camera_2"));
        File.Copy(RepositoryPaths.TestData("faces", "bald_guys.jpg"), Path.Combine(FramesRoot, "camera_2", "latest.jpg"));
    }

    public string[] AnnotatedFiles(string camera) =>
        [.. Directory.GetFiles(Path.Combine(FramesRoot, camera)).Select(Path.GetFileName).Where(FrameNames.IsAnnotatedFile).Order(StringComparer.Ordinal)!];
}

/// <summary><c>input.options.annotate</c> with the bundled models on the bundled images, frames on the local disk.</summary>
public sealed class AnnotationTests(AnnotationFixture fixture) : IClassFixture<AnnotationFixture>
{
    private static object Body(string task, string uri, object? options) =>
        options is null ? new { task, input = new { frame = new { uri } } } : new { task, input = new { frame = new { uri }, options } };

    private async Task<JsonElement> InferAsync(string task, string uri, object? options = null, HttpClient? client = null)
    {
        using var response = await (client ?? fixture.Client).PostAsJsonAsync("/infer", Body(task, uri, options));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private string LocalPath(string uri)
    {
        Assert.StartsWith("opennvr://frames/", uri, StringComparison.Ordinal);
        var parts = uri["opennvr://frames/".Length..].Split('/');
        return Path.Combine(fixture.FramesRoot, parts[0], parts[1]);
    }

    [Fact]
    public async Task Person_counting_draws_every_returned_box_on_a_copy_of_the_frame_that_resolves_like_a_frame()
    {
        var metrics = new MetricCollector<long>(fixture.Factory.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            InferenceTelemetry.SourceName, InferenceTelemetry.AnnotatedImagesInstrument);
        var result = await InferAsync("person_counting", "opennvr://frames/camera_0/latest.jpg", new { annotate = true });

        var uri = result.GetProperty("annotated_image_uri").GetString()!;
        Assert.Matches(@"^opennvr://frames/camera_0/annotated_\d{13}_[0-9a-f]{32}\.jpg$", uri);
        var boxes = Boxes(result, "detections", "bbox", ltwh: true);
        Assert.InRange(boxes.Count, 6, 8); // vtest_0200: 7 people
        Assert.Contains(metrics.GetMeasurementSnapshot(), m => m.Value == 1 && m.ContainsTags(new KeyValuePair<string, object?>("task", "person_counting")));

        // The URI resolves through /infer like any frame: the annotated copy still shows the people.
        var again = await InferAsync("person_counting", uri);
        Assert.InRange(again.GetProperty("count").GetInt32(), 5, 9);

        // A JPEG of the frame's size whose pixels changed on the boxes' edges and nowhere far from a box or its label.
        var bytes = await File.ReadAllBytesAsync(LocalPath(uri));
        Assert.Equal(OpenNvr.Contracts.Media.ImageFormat.Jpeg, OpenNvr.Contracts.Media.ImageHeader.DetectFormat(bytes));
        using var original = Cv2.ImRead(Path.Combine(fixture.FramesRoot, "camera_0", "latest.jpg"));
        using var annotated = Cv2.ImDecode(bytes, ImreadModes.Color);
        AssertDrawnOn(original, annotated, boxes);
    }

    [Fact]
    public async Task Without_annotate_the_property_is_absent_and_nothing_is_written()
    {
        var before = fixture.AnnotatedFiles("camera_2");

        var plain = await InferAsync("person_counting", "opennvr://frames/camera_2/latest.jpg");
        var off = await InferAsync("person_counting", "opennvr://frames/camera_2/latest.jpg", new { annotate = false });
        var nullValue = await InferAsync("person_counting", "opennvr://frames/camera_2/latest.jpg", new { annotate = (bool?)null, fuse_faces = true });

        Assert.All([plain, off, nullValue], r => Assert.False(r.TryGetProperty("annotated_image_uri", out _), r.GetRawText()));
        Assert.Equal(before, fixture.AnnotatedFiles("camera_2"));
    }

    [Theory]
    [InlineData("\"yes\"", "input.options.annotate must be a boolean, not a string")]
    [InlineData("1", "input.options.annotate must be a boolean, not a number")]
    [InlineData("{}", "input.options.annotate must be a boolean, not an object")]
    [InlineData("[true]", "input.options.annotate must be a boolean, not an array")]
    public async Task A_non_boolean_annotate_is_a_400_problem(string value, string detail)
    {
        foreach (var task in new[] { "person_counting", "person_detection", "object_detection", "face_detection", "face_recognition", "watchlist_check" })
        {
            using var content = new StringContent(
                "{\"task\":\"" + task + "\",\"input\":{\"frame\":{\"uri\":\"opennvr://frames/camera_1/latest.jpg\"},\"options\":{\"annotate\":" + value + "}}}",
                System.Text.Encoding.UTF8, "application/json");
            await InferErrorTests.AssertProblemAsync(await fixture.Client.PostAsync("/infer", content), HttpStatusCode.BadRequest, detail);
        }

        using var notAnObject = new StringContent(
            """{"task":"person_counting","input":{"frame":{"uri":"opennvr://frames/camera_1/latest.jpg"},"options":"annotate"}}""",
            System.Text.Encoding.UTF8, "application/json");
        await InferErrorTests.AssertProblemAsync(await fixture.Client.PostAsync("/infer", notAnObject), HttpStatusCode.BadRequest, "input.options must be an object, not a string");
    }

    [Fact]
    public async Task Requests_on_the_same_frame_at_once_get_images_of_their_own()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            InferAsync("person_detection", "opennvr://frames/camera_0/latest.jpg", new { annotate = true })));

        var uris = results.Select(r => r.GetProperty("annotated_image_uri").GetString()!).ToList();
        Assert.Equal(4, uris.Distinct(StringComparer.Ordinal).Count());
        Assert.All(uris, u => Assert.True(File.Exists(LocalPath(u)), u));
    }

    [Fact]
    public async Task A_frame_that_is_gone_answers_404_as_without_annotate()
    {
        using var response = await fixture.Client.PostAsJsonAsync("/infer",
            Body("person_counting", "opennvr://frames/camera_0/gone.jpg", new { annotate = true }));
        await InferErrorTests.AssertProblemAsync(response, HttpStatusCode.NotFound, "nowhere under Frames:Root");
    }

    [Fact]
    public async Task People_counted_from_their_faces_alone_are_drawn_too()
    {
        var result = await InferAsync("person_counting", "opennvr://frames/camera_2/latest.jpg", new { annotate = true, fuse_faces = true });

        var detections = result.GetProperty("detections").EnumerateArray().ToList();
        Assert.Contains(detections, d => d.GetProperty("source").GetString() == "face");
        using var original = Cv2.ImRead(Path.Combine(fixture.FramesRoot, "camera_2", "latest.jpg"));
        using var annotated = Cv2.ImRead(LocalPath(result.GetProperty("annotated_image_uri").GetString()!));
        // Dashed: about half of a face-only box's edge is drawn, every other dash.
        AssertDrawnOn(original, annotated, Boxes(result, "detections", "bbox", ltwh: true), minEdgeChanged: 0.3);
    }

    [Fact]
    public async Task Face_tasks_draw_the_face_with_the_name_when_it_is_known()
    {
        using (var register = await fixture.Client.PostAsJsonAsync("/faces/register", new
               {
                   frame = new { uri = "opennvr://frames/camera_1/grace_register.jpg" }, person_id = "grace", name = "Grace Hopper", category = "watchlist",
               }))
        {
            Assert.True(register.IsSuccessStatusCode, await register.Content.ReadAsStringAsync());
        }

        using var original = Cv2.ImRead(Path.Combine(fixture.FramesRoot, "camera_1", "latest.jpg"));
        var detected = await InferAsync("face_detection", "opennvr://frames/camera_1/latest.jpg", new { annotate = true });
        Assert.Equal(1, detected.GetProperty("face_count").GetInt32());
        using (var image = Cv2.ImRead(LocalPath(detected.GetProperty("annotated_image_uri").GetString()!)))
        {
            AssertDrawnOn(original, image, Boxes(detected, "faces", "bbox", ltwh: false));
        }

        var recognized = await InferAsync("face_recognition", "opennvr://frames/camera_1/latest.jpg", new { annotate = true });
        Assert.True(recognized.GetProperty("recognized").GetBoolean(), recognized.GetRawText());
        Assert.Equal("grace", recognized.GetProperty("person_id").GetString());
        using (var image = Cv2.ImRead(LocalPath(recognized.GetProperty("annotated_image_uri").GetString()!)))
        {
            AssertDrawnOn(original, image, [Box(recognized.GetProperty("face_bbox"), ltwh: false)]);
        }

        var watchlist = await InferAsync("watchlist_check", "opennvr://frames/camera_1/latest.jpg", new { annotate = true });
        Assert.True(watchlist.GetProperty("is_on_watchlist").GetBoolean(), watchlist.GetRawText());
        Assert.StartsWith("opennvr://frames/camera_1/annotated_", watchlist.GetProperty("annotated_image_uri").GetString(), StringComparison.Ordinal);

        // A face nobody registered: still drawn (as unknown), and the answer is as without annotate otherwise.
        var stranger = await InferAsync("face_recognition", "opennvr://frames/camera_1/stranger.jpg", new { annotate = true });
        Assert.False(stranger.GetProperty("recognized").GetBoolean());
        Assert.True(File.Exists(LocalPath(stranger.GetProperty("annotated_image_uri").GetString()!)));
    }

    [Fact]
    public async Task A_camera_folder_keeps_only_the_newest_annotated_images()
    {
        await using var bounded = fixture.Factory.WithWebHostBuilder(host => host.UseSetting("Frames:MaxAnnotatedPerCamera", "3"));
        using var client = bounded.CreateClient();
        Directory.CreateDirectory(Path.Combine(fixture.FramesRoot, "camera_9"));
        File.Copy(RepositoryPaths.TestData("persons", "astronaut.jpg"), Path.Combine(fixture.FramesRoot, "camera_9", "latest.jpg"));

        var uris = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            // One after the other: each name carries the time it was made, so the last three are the newest.
            uris.Add((await InferAsync("person_counting", "opennvr://frames/camera_9/latest.jpg", new { annotate = true }, client))
                .GetProperty("annotated_image_uri").GetString()!);
        }

        Assert.Equal(uris.TakeLast(3).Select(u => u.Split('/')[^1]), fixture.AnnotatedFiles("camera_9"));
        Assert.True(File.Exists(Path.Combine(fixture.FramesRoot, "camera_9", "latest.jpg")));
    }

    [Fact]
    public void The_store_keeps_the_newest_by_name_and_never_overwrites()
    {
        var folder = TestTemp.NewFolder("annotated");
        try
        {
            var start = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);
            var names = Enumerable.Range(0, 7).Select(i => FrameNames.AnnotatedFile(start.AddMilliseconds(i), Guid.NewGuid())).ToList();
            File.WriteAllBytes(Path.Combine(folder, "latest.jpg"), [0xFF, 0xD8, 0xFF]);
            // Written out of order: what stays is the newest by the time in the name.
            foreach (var name in names.AsEnumerable().Reverse())
            {
                AnnotatedFrames.Store(folder, name, [0xFF, 0xD8, 0xFF, 0xD9], keep: 4);
            }

            Assert.Equal(names.Skip(3), Directory.GetFiles(folder).Select(Path.GetFileName).Where(FrameNames.IsAnnotatedFile).Order(StringComparer.Ordinal));
            Assert.True(File.Exists(Path.Combine(folder, "latest.jpg")));
            Assert.Throws<IOException>(() => AnnotatedFrames.Store(folder, names[^1], [1, 2, 3], keep: 4));
            Assert.Equal(4, new FileInfo(Path.Combine(folder, names[^1])).Length);
            Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(folder, ".*")));
            Assert.Throws<ArgumentException>(() => AnnotatedFrames.Store(folder, "latest.jpg", [1], keep: 4));
        }
        finally
        {
            TestTemp.TryDelete(folder);
        }
    }

    internal static Rect Box(JsonElement bbox, bool ltwh)
    {
        var v = bbox.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return ltwh ? new Rect(v[0], v[1], v[2], v[3]) : new Rect(v[0], v[1], v[2] - v[0], v[3] - v[1]);
    }

    internal static List<Rect> Boxes(JsonElement result, string list, string property, bool ltwh) =>
        [.. result.GetProperty(list).EnumerateArray().Select(d => Box(d.GetProperty(property), ltwh))];

    /// <summary>
    /// The annotated image has the original's size; most pixels on each box's edge changed (a line was drawn there);
    /// almost none changed away from the boxes and the label strips above them (JPEG noise stays under the threshold).
    /// </summary>
    internal static void AssertDrawnOn(Mat original, Mat annotated, IReadOnlyList<Rect> boxes, double minEdgeChanged = 0.6)
    {
        Assert.Equal((original.Width, original.Height), (annotated.Width, annotated.Height));
        using var diff = new Mat();
        Cv2.Absdiff(original, annotated, diff);
        var channels = diff.Split();
        using var maxDiff = new Mat();
        Cv2.Max(channels[0], channels[1], maxDiff);
        Cv2.Max(maxDiff, channels[2], maxDiff);
        foreach (var channel in channels)
        {
            channel.Dispose();
        }

        using var changed = new Mat();
        Cv2.Threshold(maxDiff, changed, 48, 255, ThresholdTypes.Binary);
        var bounds = new Rect(0, 0, original.Width, original.Height);
        foreach (var box in boxes)
        {
            // The edge: a 2-pixel band along the box's four sides.
            var edge = 0;
            var drawn = 0;
            foreach (var side in new[]
                     {
                         new Rect(box.X, box.Y, box.Width, 2), new Rect(box.X, box.Bottom - 2, box.Width, 2),
                         new Rect(box.X, box.Y, 2, box.Height), new Rect(box.Right - 2, box.Y, 2, box.Height),
                     })
            {
                var clipped = side & bounds;
                edge += clipped.Width * clipped.Height;
                using var region = new Mat(changed, clipped);
                drawn += Cv2.CountNonZero(region);
            }

            Assert.True(drawn >= minEdgeChanged * edge, $"box {box}: {drawn} of {edge} edge pixels changed");
        }

        // Away from the boxes (line width, anti-aliasing, JPEG blocks) and their label strips (above or just inside the
        // top edge; text grows with the frame: a "person 0.87" label is about 0.25 of the short side wide), nothing was drawn.
        var shortSide = Math.Min(original.Width, original.Height);
        var margin = Math.Max(10, shortSide / 100);
        var (labelWidth, labelHeight) = ((int)(shortSide * 0.45), Math.Max(40, (int)(shortSide * 0.06)));
        using var allowed = new Mat(changed.Size(), MatType.CV_8UC1, Scalar.All(0));
        foreach (var box in boxes)
        {
            Cv2.Rectangle(allowed, new Rect(box.X - margin, box.Y - margin, box.Width + 2 * margin, box.Height + 2 * margin) & bounds, Scalar.All(255), -1);
            Cv2.Rectangle(allowed, new Rect(box.X - margin, box.Y - labelHeight - margin, labelWidth, 2 * (labelHeight + margin)) & bounds, Scalar.All(255), -1);
        }

        using var outside = new Mat();
        Cv2.BitwiseNot(allowed, outside);
        using var strayChanges = new Mat();
        Cv2.BitwiseAnd(changed, outside, strayChanges);
        var stray = Cv2.CountNonZero(strayChanges);
        var outsidePixels = Math.Max(1, Cv2.CountNonZero(outside));
        Assert.True(stray <= 0.001 * outsidePixels, $"{stray} of {outsidePixels} pixels away from every box changed");
    }
}
