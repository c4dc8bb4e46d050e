using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using OpenNvr.Recorder.Live;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Live;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Web;

/// <summary>A real RTSP camera recorded by a real Recorder, Core on Kestrel sharing its recordings folder, for the console.</summary>
public sealed class LiveConsoleFixture : IAsyncLifetime
{
    public RtspTestServer Camera { get; private set; } = null!;

    public CoreServer Core { get; private set; } = null!;

    public KestrelRecorder Recorder { get; private set; } = null!;

    public int CameraId { get; private set; }

    public string BaseUrl => Core.BaseUrl;

    public async Task InitializeAsync()
    {
        Camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        var recordings = TestTemp.NewFolder("rec");
        Core = await CoreServer.StartAsync(extraSettings: new Dictionary<string, string>
        {
            ["Recorder:RecordingsRoot"] = recordings,
            ["Exports:Root"] = TestTemp.NewFolder("exports"),
        });
        CameraId = await Core.CreateCameraAsync("gate", Camera.Url("/cam"));
        Recorder = await KestrelRecorder.StartAsync(Core, new Dictionary<string, string> { ["Recorder:RecordingsRoot"] = recordings });
        await Recorder.WaitForLiveAsync(CameraId, LiveStream.Main);
    }

    public async Task DisposeAsync()
    {
        await Recorder.DisposeAsync();
        await Core.DisposeAsync();
        await Camera.DisposeAsync();
    }
}

/// <summary>
/// Live view, the hls.js path, clip export and accessibility in Debian's Chromium against the real services and a
/// real RTSP camera. Screenshots go to bin/.../artifacts/web/.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class LiveConsoleBrowserTests(LiveConsoleFixture live, BrowserFixture browser)
    : IClassFixture<LiveConsoleFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Camera_page_plays_live_video_with_a_latency_under_1_5_s_and_switches_to_recordings_and_back_without_reloading()
    {
        await using var session = await browser.OpenAsync(live.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", CoreFixture.AdminPassword);
        await page.GotoAsync($"/cameras/{live.CameraId}");
        await page.EvaluateAsync("window.__sameDocument = true");

        var video = page.Locator("#live-video");
        await Assertions.Expect(video).ToBeVisibleAsync(new() { Timeout = 15_000 });
        var first = await page.EvaluateAsync<double>("document.querySelector('#live-video').currentTime");
        await UntilAsync(page, $"document.querySelector('#live-video').currentTime > {first.ToString(CultureInfo.InvariantCulture)} + 1", 5_000);

        // The glass-to-glass estimate shown on the page, sampled over three seconds.
        var samples = new List<double>();
        for (var i = 0; i < 12; i++)
        {
            await page.WaitForTimeoutAsync(250);
            if (await page.Locator("#latency").GetAttributeAsync("data-ms") is { } ms)
            {
                samples.Add(double.Parse(ms, CultureInfo.InvariantCulture));
            }
        }

        Assert.NotEmpty(samples);
        samples.Sort();
        Assert.True(samples[samples.Count / 2] < 1500, $"latency samples (ms): {string.Join(", ", samples)}");
        Assert.Matches(@"^\d+\.\d\d s$", await page.Locator("#latency").TextContentAsync());
        await session.ScreenshotAsync("camera-live");

        // Recordings and back to live on the same document.
        await page.Locator("#recordings-mode").ClickAsync();
        await Assertions.Expect(page.Locator("#recordings-view")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#live-view")).ToBeHiddenAsync();
        await page.Locator("#live-mode").ClickAsync();
        await Assertions.Expect(video).ToBeVisibleAsync(new() { Timeout = 15_000 });
        var again = await page.EvaluateAsync<double>("document.querySelector('#live-video').currentTime");
        await UntilAsync(page, $"document.querySelector('#live-video').currentTime > {again.ToString(CultureInfo.InvariantCulture)} + 0.5", 5_000);
        Assert.True(await page.EvaluateAsync<bool>("window.__sameDocument === true"), "the page was reloaded");
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_grid_plays_live_video()
    {
        await using var session = await browser.OpenAsync(live.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", CoreFixture.AdminPassword);
        var card = page.Locator($"li.camera-card[data-camera-id='{live.CameraId}']");
        await Assertions.Expect(card.Locator("video.live-video")).ToBeVisibleAsync(new() { Timeout = 15_000 });
        await Assertions.Expect(card).ToHaveAttributeAsync("data-video", "live");
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task The_hls_js_path_forced_plays_the_live_playlist()
    {
        await using var session = await browser.OpenAsync(live.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", CoreFixture.AdminPassword);
        await page.GotoAsync("/cameras?hls=hlsjs");
        var mode = await page.EvaluateAsync<string>($$"""
            async () => {
              const { attachHls } = await import('/js/hlsplayback.js');
              const { mediaToken } = await import('/js/api.js');
              const token = await mediaToken({{live.CameraId}});
              const video = document.createElement('video');
              video.muted = true;
              video.id = 'hls-test';
              document.body.append(video);
              await attachHls(video, `/api/v1/cameras/{{live.CameraId}}/live.m3u8?token=${encodeURIComponent(token)}`, { live: true });
              await video.play();
              return video.dataset.hlsMode;
            }
            """);
        Assert.Equal("hlsjs", mode);
        var start = await page.EvaluateAsync<double>("document.querySelector('#hls-test').currentTime");
        await UntilAsync(page, $"document.querySelector('#hls-test').currentTime > {start.ToString(CultureInfo.InvariantCulture)} + 1", 10_000);
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task An_export_made_in_the_ui_downloads_an_mp4_as_long_as_the_marked_range_within_a_keyframe_interval()
    {
        // 20 s of indexed recording to choose from.
        double first = 0;
        await Wait.UntilAsync(async () =>
        {
            var rows = await live.Core.RowsAsync(live.CameraId);
            first = rows.Count > 0 ? rows[0].StartUnix : 0;
            return rows.Sum(r => r.DurationS) >= 20;
        }, TimeSpan.FromSeconds(90), "20 s of recordings");

        await using var session = await browser.OpenAsync(live.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", CoreFixture.AdminPassword);
        var from = first + 2.5;
        await page.GotoAsync($"/cameras/{live.CameraId}?t={from.ToString("F3", CultureInfo.InvariantCulture)}");
        await UntilAsync(page, "document.querySelector('#playing-at')?.dataset.wallMs > 0", 15_000);
        await page.Locator("#mark-start").ClickAsync();
        var startMs = double.Parse((await page.Locator("#export-range").GetAttributeAsync("data-start-ms"))!, CultureInfo.InvariantCulture);
        await UntilAsync(page, $"Number(document.querySelector('#playing-at').dataset.wallMs) > {(startMs + 8000).ToString(CultureInfo.InvariantCulture)}", 30_000);
        await page.Locator("#mark-end").ClickAsync();
        var endMs = double.Parse((await page.Locator("#export-range").GetAttributeAsync("data-end-ms"))!, CultureInfo.InvariantCulture);
        Assert.True(endMs - startMs >= 8000, $"marked {startMs}..{endMs}");

        await page.Locator("#export-button").ClickAsync();
        var link = page.Locator("#export-download");
        await Assertions.Expect(link).ToBeVisibleAsync(new() { Timeout = 60_000 });
        Assert.Equal(1.0, await page.EvaluateAsync<double>("document.querySelector('#export-progress').value"));
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        var saved = Path.Combine(TestTemp.NewFolder("ui-export"), "clip.mp4");
        await download.SaveAsAsync(saved);
        await session.ScreenshotAsync("camera-export");

        var probe = await Ffprobe.ReadAllFramesAsync(saved);
        Assert.Equal(("h264", 768, 576), (probe.Codec, probe.Width, probe.Height));
        var selected = (endMs - startMs) / 1000;
        // From the keyframe at or before the start (vtest: every 2 s) to the end.
        Assert.InRange(probe.DurationSeconds, selected - 0.15, selected + 2.0 + 0.15);
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Every_console_page_has_no_serious_or_critical_accessibility_violation()
    {
        var axe = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "OpenNvr.Tests", "Web", "vendor", "axe-core", "axe.min.js"));
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = live.BaseUrl,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            // The console's CSP allows no injected script; the audit needs axe in the page.
            BypassCSP = true,
        });
        await using var _ = new AsyncCloser(context);
        var page = await context.NewPageAsync();
        var report = new List<string>();
        async Task AuditAsync(string name, string readySelector)
        {
            await page.Locator(readySelector).First.WaitForAsync();
            await page.AddScriptTagAsync(new() { Content = axe });
            var violations = await page.EvaluateAsync<JsonElement>("""
                async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
                  .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))
                """);
            foreach (var v in violations.EnumerateArray().Where(v => v.GetProperty("impact").GetString() is "serious" or "critical"))
            {
                report.Add($"{name}: {v.GetProperty("id")} ({v.GetProperty("impact")}) {v.GetProperty("help")} at {v.GetProperty("nodes")}");
            }
        }

        await page.GotoAsync("/login");
        await AuditAsync("login", "form");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(CoreFixture.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.WaitForURLAsync("**/cameras");
        await AuditAsync("cameras", "li.camera-card");
        foreach (var (path, ready) in new[]
                 {
                     ($"/cameras/{live.CameraId}", "#timeline"), ("/events", "#events-status"), ("/faces", "main h1"), ("/settings", "main h1"),
                 })
        {
            await page.GotoAsync(path);
            await AuditAsync(path, ready);
        }

        Assert.True(report.Count == 0, "accessibility violations:\n" + string.Join("\n", report));
    }

    /// <summary>
    /// Polls a JavaScript condition from the test side: the console's CSP (no eval) rules out Playwright's
    /// in-page WaitForFunction.
    /// </summary>
    private static Task UntilAsync(IPage page, string condition, int timeoutMs) =>
        Wait.UntilAsync(async () => await page.EvaluateAsync<bool>($"!!({condition})"), TimeSpan.FromMilliseconds(timeoutMs), condition, pollMs: 100);

    private sealed class AsyncCloser(IBrowserContext context) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await context.CloseAsync();
    }
}
