using System.Diagnostics;
using System.Text.Json;
using OpenNvr.Contracts;
using OpenNvr.Contracts.Frames;
using OpenNvr.Contracts.Inference;
using OpenNvr.Contracts.Internal;
using OpenNvr.Contracts.Media;
using OpenNvr.Recorder.Recording;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Contracts;

/// <summary>The rules every service applies the same way because there is one copy of each (OpenNvr.Contracts).</summary>
public sealed class SharedRulesTests
{
    [Theory]
    [InlineData("1", true)]
    [InlineData("camera_0", true)]
    [InlineData("console-uploads", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("cam era", false)]
    [InlineData("cam/era", false)]
    [InlineData("1\n", false)] // '$' would have let a trailing newline through
    public void Camera_folders_are_one_safe_segment(string camera, bool valid)
    {
        Assert.Equal(valid, FrameNames.IsCameraFolder(camera));
        Assert.True(FrameNames.IsCameraFolder(new string('a', 64)));
        Assert.False(FrameNames.IsCameraFolder(new string('a', 65)));
    }

    [Theory]
    [InlineData("latest.jpg", true)]
    [InlineData("f-1795784710123-0.jpg", true)]
    [InlineData("0f8e.png", true)] // Core's console uploads are PNGs or JPEGs
    [InlineData("photo.JPEG", true)]
    [InlineData("latest.gif", false)]
    [InlineData("latest", false)]
    [InlineData(".hidden.jpg", false)]
    [InlineData("..jpg", false)]
    [InlineData("a..jpg", false)]
    [InlineData("a/b.jpg", false)]
    [InlineData("a\\b.jpg", false)]
    [InlineData("latest.jpg\n", false)]
    [InlineData("lat est.jpg", false)]
    public void Frame_files_are_jpeg_or_png_names_without_dots_in_front(string file, bool valid) =>
        Assert.Equal(valid, FrameNames.IsFrameFile(file));

    [Fact]
    public void Frame_files_are_at_most_128_characters()
    {
        Assert.True(FrameNames.IsFrameFile(new string('a', 124) + ".jpg"));
        Assert.True(FrameNames.IsFrameFile(new string('a', 123) + ".jpeg"));
        Assert.False(FrameNames.IsFrameFile(new string('a', 125) + ".jpg"));
        Assert.True(FrameNames.IsFrameFile(FrameNames.LatestFile));
    }

    [Theory]
    [InlineData("7", "camera_7")]          // the numeric alias
    [InlineData("0", "camera_0")]
    [InlineData("camera_7", "camera_7")]   // the reference's layout
    [InlineData("007", "007")]             // not an id spelling: a folder of its own
    [InlineData("99999999999", "99999999999")] // beyond int: a folder of its own, never an overflow
    [InlineData("console-uploads", "console-uploads")]
    public void Bare_camera_ids_are_an_alias_of_their_camera_folder(string camera, string folder)
    {
        Assert.Equal(folder, FrameNames.PublishedFolder(camera));
        Assert.Equal("camera_7", FrameNames.CameraFolder(7));
        Assert.Equal("opennvr://frames/camera_7/latest.jpg", FrameNames.FrameUri(7, FrameNames.LatestFile));
    }

    [Theory]
    [InlineData("camera_12", 12)]
    [InlineData("12", 12)]
    [InlineData("camera_", null)]
    [InlineData("camera_x", null)]
    [InlineData("cam_12", null)]
    [InlineData("console-uploads", null)]
    public void Camera_ids_are_read_back_from_both_folder_forms(string folder, int? id)
    {
        Assert.Equal(id is not null, FrameNames.TryParseCameraId(folder, out var parsed));
        Assert.Equal(id ?? 0, parsed);
    }

    [Fact]
    public void Media_types_follow_the_extension()
    {
        Assert.Equal(MediaTypes.Jpeg, MediaTypes.OfImageFile("latest.jpg"));
        Assert.Equal(MediaTypes.Jpeg, MediaTypes.OfImageFile("x.JPEG"));
        Assert.Equal(MediaTypes.Png, MediaTypes.OfImageFile("x.png"));
        Assert.Null(MediaTypes.OfImageFile("x.gif"));
    }

    [Theory]
    [InlineData("1/2026-11-27/13/05-10.mp4", true)]
    [InlineData("1/snapshots/2026-11-27/130510123.jpg", true)]
    [InlineData("../etc/passwd", false)]
    [InlineData("1/../../etc/passwd", false)]
    [InlineData("/abs.mp4", false)]
    [InlineData("1//a.mp4", false)]
    [InlineData("1/./a.mp4", false)]
    [InlineData("a.mp4\n", false)]
    [InlineData("", false)]
    public void Recording_paths_are_relative_segments(string path, bool valid)
    {
        var problem = RecordingPaths.Check(path, "recordings[0].path");
        Assert.Equal(valid, problem is null);
        if (problem is not null)
        {
            Assert.StartsWith("recordings[0].path ", problem);
        }
    }

    [Fact]
    public void Task_names_and_person_ids_have_one_rule()
    {
        Assert.True(TaskNames.IsValid("object-detection"));
        Assert.True(TaskNames.IsValid("person_counting"));
        Assert.False(TaskNames.IsValid("bad task!"));
        Assert.False(TaskNames.IsValid("t\n"));
        Assert.False(TaskNames.IsValid(new string('t', 65)));
        Assert.True(PersonIds.IsValid("emp_0042"));
        Assert.False(PersonIds.IsValid("emp.0042"));
        Assert.False(PersonIds.IsValid("x\n"));
        Assert.Equal(RecordingStates.Reported.Order(), new[] { "disabled", "error", "reconnecting", "recording", "stalled" });
    }

    [Fact]
    public void Image_headers_give_format_and_size_of_real_images_without_decoding()
    {
        var jpeg = File.ReadAllBytes(RepositoryPaths.TestData("persons", "vtest_0200.jpg"));
        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 768, 576), ImageHeader.TryRead(jpeg));
        Assert.Equal(ImageFormat.Jpeg, ImageHeader.DetectFormat(jpeg));

        var face = File.ReadAllBytes(RepositoryPaths.TestData("faces", "grace_hopper_512x512.jpg"));
        Assert.Equal((512, 512), ImageHeader.TryRead(face) is { } h ? (h.Width, h.Height) : default);

        var png = EncodePng(jpeg);
        Assert.Equal(new ImageHeader(ImageFormat.Png, 768, 576), ImageHeader.TryRead(png));
        Assert.Equal(".png", ImageHeader.TryRead(png)!.Value.Extension);

        Assert.Null(ImageHeader.TryRead(jpeg.AsSpan(0, 3)));      // a signature and nothing else
        Assert.Null(ImageHeader.TryRead(jpeg.AsSpan(0, 20)));     // cut before the frame header
        Assert.Null(ImageHeader.TryRead("not an image"u8));
        Assert.Null(ImageHeader.DetectFormat("GIF89a"u8));
    }

    [Fact]
    public void Mp4_boxes_of_real_files_plain_fragmented_and_torn()
    {
        var dir = Directory.CreateTempSubdirectory("opennvr-mp4boxes-");
        try
        {
            var plain = RepositoryPaths.TestData("video", "vtest.mp4");
            var plainBoxes = Walk(plain, out var plainMalformed);
            Assert.False(plainMalformed);
            Assert.Contains("ftyp", plainBoxes.Select(b => b.Type));
            Assert.Contains("moov", plainBoxes.Select(b => b.Type));
            Assert.Contains("mdat", plainBoxes.Select(b => b.Type));
            Assert.Equal(new FileInfo(plain).Length, plainBoxes[^1].End);

            // Fragmented like the Recorder's chunks: ftyp, moov, then moof/mdat pairs.
            var fragmented = Path.Combine(dir.FullName, "fragmented.mp4");
            Ffmpeg("-v", "error", "-i", plain, "-t", "3", "-c", "copy", "-movflags", "frag_keyframe+empty_moov+default_base_moof", fragmented);
            var boxes = Walk(fragmented, out var malformed);
            Assert.False(malformed);
            Assert.Equal(["ftyp", "moov"], boxes.Take(2).Select(b => b.Type));
            var fragments = boxes.Where(b => b.Type is "moof" or "mdat").ToList();
            Assert.True(fragments.Count >= 2);
            Assert.Equal(fragments.Count / 2, fragments.Count(b => b.Type == "moof"));
            Assert.All(boxes.Zip(boxes.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Offset));

            // Torn in the last mdat (a crash): the walk says so, and the Recorder cuts the torn fragment off.
            var torn = Path.Combine(dir.FullName, "torn.mp4");
            var lastMdat = boxes.Last(b => b.Type == "mdat");
            File.WriteAllBytes(torn, File.ReadAllBytes(fragmented).AsSpan(0, (int)(lastMdat.Offset + lastMdat.Size / 2)).ToArray());
            Walk(torn, out var tornMalformed);
            Assert.True(tornMalformed);
            var lastMoof = boxes.Last(b => b.Type == "moof");
            Assert.Equal(new FileInfo(torn).Length - lastMoof.Offset, Mp4Probe.TruncateIncompleteTail(torn));
            var repaired = Walk(torn, out var repairedMalformed);
            Assert.False(repairedMalformed);
            Assert.Equal("mdat", repaired[^1].Type);
            Assert.Equal(lastMoof.Offset, new FileInfo(torn).Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Contracts_travel_in_snake_case_and_infer_requests_take_the_form_of_their_task()
    {
        var e = new EventIngest(1, "person_counting", 1795784710123, Count: 2, Bbox: JsonSerializer.SerializeToElement(new[] { new[] { 1, 2, 3, 4 } }),
            CapturedAtUnixMs: 1795784710001, Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        var json = JsonSerializer.SerializeToElement(e, ContractJson.Options);
        Assert.Equal(1795784710123, json.GetProperty("executed_at_unix_ms").GetInt64());
        Assert.Equal(1795784710001, json.GetProperty("captured_at_unix_ms").GetInt64());
        Assert.Equal("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", json.GetProperty("traceparent").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("snapshot_path").ValueKind);
        Assert.Equal(e with { Bbox = null }, JsonSerializer.Deserialize<EventIngest>(json, ContractJson.Options)! with { Bbox = null });

        var heartbeat = JsonSerializer.Deserialize<HeartbeatRequest>("""{"recorder_id":"rec-1","base_url":"http://10.0.0.5:8100"}""", ContractJson.Options)!;
        Assert.Equal(HeartbeatRequest.DefaultMaxCameras, heartbeat.MaxCameras);

        var local = JsonSerializer.SerializeToElement(InferRequest.ForFrame("person_counting", "opennvr://frames/1/latest.jpg"), ContractJson.Options);
        Assert.Equal("opennvr://frames/1/latest.jpg", local.GetProperty("input").GetProperty("frame").GetProperty("uri").GetString());
        Assert.Equal(JsonValueKind.Null, local.GetProperty("input_data").ValueKind);
        var cloud = JsonSerializer.SerializeToElement(InferRequest.ForFrame("image-classification", "opennvr://frames/1/latest.jpg"), ContractJson.Options);
        Assert.Equal("opennvr://frames/1/latest.jpg", cloud.GetProperty("input_data").GetProperty("inputs").GetProperty("image").GetString());
    }

    private static List<Mp4Box> Walk(string path, out bool malformed)
    {
        using var stream = File.OpenRead(path);
        var reader = new Mp4Boxes(stream);
        var boxes = reader.TopLevel().ToList();
        malformed = reader.Malformed;
        return boxes;
    }

    private static byte[] EncodePng(byte[] jpeg)
    {
        using var image = OpenCvSharp.Cv2.ImDecode(jpeg, OpenCvSharp.ImreadModes.Color);
        return image.ImEncode(".png");
    }

    private static void Ffmpeg(params string[] args)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);
    }
}
