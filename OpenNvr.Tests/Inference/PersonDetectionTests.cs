using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenCvSharp;
using OpenNvr.Inference.Detection;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>The bundled CenterNet model on real photos with known numbers of people (testdata/TESTDATA.md).</summary>
public sealed class PersonDetectionTests(InferenceServiceFixture fixture) : IClassFixture<InferenceServiceFixture>
{
    private static readonly (string File, int People)[] VtestFrames =
        [("vtest_0000.jpg", 3), ("vtest_0200.jpg", 7), ("vtest_0400.jpg", 3), ("vtest_0600.jpg", 6)];

    [Fact]
    public async Task Person_counting_on_the_vtest_frames_is_within_one_and_the_mean_error_at_most_one()
    {
        var errors = new List<int>();
        foreach (var (file, people) in VtestFrames)
        {
            var result = await fixture.InferAsync("person_counting", $"opennvr://frames/persons/{file}");
            var count = result.GetProperty("count").GetInt32();
            Assert.True(Math.Abs(count - people) <= 1, $"{file}: counted {count}, expected {people} +-1");
            Assert.Equal(count, result.GetProperty("detections").GetArrayLength());
            errors.Add(Math.Abs(count - people));
        }

        Assert.True(errors.Average() <= 1.0, $"mean absolute error {errors.Average()}");
    }

    [Fact]
    public async Task Person_counting_fuses_faces_by_default_says_which_boxes_came_from_faces_and_can_be_asked_not_to()
    {
        // A group photo whose bodies are cut off by the frame while every face is visible (testdata/TESTDATA.md: 24 people).
        Directory.CreateDirectory(Path.Combine(fixture.FramesRoot, "groups"));
        File.Copy(RepositoryPaths.TestData("faces", "bald_guys.jpg"), Path.Combine(fixture.FramesRoot, "groups", "bald_guys.jpg"), overwrite: true);

        var fused = await fixture.InferAsync("person_counting", "opennvr://frames/groups/bald_guys.jpg");
        using var plainResponse = await fixture.Client.PostAsJsonAsync("/infer", new
        {
            task = "person_counting", input = new { frame = new { uri = "opennvr://frames/groups/bald_guys.jpg" }, options = new { fuse_faces = false } },
        });
        var plain = JsonDocument.Parse(await plainResponse.Content.ReadAsStringAsync()).RootElement;

        Assert.True(fused.GetProperty("faces_fused").GetBoolean());
        Assert.False(plain.GetProperty("faces_fused").GetBoolean());
        var sources = fused.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("source").GetString()).ToList();
        Assert.All(plain.GetProperty("detections").EnumerateArray(), d => Assert.Equal("body", d.GetProperty("source").GetString()));
        Assert.Equal(plain.GetProperty("count").GetInt32(), sources.Count(s => s == "body"));
        Assert.True(sources.Count(s => s == "face") >= 1, fused.GetRawText());
        Assert.InRange(fused.GetProperty("count").GetInt32(), 22, 26);
        Assert.True(plain.GetProperty("count").GetInt32() < fused.GetProperty("count").GetInt32());

        // On the CCTV frames faces are too small to find: fusion changes nothing there.
        var cctv = await fixture.InferAsync("person_counting", "opennvr://frames/persons/vtest_0200.jpg");
        Assert.All(cctv.GetProperty("detections").EnumerateArray(), d => Assert.Equal("body", d.GetProperty("source").GetString()));

        using var bad = await fixture.Client.PostAsJsonAsync("/infer", new
        {
            task = "person_counting", input = new { frame = new { uri = "opennvr://frames/groups/bald_guys.jpg" }, options = new { fuse_faces = "yes" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("fuse_faces", await bad.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("negative", "dogs.jpg", 0)]
    [InlineData("persons", "astronaut.jpg", 1)]
    [InlineData("persons", "grace_hopper.jpg", 1)]
    public async Task Person_counting_is_exact_on_clear_photos(string camera, string file, int people)
    {
        var result = await fixture.InferAsync("person_counting", $"opennvr://frames/{camera}/{file}");

        Assert.Equal(people, result.GetProperty("count").GetInt32());
        Assert.Equal("person_counting", result.GetProperty("task").GetString());
        if (people == 0)
        {
            Assert.Equal(0.0, result.GetProperty("confidence").GetDouble());
        }
    }

    [Fact]
    public async Task The_short_uri_form_names_the_same_frame()
    {
        var longForm = await fixture.InferAsync("person_counting", "opennvr://frames/persons/vtest_0200.jpg");
        var shortForm = await fixture.InferAsync("person_counting", "opennvr://persons/vtest_0200.jpg");

        Assert.Equal(longForm.GetProperty("detections").GetRawText(), shortForm.GetProperty("detections").GetRawText());
    }

    [Fact]
    public async Task The_references_frame_uris_work_as_written_and_the_bare_id_is_an_alias()
    {
        // Verbatim from the API reference: the frame the Recorder publishes under frames/camera_0/.
        var reference = await fixture.InferAsync("person_counting", "opennvr://frames/camera_0/latest.jpg");
        var count = reference.GetProperty("count").GetInt32();
        Assert.InRange(count, 6, 8); // vtest_0200.jpg shows 7 people
        foreach (var uri in new[] { "opennvr://camera_0/latest.jpg", "opennvr://frames/0/latest.jpg", "opennvr://0/latest.jpg" })
        {
            var alias = await fixture.InferAsync("person_counting", uri);
            Assert.Equal(reference.GetProperty("detections").GetRawText(), alias.GetProperty("detections").GetRawText());
        }

        // "00" is not a spelling of camera 0: a folder of its own, which does not exist.
        using var missing = await fixture.Client.PostAsJsonAsync("/infer", InferenceServiceFixture.InferBody("person_counting", "opennvr://frames/00/latest.jpg"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("vtest_0200.jpg")]
    [InlineData("astronaut.jpg")]
    [InlineData("basketball1.jpg")]
    public async Task Boxes_are_ltwh_inside_the_original_frame(string file)
    {
        var (width, height) = ImageSize(RepositoryPaths.TestData("persons", file));
        var counting = await fixture.InferAsync("person_counting", $"opennvr://frames/persons/{file}");
        var objects = await fixture.InferAsync("object_detection", $"opennvr://frames/persons/{file}");

        var boxes = counting.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("bbox"))
            .Concat(objects.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("bbox")))
            .ToList();
        Assert.NotEmpty(boxes);
        foreach (var bbox in boxes)
        {
            var (left, top, w, h) = Ltwh(bbox);
            Assert.True(left >= 0 && top >= 0 && w > 0 && h > 0 && left + w <= width && top + h <= height,
                $"{file}: box [{left},{top},{w},{h}] is not inside {width}x{height}");
        }

        foreach (var detection in counting.GetProperty("detections").EnumerateArray())
        {
            Assert.Equal(JsonValueKind.Null, detection.GetProperty("track_id").ValueKind);
            Assert.InRange(detection.GetProperty("confidence").GetDouble(), 0.35, 1.0);
        }
    }

    [Fact]
    public async Task Boxes_are_in_original_frame_pixels_not_model_input_pixels()
    {
        // The portrait fills grace_hopper.jpg (512x600): its person box must span most of the 600 rows, which a
        // box left in the model's 512x512 space could not do.
        var result = await fixture.InferAsync("person_detection", "opennvr://frames/persons/grace_hopper.jpg");
        var (_, top, _, height) = Ltwh(result.GetProperty("bbox"));

        Assert.True(top + height > 512, $"box bottom {top + height} should lie below row 512 of the 600-row frame");
    }

    [Fact]
    public async Task Person_detection_returns_the_most_confident_person_of_person_counting()
    {
        const string uri = "opennvr://frames/persons/vtest_0600.jpg";
        var counting = await fixture.InferAsync("person_counting", uri);
        var detection = await fixture.InferAsync("person_detection", uri);

        var best = counting.GetProperty("detections").EnumerateArray().MaxBy(d => d.GetProperty("confidence").GetDouble());
        Assert.Equal("person", detection.GetProperty("label").GetString());
        Assert.Equal(best.GetProperty("confidence").GetDouble(), detection.GetProperty("confidence").GetDouble());
        Assert.Equal(best.GetProperty("bbox").GetRawText(), detection.GetProperty("bbox").GetRawText());
        Assert.True(detection.GetProperty("executed_at").GetInt64() > DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds());
        Assert.True(detection.GetProperty("latency_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task Person_detection_without_a_person_reports_zero_confidence_and_an_empty_box()
    {
        var result = await fixture.InferAsync("person_detection", "opennvr://frames/negative/dogs.jpg");

        Assert.Equal(0.0, result.GetProperty("confidence").GetDouble());
        Assert.Equal("[0,0,0,0]", result.GetProperty("bbox").GetRawText());
    }

    [Fact]
    public async Task Object_detection_labels_every_coco_class_it_finds()
    {
        var dogs = await fixture.InferAsync("object_detection", "opennvr://frames/negative/dogs.jpg");
        var messi = await fixture.InferAsync("object_detection", "opennvr://frames/persons/messi5.jpg");

        var dogLabels = dogs.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("label").GetString()).ToList();
        Assert.True(dogLabels.Count(l => l == "dog") >= 3, string.Join(",", dogLabels));
        Assert.DoesNotContain("person", dogLabels);
        Assert.Equal(dogLabels.Count, dogs.GetProperty("count").GetInt32());
        var messiLabels = messi.GetProperty("detections").EnumerateArray().Select(d => d.GetProperty("label").GetString()).ToList();
        Assert.Contains("person", messiLabels);
        Assert.Contains("sports ball", messiLabels);
    }

    [Fact]
    public void CenterNet_input_is_the_frame_stretched_to_512_in_rgb_0_to_255()
    {
        var detector = Assert.IsType<CenterNetDetector>(fixture.Factory.Services.GetRequiredService<IObjectDetector>());
        using var frame = new Mat(720, 1280, MatType.CV_8UC3, new OpenCvSharp.Scalar(10, 20, 30)); // B, G, R
        frame[new Rect(0, 0, 640, 720)].SetTo(new OpenCvSharp.Scalar(200, 100, 0)); // left half blue-ish

        var tensor = detector.PreprocessToArray(frame);

        Assert.Equal(512 * 512 * 3, tensor.Length);
        float[] Pixel(int row, int column) => tensor.AsSpan((row * 512 + column) * 3, 3).ToArray();
        Assert.Equal([0f, 100f, 200f], Pixel(10, 10));     // NHWC, R first
        Assert.Equal([30f, 20f, 10f], Pixel(500, 500));
        Assert.Equal([30f, 20f, 10f], Pixel(0, 300));      // no padding: the width is stretched, 640 px become 256
    }

    internal static (int Left, int Top, int Width, int Height) Ltwh(JsonElement bbox)
    {
        var v = bbox.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(4, v.Length);
        return (v[0], v[1], v[2], v[3]);
    }

    private static (int Width, int Height) ImageSize(string path)
    {
        using var image = Cv2.ImRead(path);
        return (image.Width, image.Height);
    }
}
