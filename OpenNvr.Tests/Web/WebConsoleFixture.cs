using Microsoft.AspNetCore.Builder;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Web;

/// <summary>
/// Core on real Kestrel (the browser needs a real port) over its own PostgreSQL database, filled through the real
/// internal routes with what the Recorder and the AI pipeline would send: a recorder heartbeat (so Core knows who
/// holds the camera), fragmented MP4 chunks cut by ffmpeg from vtest.mp4, and person_counting events whose
/// snapshots are real vtest frames with known person counts (3, 7, 3, 6). Live frames come from a
/// <see cref="FrameServer"/> standing in for the Recorder's frames route.
/// </summary>
public sealed class WebConsoleFixture : IAsyncLifetime
{
    public const string AdminPassword = CoreFixture.AdminPassword;
    public const string InternalKey = CoreFixture.InternalKey;
    public const string ViewerPassword = "viewer-password-for-tests";
    public const int ChunkSeconds = 10;

    /// <summary>The snapshots' frames and their person counts (testdata/TESTDATA.md).</summary>
    public static readonly (string File, int People)[] Snapshots =
        [("vtest_0000.jpg", 3), ("vtest_0200.jpg", 7), ("vtest_0400.jpg", 3), ("vtest_0600.jpg", 6)];

    private readonly string _root = TestTemp.NewFolder("web");

    public string RecordingsRoot => Path.Combine(_root, "recordings");

    public string FramesRoot => Path.Combine(_root, "frames");

    public string BaseUrl { get; private set; } = "";

    public WebApplicationFactory<NvrDbContext> Factory { get; private set; } = null!;

    public FrameServer Frames { get; private set; } = null!;

    public int GateId { get; private set; }

    public int YardId { get; private set; }

    /// <summary>Recorded blocks of the Gate camera, Unix seconds [start, end).</summary>
    public List<(double Start, double End)> Blocks { get; } = [];

    /// <summary>Ingested events of the Gate camera: time (Unix ms) and person count.</summary>
    public List<(long ExecutedAtMs, int Count)> Events { get; } = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(RecordingsRoot);
        Directory.CreateDirectory(FramesRoot);
        var frames = Snapshots.Select(s => File.ReadAllBytes(RepositoryPaths.TestData("persons", s.File))).ToArray();
        Frames = await FrameServer.StartAsync(InternalKey, new() { ["1"] = frames }, TimeSpan.FromMilliseconds(700));

        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("web");
        var port = FreePort.Tcp();
        Factory = new WebApplicationFactory<NvrDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:nvrdb", connectionString);
            host.UseSetting("Auth:AdminPassword", AdminPassword);
            host.UseSetting("Auth:JwtSigningKey", CoreFixture.SigningKey);
            host.UseSetting("Auth:LoginPermitsPerMinute", "10000");
            host.UseSetting(ServiceKeys.RecorderCore, InternalKey);
            host.UseSetting("Internal:LeaseSeconds", "86400");
            host.UseSetting("Recorder:RecordingsRoot", RecordingsRoot);
            host.UseSetting("Frames:Root", FramesRoot);
            // No Inference here: the faces page must show that it is unreachable, not break.
            host.UseSetting("WebConsole:InferenceUrl", $"http://127.0.0.1:{FreePort.Tcp()}");
        });
        Factory.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        Factory.StartServer();
        BaseUrl = $"http://127.0.0.1:{port}";
        await SeedAsync();
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Frames.DisposeAsync();
        TestTemp.TryDelete(_root);
    }

    public HttpClient Client(string? accessToken = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }

    public async Task<string> TokenAsync(string username, string password)
    {
        using var client = Client();
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        return (string)(await HttpAssert.OkJsonAsync(response))["access_token"]!;
    }

    /// <summary>A viewer with no camera granted.</summary>
    public async Task<string> CreateViewerAsync()
    {
        using var admin = Client(await TokenAsync("admin", AdminPassword));
        var username = $"viewer{Guid.NewGuid():N}"[..16];
        using var response = await admin.PostAsJsonAsync("/api/v1/users", new { username, password = ViewerPassword, role = "viewer", camera_ids = Array.Empty<int>() });
        await HttpAssert.OkJsonAsync(response, HttpStatusCode.Created);
        return username;
    }

    private async Task SeedAsync()
    {
        using var admin = Client(await TokenAsync("admin", AdminPassword));
        GateId = await CreateCameraAsync(admin, new { name = "Gate", rtsp_url = "rtsp://gate:s3cret-pass@cam-gate.local:554/stream1" });
        YardId = await CreateCameraAsync(admin, new { name = "Yard", rtsp_url = "rtsp://cam-yard.local:554/main", recording_enabled = false });
        Assert.Equal(1, GateId); // the FrameServer serves folder "1"

        using var internalClient = Client();
        internalClient.DefaultRequestHeaders.Add("X-Internal-Key", InternalKey);
        using (var beat = await internalClient.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
                   new { recorder_id = "rec-web-tests", base_url = Frames.BaseUrl, max_cameras = 8 }))
        {
            var answer = await HttpAssert.OkJsonAsync(beat);
            Assert.Single(answer["cameras"]!.AsArray());
        }

        using (var state = await internalClient.PostAsJsonAsync($"/api/v1/internal/cameras/{GateId}/state", new { recording_state = "recording", reason = (string?)null }))
        {
            Assert.Equal(HttpStatusCode.NoContent, state.StatusCode);
        }

        // Six real fragmented chunks of 10 s; the index lists them many times over through hard links, so the
        // 24-hour bar shows two solid blocks with gaps around them: [now-5h, now-4h) and [now-2h, now-1h30).
        var chunkDir = Path.Combine(_root, "chunks");
        var chunks = await CutChunksAsync(chunkDir);
        var now = Math.Floor(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 10.0) * 10;
        Blocks.Add((now - 5 * 3600, now - 4 * 3600));
        Blocks.Add((now - 2 * 3600, now - 1.5 * 3600));
        foreach (var (start, end) in Blocks)
        {
            var rows = new List<object>();
            for (var (t, i) = (start, 0); t < end; t += ChunkSeconds, i++)
            {
                var relative = $"{GateId}/{DateTimeOffset.FromUnixTimeSeconds((long)t):yyyy-MM-dd/HH/mm-ss}.mp4";
                var full = Path.Combine(RecordingsRoot, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                var source = chunks[i % chunks.Length];
                HardLink(source, full);
                rows.Add(new
                {
                    camera_id = GateId, path = relative, start_unix = t, end_unix = t + ChunkSeconds, duration_s = (double)ChunkSeconds,
                    size_bytes = new FileInfo(source).Length, codec = "h264", width = 768, height = 576,
                });
            }

            using var response = await internalClient.PostAsJsonAsync("/api/v1/internal/recordings", new { recordings = rows });
            await HttpAssert.OkJsonAsync(response);
        }

        // Two events per snapshot frame, one in each block, with the frame's real person count.
        var events = new List<object>();
        for (var b = 0; b < Blocks.Count; b++)
        {
            for (var s = 0; s < Snapshots.Length; s++)
            {
                var at = (long)((Blocks[b].Start + 300 + s * 400) * 1000) + 123;
                var snapshot = $"{GateId}/snapshots/{at}.jpg";
                Directory.CreateDirectory(Path.Combine(RecordingsRoot, GateId.ToString(), "snapshots"));
                File.Copy(RepositoryPaths.TestData("persons", Snapshots[s].File), Path.Combine(RecordingsRoot, snapshot));
                Events.Add((at, Snapshots[s].People));
                events.Add(new
                {
                    camera_id = GateId, task = "person_counting", label = "person", count = Snapshots[s].People, confidence = 0.71,
                    snapshot_path = snapshot, executed_at_unix_ms = at, captured_at_unix_ms = at - 40, latency_ms = 63.2,
                    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                    payload = new { task = "person_counting", count = Snapshots[s].People },
                });
            }
        }

        using (var ingest = await internalClient.PostAsJsonAsync("/api/v1/internal/events", new { events }))
        {
            Assert.Equal(events.Count, (int)(await HttpAssert.OkJsonAsync(ingest))["inserted"]!);
        }
    }

    private static async Task<int> CreateCameraAsync(HttpClient admin, object body)
    {
        using var response = await admin.PostAsJsonAsync("/api/v1/cameras", body);
        return (int)(await HttpAssert.OkJsonAsync(response, HttpStatusCode.Created))["id"]!;
    }

    /// <summary>What the Recorder writes: stream-copied 10 s chunks of fragmented MP4 (moov first, then moof/mdat).</summary>
    public static async Task<string[]> CutChunksAsync(string folder)
    {
        Directory.CreateDirectory(folder);
        var (exitCode, _, errors) = await TestProcesses.RunAsync("ffmpeg",
            "-v", "error", "-nostdin", "-i", RepositoryPaths.TestData("video", "vtest.mp4"), "-t", "60", "-c", "copy", "-an",
            "-f", "segment", "-segment_time", "10", "-reset_timestamps", "1",
            "-segment_format", "mp4", "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof",
            Path.Combine(folder, "chunk%02d.mp4"));
        Assert.True(exitCode == 0, "ffmpeg: " + errors);
        var chunks = Directory.GetFiles(folder, "chunk*.mp4").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(6, chunks.Length);
        return chunks;
    }

    // Hard links, not symbolic ones: a chunk must look like the file the Recorder wrote (FileInfo.Length of a
    // symbolic link is the link's own size), yet 540 index rows must not cost 540 copies of the media.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string created);

    private static void HardLink(string existing, string created)
    {
        if (Link(existing, created) != 0)
        {
            throw new IOException($"link({existing}, {created}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }
}
