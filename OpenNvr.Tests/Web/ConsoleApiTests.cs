using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Web;

/// <summary>Core with the settings the console routes read, plus stand-ins for a Recorder's frames and Inference's faces.</summary>
public sealed class ConsoleApiFixture : CoreFixture, IAsyncLifetime
{
    public const string InferenceKey = "inference-key-for-tests-0123456789";

    public string FramesRoot { get; } = TestTemp.NewFolder("console-frames");

    public FrameServer Frames { get; private set; } = null!;

    public Dictionary<string, byte[][]> PublishedFrames { get; } = [];

    public FacesStandIn Faces { get; private set; } = null!;

    protected override void Configure(IWebHostBuilder host)
    {
        host.UseSetting("Cameras:AllowFileSources", "true");
        host.UseSetting("Frames:Root", FramesRoot);
        host.UseSetting(ServiceKeys.CoreInference, InferenceKey);
        host.UseSetting("WebConsole:InferenceUrl", Faces.BaseUrl);
    }

    public new async Task InitializeAsync()
    {
        Directory.CreateDirectory(FramesRoot);
        Frames = await FrameServer.StartAsync(InternalKey, PublishedFrames, TimeSpan.FromMilliseconds(500));
        Faces = await FacesStandIn.StartAsync(InferenceKey, FramesRoot);
        await base.InitializeAsync();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Frames.DisposeAsync();
        await Faces.DisposeAsync();
        TestTemp.TryDelete(FramesRoot);
    }

    public async Task HeartbeatAsync(string recorderId, string baseUrl)
    {
        using var client = Internal();
        using var response = await client.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat", new { recorder_id = recorderId, base_url = baseUrl, max_cameras = 100 });
        await HttpAssert.OkJsonAsync(response);
    }
}

/// <summary>
/// Answers /faces/* as Inference does (contract in API.md), checking X-API-Key and recording each registration: a
/// photo in the body (multipart, what Core sends) with a null URI, or what a frame URI pointed at when it arrived.
/// </summary>
public sealed class FacesStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FacesStandIn(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public List<(string? Uri, byte[] Frame, JsonNode Body)> Registrations { get; } = [];

    public int WrongKeys { get; private set; }

    public static async Task<FacesStandIn> StartAsync(string apiKey, string framesRoot)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var standIn = new FacesStandIn(app);
        var faces = new Dictionary<string, JsonObject>();
        app.Use(async (http, next) =>
        {
            if (http.Request.Headers["X-API-Key"] != apiKey)
            {
                standIn.WrongKeys++;
                await Results.Problem(statusCode: 401, detail: "Invalid or missing API key.").ExecuteAsync(http);
                return;
            }

            await next(http);
        });
        app.MapGet("/faces/list", (string? category) =>
        {
            var list = faces.Values.Where(f => category is null || (string)f["category"]! == category).ToList();
            return Results.Json(new { faces = list, total_count = list.Count });
        });
        app.MapPost("/faces/register", async (HttpContext http) =>
        {
            JsonNode body;
            if (http.Request.HasFormContentType)
            {
                var form = await http.Request.ReadFormAsync();
                using var photo = new MemoryStream();
                if (form.Files.GetFile("image") is { } image)
                {
                    await image.CopyToAsync(photo);
                }

                body = new JsonObject
                {
                    ["person_id"] = form["person_id"].ToString(),
                    ["name"] = form["name"].ToString(),
                    ["category"] = form["category"].ToString() is { Length: > 0 } category ? category : null,
                    ["metadata"] = form["metadata"].ToString() is { Length: > 0 } metadata ? JsonNode.Parse(metadata) : null,
                };
                standIn.Registrations.Add((null, photo.ToArray(), body));
            }
            else
            {
                body = (await JsonNode.ParseAsync(http.Request.Body))!;
                var uri = (string)body["frame"]!["uri"]!;
                var path = Path.Combine(framesRoot, uri["opennvr://frames/".Length..]);
                standIn.Registrations.Add((uri, File.Exists(path) ? await File.ReadAllBytesAsync(path) : [], body));
            }

            var id = (string)body["person_id"]!;
            faces[id] = new JsonObject { ["person_id"] = id, ["name"] = (string)body["name"]!, ["category"] = (string?)body["category"] ?? "unknown" };
            return Results.Json(new { success = true, person_id = id, name = (string)body["name"]! });
        });
        app.MapDelete("/faces/{id}", (string id) => faces.Remove(id)
            ? Results.Json(new { success = true, person_id = id })
            : Results.Problem(statusCode: 404, detail: $"No face identity is registered with person_id '{id}'."));
        await app.StartAsync();
        standIn.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return standIn;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The Core routes the console needs: live frames, the camera URL test, the faces proxy, and page routing.</summary>
public sealed class ConsoleApiTests(ConsoleApiFixture core) : IClassFixture<ConsoleApiFixture>
{
    private static readonly byte[] Frame0 = File.ReadAllBytes(RepositoryPaths.TestData("persons", "vtest_0000.jpg"));
    private static readonly byte[] Frame1 = File.ReadAllBytes(RepositoryPaths.TestData("persons", "vtest_0200.jpg"));

    [Fact]
    public async Task Live_frame_comes_from_the_recorder_holding_the_lease_with_the_internal_key()
    {
        var id = await core.CreateCameraAsync("live-" + Guid.NewGuid().ToString("N")[..6]);
        core.PublishedFrames[id.ToString()] = [Frame0, Frame1];
        await core.HeartbeatAsync("rec-live-" + id, core.Frames.BaseUrl);

        using var admin = await core.AdminAsync();
        using var response = await admin.GetAsync($"/api/v1/cameras/{id}/frame.jpg");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.SequenceEqual(Frame0) || bytes.SequenceEqual(Frame1), "the proxied bytes are not a published frame");
        Assert.Equal(0, core.Frames.Unauthorized);

        // A media token of this camera opens it (an <img> cannot send headers); one of another camera does not.
        var token = (string)(await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{id}/media-token", null)))["token"]!;
        using var anonymous = core.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/v1/cameras/{id}/frame.jpg?token={token}")).StatusCode);
        var other = await core.CreateCameraAsync("other-" + Guid.NewGuid().ToString("N")[..6]);
        var otherToken = (string)(await HttpAssert.OkJsonAsync(await admin.PostAsync($"/api/v1/recordings/{other}/media-token", null)))["token"]!;
        await HttpAssert.ProblemAsync(await anonymous.GetAsync($"/api/v1/cameras/{id}/frame.jpg?token={otherToken}"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await anonymous.GetAsync($"/api/v1/cameras/{id}/frame.jpg"), HttpStatusCode.Unauthorized);

        // Grants decide for operators and viewers; an ungranted camera looks like no camera.
        var (_, stranger) = await core.CreateUserAsync("viewer");
        Assert.Contains("does not exist", await HttpAssert.ProblemAsync(await stranger.GetAsync($"/api/v1/cameras/{id}/frame.jpg"), HttpStatusCode.NotFound));
        var (_, granted) = await core.CreateUserAsync("viewer", id);
        Assert.Equal(HttpStatusCode.OK, (await granted.GetAsync($"/api/v1/cameras/{id}/frame.jpg")).StatusCode);
    }

    [Fact]
    public async Task Live_frame_is_404_without_a_recorder_or_a_frame_and_502_when_the_recorder_is_down()
    {
        using var admin = await core.AdminAsync();
        var notRecording = await core.CreateCameraAsync("norec-" + Guid.NewGuid().ToString("N")[..6], new { recording_enabled = false });
        await core.HeartbeatAsync("rec-any", core.Frames.BaseUrl);
        Assert.Contains("No recorder holds", await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/cameras/{notRecording}/frame.jpg"), HttpStatusCode.NotFound));

        // Leased to the live frame server, which has published nothing for it yet.
        var noFrame = await core.CreateCameraAsync("noframe-" + Guid.NewGuid().ToString("N")[..6]);
        await core.HeartbeatAsync("rec-any", core.Frames.BaseUrl);
        Assert.Contains("has not published a frame", await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/cameras/{noFrame}/frame.jpg"), HttpStatusCode.NotFound));

        // Leased to a recorder whose address answers nothing: a quick 502, never a hang.
        var orphan = await core.CreateCameraAsync("down-" + Guid.NewGuid().ToString("N")[..6]);
        await core.ExecuteAsync("DELETE FROM recorder_leases WHERE camera_id <> $1", orphan);
        await core.ExecuteAsync("UPDATE recorders SET last_heartbeat_at = now() - interval '1 hour'");
        await core.HeartbeatAsync("rec-down", "http://127.0.0.1:1");
        Assert.Equal("rec-down", await core.ScalarAsync<string>("SELECT recorder_id FROM recorder_leases WHERE camera_id = $1", orphan));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var detail = await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/cameras/{orphan}/frame.jpg"), HttpStatusCode.BadGateway);
        Assert.Contains("rec-down", detail);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(6), $"502 took {started.Elapsed}");
    }

    [Fact]
    public async Task Url_test_validates_probes_and_never_echoes_credentials()
    {
        using var admin = await core.AdminAsync();
        Assert.Contains("not allowed", await HttpAssert.ProblemAsync(
            await admin.PostAsJsonAsync("/api/v1/cameras/test-url", new { rtsp_url = "rtsp://cam.local/$(reboot)" }), HttpStatusCode.BadRequest));
        Assert.Contains("rtsp://", await HttpAssert.ProblemAsync(
            await admin.PostAsJsonAsync("/api/v1/cameras/test-url", new { rtsp_url = "http://cam.local/" }), HttpStatusCode.BadRequest));
        await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/cameras/test-url", new StringContent("{\"rtsp_url\": 5}", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.Contains("camera_id", await HttpAssert.ProblemAsync(
            await admin.PostAsJsonAsync("/api/v1/cameras/test-url", new { rtsp_url = "rtsp://***:***@cam.local/x" }), HttpStatusCode.BadRequest));

        // A real file through ffprobe: what the stream carries.
        var file = new Uri(RepositoryPaths.TestData("video", "vtest.mp4")).AbsoluteUri;
        var ok = await HttpAssert.OkJsonAsync(await admin.PostAsJsonAsync("/api/v1/cameras/test-url", new { rtsp_url = file }));
        Assert.True((bool)ok["ok"]!, ok.ToJsonString());
        Assert.Equal("Video h264 768x576", (string)ok["detail"]!);
        Assert.Equal(768, (int)ok["streams"]![0]!["width"]!);

        // Nothing listens: a fast, plain failure, without the password anywhere.
        var refused = await HttpAssert.OkJsonAsync(await admin.PostAsJsonAsync("/api/v1/cameras/test-url",
            new { rtsp_url = "rtsp://watcher:TopSecret-42@127.0.0.1:1/stream" }));
        Assert.False((bool)refused["ok"]!);
        Assert.DoesNotContain("TopSecret-42", refused.ToJsonString());
        Assert.True((long)refused["elapsed_ms"]! < 8000);

        var (_, viewer) = await core.CreateUserAsync("viewer");
        await HttpAssert.ProblemAsync(await viewer.PostAsJsonAsync("/api/v1/cameras/test-url", new { rtsp_url = file }), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Faces_are_proxied_to_inference_with_its_key_and_photos_handed_over_in_the_request_body()
    {
        var (_, op) = await core.CreateUserAsync("operator");
        var photo = await File.ReadAllBytesAsync(RepositoryPaths.TestData("persons", "grace_hopper.jpg"));
        using var form = new MultipartFormDataContent
        {
            { new StringContent("grace"), "person_id" }, { new StringContent("Grace Hopper"), "name" }, { new StringContent("vip"), "category" },
        };
        var file = new ByteArrayContent(photo);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "photo", "grace.jpg");
        var registered = await HttpAssert.OkJsonAsync(await op.PostAsync("/api/v1/faces/register", form));
        Assert.True((bool)registered["success"]!);

        var (uri, frame, body) = core.Faces.Registrations[^1];
        Assert.Null(uri);
        Assert.True(frame.SequenceEqual(photo), "Inference did not receive the uploaded photo in the request body");
        Assert.Equal("vip", (string)body["category"]!);
        Assert.Equal("Grace Hopper", (string)body["name"]!);
        // No folder in common: Core wrote nothing under the frames root it was given.
        Assert.Empty(Directory.EnumerateFileSystemEntries(core.FramesRoot));
        Assert.Equal(0, core.Faces.WrongKeys);

        var list = await HttpAssert.OkJsonAsync(await op.GetAsync("/api/v1/faces?category=vip"));
        Assert.Equal("grace", (string)list["faces"]![0]!["person_id"]!);
        Assert.Equal(HttpStatusCode.OK, (await op.DeleteAsync("/api/v1/faces/grace")).StatusCode);
        Assert.Contains("grace", await HttpAssert.ProblemAsync(await op.DeleteAsync("/api/v1/faces/grace"), HttpStatusCode.NotFound));
        Assert.Equal(1L, await core.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'face.register' AND target_id = 'grace'"));
    }

    [Fact]
    public async Task Face_from_an_event_snapshot_sends_the_snapshot_and_bad_input_is_a_clear_4xx()
    {
        var camera = await core.CreateCameraAsync("faces-" + Guid.NewGuid().ToString("N")[..6]);
        var snapshot = $"{camera}/snapshots/face.jpg";
        Directory.CreateDirectory(Path.Combine(core.RecordingsRoot, camera.ToString(), "snapshots"));
        var jpeg = await File.ReadAllBytesAsync(RepositoryPaths.TestData("persons", "astronaut.jpg"));
        await File.WriteAllBytesAsync(Path.Combine(core.RecordingsRoot, snapshot), jpeg);
        using (var ingest = await core.Internal().PostAsJsonAsync("/api/v1/internal/events", new
               {
                   events = new[] { new { camera_id = camera, task = "face_detection", snapshot_path = snapshot, executed_at_unix_ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() } },
               }))
        {
            await HttpAssert.OkJsonAsync(ingest);
        }

        var eventId = await core.ScalarAsync<long>("SELECT max(id) FROM events WHERE camera_id = $1", camera);
        using var admin = await core.AdminAsync();
        await HttpAssert.OkJsonAsync(await admin.PostAsJsonAsync("/api/v1/faces/register", new { person_id = "astro", name = "Astronaut", category = "visitor", event_id = eventId }));
        Assert.Null(core.Faces.Registrations[^1].Uri);
        Assert.True(core.Faces.Registrations[^1].Frame.SequenceEqual(jpeg));
        Assert.Equal(eventId, (long)core.Faces.Registrations[^1].Body["metadata"]!["event_id"]!);

        Assert.Contains("Event", await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/v1/faces/register", new { person_id = "x", name = "X", event_id = 999_999_999 }), HttpStatusCode.NotFound));
        Assert.Contains("person_id", await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/v1/faces/register", new { person_id = "../etc", name = "X", event_id = eventId }), HttpStatusCode.BadRequest));
        Assert.Contains("event_id", await HttpAssert.ProblemAsync(await admin.PostAsJsonAsync("/api/v1/faces/register", new { person_id = "x", name = "X" }), HttpStatusCode.BadRequest));
        await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/faces/register", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/faces/register", new StringContent("x", System.Text.Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        using var notImage = new MultipartFormDataContent { { new StringContent("p1"), "person_id" }, { new StringContent("P"), "name" }, { new ByteArrayContent("hello"u8.ToArray()), "photo", "a.jpg" } };
        Assert.Contains("neither a JPEG nor a PNG", await HttpAssert.ProblemAsync(await admin.PostAsync("/api/v1/faces/register", notImage), HttpStatusCode.BadRequest));
        Assert.Contains("person_id", await HttpAssert.ProblemAsync(await admin.GetAsync($"/api/v1/faces/{new string('a', 65)}"), HttpStatusCode.BadRequest));

        // Viewers do not manage faces; the answer is a problem, not an empty list.
        var (_, viewer) = await core.CreateUserAsync("viewer", camera);
        await HttpAssert.ProblemAsync(await viewer.GetAsync("/api/v1/faces"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Console_pages_are_served_but_api_health_and_openapi_paths_are_never_swallowed()
    {
        using var client = core.Anonymous();
        foreach (var path in new[] { "/", "/login", "/cameras", "/cameras/12", "/events", "/faces", "/settings" })
        {
            using var page = await client.GetAsync(path);
            Assert.True(page.StatusCode == HttpStatusCode.OK, path);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<main id=\"main\"", await page.Content.ReadAsStringAsync());
            Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        }

        using var script = await client.GetAsync("/js/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/nothing-here"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await client.GetAsync("/cameras/not-a-number"), HttpStatusCode.NotFound);
        await HttpAssert.ProblemAsync(await client.GetAsync("/api/v1/cameras"), HttpStatusCode.Unauthorized);
        using var openApi = await client.GetAsync("/openapi/v1.json");
        Assert.Contains("/api/v1/cameras/{id}/frame.jpg", await openApi.Content.ReadAsStringAsync());
        using var health = await client.GetAsync("/health");
        Assert.Equal("application/json", health.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Faces_proxy_answers_502_when_inference_is_unreachable()
    {
        var unreachable = new InferenceDownFixture();
        await unreachable.InitializeAsync();
        try
        {
            using var admin = await unreachable.AdminAsync();
            Assert.Contains("unreachable", await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/faces"), HttpStatusCode.BadGateway));
        }
        finally
        {
            await unreachable.DisposeAsync();
        }
    }

    private sealed class InferenceDownFixture : CoreFixture
    {
        protected override void Configure(IWebHostBuilder host) => host.UseSetting("WebConsole:InferenceUrl", "http://127.0.0.1:1");
    }
}
