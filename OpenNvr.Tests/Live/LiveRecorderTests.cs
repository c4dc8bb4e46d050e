using Microsoft.AspNetCore.Builder;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Recorder.Live;
using OpenNvr.Recorder.Recording;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Live;

/// <summary>
/// The Recorder's live view against a real RTSP camera, the real Core (leases) and real sockets: the Recorder runs
/// on Kestrel so that WebSocket back-pressure from a client that stops reading is the kernel's, as in production.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class LiveRecorderTests
{
    [Fact]
    public async Task Eight_viewers_get_every_fragment_from_the_recording_connection_a_slow_one_is_dropped_and_recording_keeps_every_chunk()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("gate", camera.Url("/cam"));
        await using var recorder = await KestrelRecorder.StartAsync(core, new Dictionary<string, string>
        {
            ["Live:ViewerBufferBytes"] = "262144",
            ["Live:ViewerMaxLagSeconds"] = "2",
        });
        var source = await recorder.WaitForLiveAsync(cameraId, LiveStream.Main);
        var pid = recorder.Coordinator.Recorder(cameraId)!.CurrentProcess!.Id;

        // One connection to the camera: the recording ffmpeg is the only process this replica runs for it.
        Assert.Equal(1, recorder.Services.GetRequiredService<ChildProcesses>().Count);

        using var slow = await SlowViewer.ConnectAsync(recorder.Port, $"/live/{cameraId}/main/ws");
        var viewers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => LiveClient.ConnectAsync(recorder.WsUrl($"/live/{cameraId}/main/ws"))));
        try
        {
            Assert.Equal(9, source.ViewerCount);
            // The readers read until the slow one is gone (a generous bound: the kernel's socket buffers fill first).
            var reading = viewers.Select(v => v.ReadForAsync(TimeSpan.FromSeconds(150), stopWhen: () => source.ViewerCount <= 8)).ToList();

            // The slow viewer never reads: its socket buffers fill, then its queue; it is dropped, nobody else is.
            await Wait.UntilAsync(() => source.ViewerCount <= 8, TimeSpan.FromSeconds(140), "the slow viewer to be dropped");
            await Task.WhenAll(reading);
            Assert.Equal(8, source.ViewerCount);
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }

        foreach (var viewer in viewers)
        {
            viewer.AssertWellFormed("avc1.4D401F", 768, 576);
            Assert.True(viewer.Fragments.Count >= 20, $"a viewer got only {viewer.Fragments.Count} fragments");
        }

        // Every chunk of the time the viewers watched was recorded by the same ffmpeg, back to back.
        Assert.Equal(pid, recorder.Coordinator.Recorder(cameraId)!.CurrentProcess!.Id);
        var first = viewers.Min(v => v.Fragments[0].CaptureUnixMs) / 1000;
        var last = viewers.Max(v => v.Fragments[^1].CaptureUnixMs) / 1000;
        await Wait.UntilAsync(async () => (await core.RowsAsync(cameraId)).Any(r => r.EndUnix >= last), TimeSpan.FromSeconds(30), "the chunks of the viewing time");
        var rows = (await core.RowsAsync(cameraId)).Where(r => r.EndUnix > first && r.StartUnix < last).ToList();
        Assert.True(rows.Count >= 2, $"only {rows.Count} chunks cover the viewing time");
        Assert.True(rows[0].StartUnix <= first + 1 && rows[^1].EndUnix >= last - 1, "the chunks do not cover the viewing time");
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.InRange(rows[i].StartUnix - rows[i - 1].EndUnix, -0.05, 1.0);
        }
    }

    [Fact]
    public async Task Live_playlist_is_read_by_ffmpeg_with_default_options_and_carries_capture_times()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("gate", camera.Url("/cam"));
        await using var recorder = await KestrelRecorder.StartAsync(core);
        await recorder.WaitForLiveAsync(cameraId, LiveStream.Main);

        using var http = recorder.Http();
        var playlist = await http.GetStringAsync($"/live/{cameraId}/main/index.m3u8");
        var dates = playlist.Split('\n').Where(l => l.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            .Select(l => DateTimeOffset.Parse(l["#EXT-X-PROGRAM-DATE-TIME:".Length..], CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(dates);
        Assert.InRange((DateTimeOffset.UtcNow - dates[^1]).TotalSeconds, -0.5, 4);

        // A blocking reload for the next segment returns once it exists.
        var lastMsn = long.Parse(playlist.Split('\n').Last(l => l.StartsWith("seg-", StringComparison.Ordinal))[4..^4], CultureInfo.InvariantCulture);
        var blocked = await http.GetStringAsync($"/live/{cameraId}/main/index.m3u8?_HLS_msn={lastMsn + 1}");
        Assert.Contains($"seg-{lastMsn + 1}.m4s", blocked, StringComparison.Ordinal);
        var tooFar = await http.GetAsync($"/live/{cameraId}/main/index.m3u8?_HLS_msn={lastMsn + 50}");
        await HttpAssert.ProblemAsync(tooFar, HttpStatusCode.BadRequest);

        // ffmpeg with default options (segment URIs end in .m4s, the map in .mp4) reads 5 s of the live playlist.
        var output = Path.Combine(TestTemp.NewFolder("live"), "live.mp4");
        var ffmpeg = await RunAsync("ffmpeg", "-hide_banner", "-loglevel", "error", "-headers", $"X-Internal-Key: {CoreFixture.InternalKey}\r\n",
            "-i", recorder.Url($"/live/{cameraId}/main/index.m3u8"), "-t", "5", "-c", "copy", "-y", output);
        Assert.True(ffmpeg.ExitCode == 0, ffmpeg.Errors);
        var probe = await Ffprobe.ReadAllFramesAsync(output);
        Assert.Equal(("h264", 768, 576), (probe.Codec, probe.Width, probe.Height));
        Assert.InRange(probe.Frames, 48, 52);

        // Without the service key: 401 problem. A stream that does not exist: 400.
        using var anonymous = new HttpClient { BaseAddress = new Uri(recorder.Url("/")) };
        await HttpAssert.ProblemAsync(await anonymous.GetAsync($"/live/{cameraId}/main/index.m3u8"), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await http.GetAsync($"/live/{cameraId}/hd/index.m3u8"), HttpStatusCode.BadRequest);
        await HttpAssert.ProblemAsync(await http.GetAsync($"/live/{cameraId + 1}/main/index.m3u8"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_grid_gets_the_sub_stream_from_the_frame_decoders_connection()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"),
            "--pattern", "/sub", "--size", "320x240");
        await using var core = await CoreServer.StartAsync();
        var cameraId = await core.CreateCameraAsync("gate", camera.Url("/cam"), new
        {
            sub_stream_url = camera.Url("/sub"),
            ai_policies = new[] { new { task = "person_counting", interval_ms = 500 } },
        });
        await using var recorder = await KestrelRecorder.StartAsync(core);
        await recorder.WaitForLiveAsync(cameraId, LiveStream.Main);
        await recorder.WaitForLiveAsync(cameraId, LiveStream.Sub);

        // Two connections, as before live view: the recording (main) and the decoder (sub).
        Assert.Equal(2, recorder.Services.GetRequiredService<ChildProcesses>().Count);

        await using var grid = await LiveClient.ConnectAsync(recorder.WsUrl($"/live/{cameraId}/sub/ws"));
        await grid.ReadForAsync(TimeSpan.FromSeconds(30), stopWhen: () => grid.Fragments.Count >= 20);
        grid.AssertWellFormed(codecPrefix: "avc1.", width: 320, height: 240);

        using var http = recorder.Http();
        var status = JsonNode.Parse(await http.GetStringAsync($"/live/{cameraId}/status"))!;
        Assert.Equal(new[] { ("main", 768), ("sub", 320) }, status["streams"]!.AsArray().Select(s => ((string)s!["stream"]!, (int)s["width"]!)).ToList());
    }

    private static async Task<(int ExitCode, string Errors)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, "timed out: " + await errors);
        }

        return (process.ExitCode, await errors);
    }
}

/// <summary>The Recorder on Kestrel at a free loopback port, pointed at a <see cref="CoreServer"/>.</summary>
public sealed class KestrelRecorder : IAsyncDisposable
{
    private readonly WebApplicationFactory<RecordingCoordinator> _factory;

    private KestrelRecorder(WebApplicationFactory<RecordingCoordinator> factory, int port)
    {
        _factory = factory;
        Port = port;
    }

    public int Port { get; }

    public IServiceProvider Services => _factory.Services;

    public RecordingCoordinator Coordinator => Services.GetRequiredService<RecordingCoordinator>();

    public LiveHub Hub => Services.GetRequiredService<LiveHub>();

    public static Task<KestrelRecorder> StartAsync(CoreServer core, IDictionary<string, string>? settings = null)
    {
        var port = FreePort.Tcp();
        var all = RecorderInstance.TestSettings(core, TestTemp.NewFolder("rec"), TestTemp.NewFolder("frames"), new Dictionary<string, string>
        {
            ["Recorder:BaseUrl"] = $"http://127.0.0.1:{port}",
            ["Recorder:InferenceUrl"] = "http://127.0.0.1:9",
        });
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var factory = new WebApplicationFactory<RecordingCoordinator>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in all)
            {
                host.UseSetting(key, value);
            }
        });
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        factory.StartServer();
        return Task.FromResult(new KestrelRecorder(factory, port));
    }

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public Uri WsUrl(string path) => new($"ws://127.0.0.1:{Port}{path}");

    public HttpClient Http()
    {
        var http = new HttpClient { BaseAddress = new Uri(Url("/")), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Internal-Key", CoreFixture.InternalKey);
        return http;
    }

    public async Task<LiveSource> WaitForLiveAsync(int cameraId, LiveStream stream)
    {
        LiveSource? source = null;
        await Wait.UntilAsync(() => (source = Hub.Sources.FirstOrDefault(s => s.CameraId == cameraId && s.Stream == stream && s.IsLive)) is not null &&
                                    source.ReadHls(w => w.HasCompleteSegment),
            TimeSpan.FromSeconds(60), $"camera {cameraId} to stream live ({stream})");
        return source!;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();
}

/// <summary>A WebSocket viewer that records what it gets, as the console's player would read it.</summary>
public sealed class LiveClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private LiveClient(ClientWebSocket socket) => _socket = socket;

    public List<JsonNode> InitMessages { get; } = [];

    public List<(int Epoch, byte[] Bytes)> Inits { get; } = [];

    public List<ReceivedFragment> Fragments { get; } = [];

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<LiveClient> ConnectAsync(Uri url, string? key = CoreFixture.InternalKey)
    {
        var socket = new ClientWebSocket();
        if (key is not null)
        {
            socket.Options.SetRequestHeader("X-Internal-Key", key);
        }

        await socket.ConnectAsync(url, CancellationToken.None);
        return new LiveClient(socket);
    }

    /// <summary>Reads messages until the time is up, the condition holds, or the server closes.</summary>
    public async Task ReadForAsync(TimeSpan duration, Func<bool> stopWhen)
    {
        var buffer = new byte[4 * 1024 * 1024];
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration && !stopWhen())
        {
            using var slice = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var length = 0;
            ValueWebSocketReceiveResult result;
            try
            {
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), slice.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage);
            }
            catch (OperationCanceledException)
            {
                continue;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            if (result.MessageType == WebSocketMessageType.Text)
            {
                InitMessages.Add(JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, length))!);
                continue;
            }

            var span = buffer.AsSpan(0, length);
            var epoch = (int)BinaryPrimitives.ReadUInt32BigEndian(span[4..]);
            var payload = span[LiveWebSocket.HeaderLength..].ToArray();
            if (span[0] == LiveWebSocket.KindInit)
            {
                Inits.Add((epoch, payload));
            }
            else
            {
                Fragments.Add(new ReceivedFragment(epoch, (span[1] & LiveWebSocket.FlagKeyframe) != 0,
                    BinaryPrimitives.ReadDoubleBigEndian(span[8..]), BinaryPrimitives.ReadDoubleBigEndian(span[16..]),
                    DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), payload));
            }
        }
    }

    /// <summary>
    /// What a player needs: an init (announced by its JSON) before any fragment, a keyframe first, media times back to
    /// back (each fragment parsed with the init's defaults), capture times increasing and never after receipt.
    /// </summary>
    public void AssertWellFormed(string? codec = null, int? width = null, int? height = null, string? codecPrefix = null)
    {
        Assert.NotEmpty(Inits);
        Assert.Equal(Inits.Count, InitMessages.Count);
        var announced = InitMessages[0];
        if (codec is not null)
        {
            Assert.Equal(codec, (string)announced["codec"]!);
        }

        if (codecPrefix is not null)
        {
            Assert.StartsWith(codecPrefix, (string)announced["codec"]!, StringComparison.Ordinal);
        }

        Assert.Equal($"video/mp4; codecs=\"{(string)announced["codec"]!}\"", (string)announced["mime"]!);
        Assert.Equal(width, (int)announced["width"]!);
        Assert.Equal(height, (int)announced["height"]!);

        var init = Fmp4.ParseInit(Inits[0].Bytes);
        Assert.Equal((width, height), (init.Width, init.Height));
        Assert.NotEmpty(Fragments);
        Assert.True(Fragments[0].Keyframe, "the first fragment a viewer gets must start with a keyframe");
        for (var i = 0; i < Fragments.Count; i++)
        {
            var fragment = Fragments[i];
            var parsed = Fmp4.ParseFragment(fragment.Bytes, init.Defaults);
            Assert.Equal(fragment.Keyframe, parsed.StartsWithKeyframe);
            Assert.Equal(parsed.BaseDecodeTime / (double)init.Timescale, fragment.MediaStartSeconds, 6);
            Assert.True(fragment.CaptureUnixMs <= fragment.ReceivedUnixMs + 5, $"fragment {i} captured after it was received");
            if (i > 0 && fragment.Epoch == Fragments[i - 1].Epoch)
            {
                var previous = Fmp4.ParseFragment(Fragments[i - 1].Bytes, init.Defaults);
                Assert.Equal(previous.BaseDecodeTime + previous.Duration, parsed.BaseDecodeTime);
                // Never earlier than the previous frame's (equal when ffmpeg delivers its start-up backlog in one burst).
                Assert.True(fragment.CaptureUnixMs >= Fragments[i - 1].CaptureUnixMs,
                    $"fragment {i}: capture time {fragment.CaptureUnixMs:F1} before the previous one's {Fragments[i - 1].CaptureUnixMs:F1}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", grace.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
    }
}

public sealed record ReceivedFragment(int Epoch, bool Keyframe, double CaptureUnixMs, double MediaStartSeconds, double ReceivedUnixMs, byte[] Bytes);

/// <summary>A viewer that completes the WebSocket handshake and then never reads (a frozen browser tab), with a tiny receive buffer.</summary>
public sealed class SlowViewer : IDisposable
{
    private readonly Socket _socket;

    private SlowViewer(Socket socket) => _socket = socket;

    public static async Task<SlowViewer> ConnectAsync(int port, string path)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        var request = $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                      $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nX-Internal-Key: {CoreFixture.InternalKey}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));

        // Read exactly the response head, nothing of the stream after it.
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await socket.ReceiveAsync(one));
            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return new SlowViewer(socket);
    }

    public void Dispose() => _socket.Dispose();
}
