using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenCvSharp;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>Frames root with hostile content: links out of the root, non-images, a decompression bomb, a big file.</summary>
public sealed class HostileFramesFixture : InferenceServiceFixture
{
    public const long MaxFrameBytes = 2_000_000;

    public string Outside { get; } = TestTemp.NewFolder("outside");

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("Inference:MaxFrameBytes", MaxFrameBytes.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var hostile = Directory.CreateDirectory(Path.Combine(FramesRoot, "hostile")).FullName;
        Directory.CreateDirectory(Outside);
        File.Copy(RepositoryPaths.TestData("persons", "astronaut.jpg"), Path.Combine(Outside, "secret.jpg"));

        // A camera folder and a file that are links leading out of the root, and one link that stays inside.
        Directory.CreateSymbolicLink(Path.Combine(FramesRoot, "escape"), Outside);
        File.CreateSymbolicLink(Path.Combine(hostile, "link_out.jpg"), Path.Combine(Outside, "secret.jpg"));
        File.CreateSymbolicLink(Path.Combine(hostile, "link_in.jpg"), Path.Combine(FramesRoot, "persons", "astronaut.jpg"));

        File.WriteAllText(Path.Combine(hostile, "text.jpg"), "this is not an image, only text with an image's name\n");
        File.WriteAllBytes(Path.Combine(hostile, "empty.png"), []);
        // JPEG magic followed by garbage: looks like a JPEG to a naive check, has no frame header.
        File.WriteAllBytes(Path.Combine(hostile, "garbage.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, .. Encoding.ASCII.GetBytes("garbage garbage garbage")]);
        File.WriteAllBytes(Path.Combine(hostile, "bomb.png"), PngBomb(100_000, 100_000));

        // A real JPEG above the byte limit but below the pixel limit (noise does not compress).
        using var noise = new Mat(2000, 2000, MatType.CV_8UC3);
        Cv2.Randu(noise, OpenCvSharp.Scalar.All(0), OpenCvSharp.Scalar.All(255));
        Cv2.ImWrite(Path.Combine(hostile, "big.jpg"), noise, [(int)ImwriteFlags.JpegQuality, 100]);
        Assert.True(new FileInfo(Path.Combine(hostile, "big.jpg")).Length > MaxFrameBytes);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        TestTemp.TryDelete(Outside);
    }

    /// <summary>A tiny PNG (signature, IHDR, empty IDAT, IEND) whose header claims a huge canvas.</summary>
    public static byte[] PngBomb(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", [.. BigEndian(width), .. BigEndian(height), 8, 2, 0, 0, 0]);
        WriteChunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        WriteChunk(png, "IEND", []);
        return png.ToArray();

        static byte[] BigEndian(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

        static uint Crc32(byte[] bytes)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in bytes)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
                }
            }

            return ~crc;
        }

        static void WriteChunk(Stream stream, string type, byte[] data)
        {
            var typeBytes = Encoding.ASCII.GetBytes(type);
            stream.Write(BigEndian(data.Length));
            stream.Write(typeBytes);
            stream.Write(data);
            stream.Write(BigEndian((int)Crc32([.. typeBytes, .. data])));
        }
    }
}

/// <summary>Every error path of <c>POST /infer</c>: the right 4xx status and a problem body whose detail says why.</summary>
public sealed class InferErrorTests(HostileFramesFixture fixture) : IClassFixture<HostileFramesFixture>
{
    [Theory]
    [InlineData("""{"input":{"frame":{"uri":"opennvr://frames/persons/astronaut.jpg"}}}""", "\"task\" is required")]
    [InlineData("""{"task":null,"input":{"frame":{"uri":"opennvr://frames/persons/astronaut.jpg"}}}""", "\"task\" is required")]
    [InlineData("""{"task":42,"input":{"frame":{"uri":"opennvr://frames/persons/astronaut.jpg"}}}""", "\"task\" must be a string")]
    [InlineData("""{"task":"","input":{}}""", "\"task\" must be 1 to")]
    [InlineData("""{"task":"no_such_task","input":{"frame":{"uri":"opennvr://frames/persons/astronaut.jpg"}}}""", "Unknown task 'no_such_task'")]
    [InlineData("""{"task":"person_counting"}""", "input.frame is required")]
    [InlineData("""{"task":"person_counting","input":{}}""", "input.frame is required")]
    [InlineData("""{"task":"person_counting","input":"opennvr://frames/persons/astronaut.jpg"}""", "\"input\" must be an object")]
    [InlineData("""{"task":"person_counting","input":{"frame":"opennvr://frames/persons/astronaut.jpg"}}""", "input.frame must be an object")]
    [InlineData("""{"task":"person_counting","input":{"frame":{}}}""", "input.frame.uri is required")]
    [InlineData("""{"task":"person_counting","input":{"frame":{"uri":7}}}""", "input.frame.uri must be a string")]
    [InlineData("""{"task":"person_counting","input":{"frame":{"uri":""}}}""", "empty")]
    [InlineData("""{"task":"person_counting",""", "not valid JSON")]
    [InlineData("""not json at all""", "not valid JSON")]
    [InlineData("""[1,2,3]""", "must be a JSON object")]
    [InlineData("", "empty")]
    public async Task Malformed_requests_are_400_problems(string body, string detail)
    {
        await AssertProblemAsync(await PostRawAsync(body), HttpStatusCode.BadRequest, detail);
    }

    [Theory]
    [InlineData("file:///etc/passwd", "scheme 'file'")]
    [InlineData("http://example.com/frame.jpg", "scheme 'http'")]
    [InlineData("https://recorder/frames/persons/astronaut.jpg", "scheme 'https'")]
    [InlineData("/etc/passwd", "not a frame URI")]
    [InlineData("persons/astronaut.jpg", "not a frame URI")]
    public async Task Other_schemes_are_refused(string uri, string detail)
    {
        await AssertProblemAsync(await InferAsync(uri), HttpStatusCode.BadRequest, detail);
    }

    [Theory]
    [InlineData("opennvr://frames/../persons/astronaut.jpg")]
    [InlineData("opennvr://frames/persons/../../etc/passwd.jpg")]
    [InlineData("opennvr://frames/persons/..")]
    [InlineData("opennvr://frames/../../../../etc/passwd")]
    [InlineData("opennvr://frames/%2e%2e/persons/astronaut.jpg")]
    [InlineData("opennvr://frames/persons/%2e%2e%2f%2e%2e%2fetc%2fpasswd.jpg")]
    [InlineData("opennvr://frames/persons/..%2Fhostile%2Ftext.jpg")]
    [InlineData("opennvr://frames/persons/%252e%252e%252fsecret.jpg")]
    [InlineData("opennvr://frames/persons\\..\\negative\\dogs.jpg")]
    [InlineData("opennvr:///etc/passwd.jpg")]
    [InlineData("opennvr://frames//etc/passwd.jpg")]
    [InlineData("opennvr://frames/persons//astronaut.jpg")]
    [InlineData("opennvr://frames/persons/.hidden.jpg")]
    [InlineData("opennvr://frames/persons/astronaut.jpg?x=1")]
    [InlineData("opennvr://frames/persons/astronaut.jpg\n")]
    [InlineData("opennvr://frames/persons/astronaut.txt")]
    [InlineData("opennvr://frames/a/b/c/astronaut.jpg")]
    public async Task Traversal_attempts_are_refused_before_touching_the_disk(string uri)
    {
        await AssertProblemAsync(await InferAsync(uri), HttpStatusCode.BadRequest, "");
    }

    [Fact]
    public async Task An_over_long_uri_is_refused()
    {
        var uri = "opennvr://frames/persons/" + new string('a', 5000) + ".jpg";
        await AssertProblemAsync(await InferAsync(uri), HttpStatusCode.BadRequest, "at most 512");
    }

    [Theory]
    [InlineData("opennvr://frames/escape/secret.jpg")]
    [InlineData("opennvr://frames/hostile/link_out.jpg")]
    public async Task Links_that_leave_the_frames_root_are_refused(string uri)
    {
        await AssertProblemAsync(await InferAsync(uri), HttpStatusCode.Forbidden, "outside Frames:Root");
    }

    [Fact]
    public async Task A_link_that_stays_inside_the_frames_root_is_followed()
    {
        var result = await fixture.InferAsync("person_counting", "opennvr://frames/hostile/link_in.jpg");
        Assert.Equal(1, result.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("opennvr://frames/persons/missing.jpg")]
    [InlineData("opennvr://frames/no_such_camera/latest.jpg")]
    public async Task A_missing_frame_is_404(string uri)
    {
        await AssertProblemAsync(await InferAsync(uri), HttpStatusCode.NotFound, "was found nowhere under Frames:Root");
    }

    [Theory]
    [InlineData("text.jpg", "not a JPEG or PNG")]
    [InlineData("empty.png", "not a JPEG or PNG")]
    [InlineData("garbage.jpg", "not a JPEG or PNG")]
    public async Task Non_image_bytes_are_415(string file, string detail)
    {
        await AssertProblemAsync(await InferAsync($"opennvr://frames/hostile/{file}"), HttpStatusCode.UnsupportedMediaType, detail);
    }

    [Fact]
    public async Task A_decompression_bomb_is_refused_from_its_header()
    {
        await AssertProblemAsync(await InferAsync("opennvr://frames/hostile/bomb.png"), HttpStatusCode.UnprocessableEntity,
            "100000x100000 (10000000000 pixels); at most 40000000 pixels");
    }

    [Fact]
    public async Task A_frame_above_the_byte_limit_is_refused()
    {
        await AssertProblemAsync(await InferAsync("opennvr://frames/hostile/big.jpg"), HttpStatusCode.UnprocessableEntity, "Inference:MaxFrameBytes");
    }

    [Fact]
    public async Task A_huge_body_is_413()
    {
        var padding = new string('x', 200_000);
        var body = JsonSerializer.Serialize(new { task = "person_counting", input = new { frame = new { uri = "opennvr://frames/persons/astronaut.jpg" }, padding } });
        await AssertProblemAsync(await PostRawAsync(body), HttpStatusCode.RequestEntityTooLarge, "exceeds 65536 bytes");
    }

    [Fact]
    public async Task A_non_json_content_type_is_415()
    {
        using var content = new StringContent("task=person_counting", Encoding.UTF8, "application/x-www-form-urlencoded");
        await AssertProblemAsync(await fixture.Client.PostAsync("/infer", content), HttpStatusCode.UnsupportedMediaType, "must be JSON");
    }

    [Fact]
    public async Task Unknown_schema_task_is_a_404_problem()
    {
        await AssertProblemAsync(await fixture.Client.GetAsync("/schema?task=no_such_task"), HttpStatusCode.NotFound, "Unknown task 'no_such_task'");
    }

    [Fact]
    public async Task The_service_still_serves_after_every_kind_of_bad_request()
    {
        await PostRawAsync("""{"task":"person_counting",""");
        await InferAsync("opennvr://frames/hostile/bomb.png");
        await InferAsync("opennvr://frames/hostile/text.jpg");
        var result = await fixture.InferAsync("person_counting", "opennvr://frames/persons/grace_hopper.jpg");
        Assert.Equal(1, result.GetProperty("count").GetInt32());
    }

    private Task<HttpResponseMessage> InferAsync(string uri) =>
        fixture.Client.PostAsJsonAsync("/infer", InferenceServiceFixture.InferBody("person_counting", uri));

    private Task<HttpResponseMessage> PostRawAsync(string body) =>
        fixture.Client.PostAsync("/infer", new StringContent(body, Encoding.UTF8, "application/json"));

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(body);
            Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
            var detail = problem.RootElement.GetProperty("detail").GetString();
            Assert.False(string.IsNullOrWhiteSpace(detail), body);
            Assert.Contains(detailContains, detail, StringComparison.Ordinal);
        }
    }
}
