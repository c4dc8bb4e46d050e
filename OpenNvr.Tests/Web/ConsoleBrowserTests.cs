using System.Text.Json;
using Microsoft.Playwright;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Web;

/// <summary>
/// The console in Debian's Chromium against Core on Kestrel with real rows, real chunks and real snapshots. Each
/// test saves a screenshot of the page it checked under bin/.../artifacts/web/.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class ConsoleBrowserTests(WebConsoleFixture core, BrowserFixture browser)
    : IClassFixture<WebConsoleFixture>, IClassFixture<BrowserFixture>
{
    private const double DaySeconds = 24 * 3600;

    [Fact]
    public async Task Bad_password_shows_an_error_message_and_the_right_one_logs_in()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await page.GotoAsync("/");
        await page.WaitForURLAsync("**/login?next=*");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync("not-the-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();

        var error = page.Locator("#login-error");
        await Assertions.Expect(error).ToBeVisibleAsync();
        await Assertions.Expect(error).ToHaveTextAsync("Wrong user name or password.");
        Assert.Equal("alert", await error.GetAttributeAsync("role"));
        await session.ScreenshotAsync("login-bad-password");

        await page.GetByLabel("Password").FillAsync(WebConsoleFixture.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.WaitForURLAsync("**/cameras");
        await Assertions.Expect(page.Locator("#user-name")).ToHaveTextAsync("admin (admin)");

        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await page.WaitForURLAsync("**/login");
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('opennvr.session')"));
        // The browser logs the 401 of the wrong password as a failed resource load; nothing else may appear.
        session.AssertNoConsoleErrors("status of 401");
    }

    [Fact]
    public async Task Cameras_grid_shows_a_live_image_that_changes_the_state_and_the_latest_person_count()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", WebConsoleFixture.AdminPassword);

        var gate = page.Locator($"li.camera-card[data-camera-id='{core.GateId}']");
        var image = gate.Locator("img.live-image");
        await Assertions.Expect(image).ToBeVisibleAsync();
        var first = await ImageFingerprintAsync(image);
        string second = first;
        for (var i = 0; i < 20 && second == first; i++)
        {
            await page.WaitForTimeoutAsync(250);
            second = await ImageFingerprintAsync(image);
        }

        Assert.NotEqual(first, second);
        Assert.Equal(768, await image.EvaluateAsync<int>("img => img.naturalWidth"));
        await Assertions.Expect(gate.Locator(".badge.state")).ToHaveTextAsync("recording");
        var newest = core.Events.MaxBy(e => e.ExecutedAtMs);
        await Assertions.Expect(gate.Locator(".badge.count")).ToHaveTextAsync($"{newest.Count} people");

        // Yard does not record, so no recorder holds it: a placeholder, and no frame request at all.
        var yard = page.Locator($"li.camera-card[data-camera-id='{core.YardId}']");
        await Assertions.Expect(yard.Locator(".live-placeholder")).ToHaveTextAsync("Not recording now: no live image.");
        Assert.DoesNotContain("rtsp", await page.ContentAsync(), StringComparison.OrdinalIgnoreCase);
        await session.ScreenshotAsync("cameras");

        await page.SetViewportSizeAsync(390, 844);
        await page.WaitForTimeoutAsync(300);
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the phone layout scrolls sideways");
        await session.ScreenshotAsync("cameras-phone");
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Timeline_shows_the_recorded_ranges_and_a_click_plays_from_that_instant()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", WebConsoleFixture.AdminPassword);
        await page.GotoAsync($"/cameras/{core.GateId}");

        var timeline = page.Locator("#timeline");
        await Assertions.Expect(timeline).ToHaveAttributeAsync("data-ranges", "540");
        await timeline.ScrollIntoViewIfNeededAsync();
        await Assertions.Expect(page.Locator("#timeline-summary")).ToContainTextAsync("540 chunks, 90 min recorded");
        Assert.Equal(8, await page.Locator("#timeline .tl-event").CountAsync());

        // Recorded blocks are drawn where they are: sample the bar's colour inside and outside a block.
        var windowStart = double.Parse((await timeline.GetAttributeAsync("aria-valuemin"))!);
        var box = (await timeline.BoundingBoxAsync())!;
        double X(double unix) => box.X + (unix - windowStart) / DaySeconds * box.Width;
        var (blockStart, blockEnd) = core.Blocks[1];
        var inside = await ElementAtAsync(page, X((blockStart + blockEnd) / 2), box.Y + box.Height - 4);
        var outside = await ElementAtAsync(page, X(blockEnd + 1800), box.Y + box.Height - 4);
        Assert.Equal("tl-range", inside);
        Assert.NotEqual("tl-range", outside);

        // Click 10 minutes into the second block: the video plays from there and its clock advances.
        var target = blockStart + 600;
        await page.Mouse.ClickAsync((float)X(target), (float)(box.Y + box.Height / 2));
        var video = page.Locator("#player");
        await WaitForPlaybackAsync(page);
        var wall = double.Parse((await page.Locator("#playing-at").GetAttributeAsync("data-wall-ms"))!) / 1000;
        // One pixel of a 24-hour bar is about a minute: the played instant is within a few pixels of the click.
        Assert.InRange(wall, target - 3 * DaySeconds / box.Width, target + 3 * DaySeconds / box.Width + 10);
        await session.ScreenshotAsync("camera-playback");

        // Speed applies to the element; the download button names the chunk being played, which serves video/mp4.
        await page.Locator("#speed").SelectOptionAsync("2");
        Assert.Equal(2, await video.EvaluateAsync<double>("v => v.playbackRate"));
        var href = await page.Locator("#download-chunk").GetAttributeAsync("href");
        Assert.Matches($"^/api/v1/recordings/{core.GateId}/\\d+/file\\?token=", href);
        var download = await page.EvaluateAsync<JsonElement>(
            "async url => { const r = await fetch(url); const b = await r.arrayBuffer(); return { status: r.status, type: r.headers.get('Content-Type'), size: b.byteLength }; }", href);
        Assert.Equal(200, download.GetProperty("status").GetInt32());
        Assert.Equal("video/mp4", download.GetProperty("type").GetString());
        Assert.True(download.GetProperty("size").GetInt32() > 100_000);

        // Jump to the next event: playback moves to just before it.
        var before = double.Parse((await page.Locator("#playing-at").GetAttributeAsync("data-wall-ms"))!);
        var next = core.Events.Select(e => e.ExecutedAtMs).Where(ms => ms > before + 1000).Min();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next event ▸" }).ClickAsync();
        await page.WaitForFunctionAsync(
            "next => { const w = Number(document.querySelector('#playing-at').dataset.wallMs); return w >= next - 3000 && w <= next + 8000; }", next);
        session.AssertNoConsoleErrors();
    }

    /// <summary>Firefox has no native HLS: the console plays the same playlist through the vendored hls.js (forced here).</summary>
    [Fact]
    public async Task Recordings_play_through_hls_js_where_the_browser_has_no_native_hls()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", WebConsoleFixture.AdminPassword);
        await page.GotoAsync($"/cameras/{core.GateId}?hls=hlsjs");

        var timeline = page.Locator("#timeline");
        await Assertions.Expect(timeline).ToHaveAttributeAsync("data-ranges", "540");
        await timeline.ScrollIntoViewIfNeededAsync();
        var windowStart = double.Parse((await timeline.GetAttributeAsync("aria-valuemin"))!);
        var box = (await timeline.BoundingBoxAsync())!;
        var (blockStart, _) = core.Blocks[1];
        var target = blockStart + 600;
        await page.Mouse.ClickAsync((float)(box.X + (target - windowStart) / DaySeconds * box.Width), (float)(box.Y + box.Height / 2));
        await WaitForPlaybackAsync(page);

        Assert.Equal("hlsjs", await page.Locator("#player").GetAttributeAsync("data-playback-mode"));
        Assert.StartsWith("blob:", await page.Locator("#player").EvaluateAsync<string>("v => v.currentSrc"), StringComparison.Ordinal);
        var wall = double.Parse((await page.Locator("#playing-at").GetAttributeAsync("data-wall-ms"))!) / 1000;
        Assert.InRange(wall, target - 3 * DaySeconds / box.Width, target + 3 * DaySeconds / box.Width + 10);
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Keyboard_alone_moves_the_timeline_cursor_and_plays()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", WebConsoleFixture.AdminPassword);
        await page.GotoAsync($"/cameras/{core.GateId}");
        await Assertions.Expect(page.Locator("#timeline")).ToHaveAttributeAsync("data-ranges", "540");

        // Tab order reaches the timeline; Home goes to the window's start, PageUp moves an hour; Enter plays.
        for (var i = 0; i < 30 && await page.EvaluateAsync<string>("document.activeElement?.id ?? ''") != "timeline"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Equal("timeline", await page.EvaluateAsync<string>("document.activeElement.id"));
        var outline = await page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineStyle");
        Assert.NotEqual("none", outline);
        await page.Keyboard.PressAsync("Home");
        var hoursToBlock = (int)Math.Ceiling((core.Blocks[0].Start - double.Parse((await page.Locator("#timeline").GetAttributeAsync("aria-valuemin"))!)) / 3600);
        for (var i = 0; i < hoursToBlock; i++)
        {
            await page.Keyboard.PressAsync("PageUp");
        }

        await page.Keyboard.PressAsync("Enter");
        await WaitForPlaybackAsync(page);
        var wall = double.Parse((await page.Locator("#playing-at").GetAttributeAsync("data-wall-ms"))!) / 1000;
        Assert.InRange(wall, core.Blocks[0].Start, core.Blocks[0].End);
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Events_page_lists_person_counting_events_with_snapshots_and_opens_the_recording()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", WebConsoleFixture.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Events" }).ClickAsync();

        var items = page.Locator("#events-list li.event");
        await Assertions.Expect(items).ToHaveCountAsync(core.Events.Count);
        // Newest first, each with its real count and a loaded snapshot.
        var expected = core.Events.OrderByDescending(e => e.ExecutedAtMs).ToList();
        for (var i = 0; i < expected.Count; i++)
        {
            var item = items.Nth(i);
            await Assertions.Expect(item.Locator(".event-result")).ToContainTextAsync($"Count: {expected[i].Count}");
            await Assertions.Expect(item).ToContainTextAsync("person_counting");
            await Assertions.Expect(item).ToContainTextAsync("inference 63 ms");
            var snapshot = item.Locator("img.snapshot");
            await snapshot.ScrollIntoViewIfNeededAsync();
            await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth > 0", await snapshot.ElementHandleAsync());
            Assert.Equal(768, await snapshot.EvaluateAsync<int>("img => img.naturalWidth"));
        }

        await session.ScreenshotAsync("events");

        // Filters: a label nobody used gives nothing; the camera and the task give everything back.
        await page.GetByLabel("Label").FillAsync("car");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.Locator("#events-status")).ToHaveTextAsync("No events match these filters.");
        await page.GetByLabel("Label").FillAsync("");
        await page.GetByLabel("Camera").SelectOptionAsync(new SelectOptionValue { Label = "Gate" });
        await page.GetByLabel("Task").FillAsync("person_counting");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(items).ToHaveCountAsync(core.Events.Count);

        // Clicking an event opens its camera's recording at that moment.
        var oldest = expected[^1];
        await items.Last.Locator("a.event-time").ClickAsync();
        await page.WaitForURLAsync($"**/cameras/{core.GateId}?t=*");
        await WaitForPlaybackAsync(page);
        var wall = double.Parse((await page.Locator("#playing-at").GetAttributeAsync("data-wall-ms"))!);
        Assert.InRange(wall, oldest.ExecutedAtMs - 3000, oldest.ExecutedAtMs + 10_000);
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task A_viewer_without_a_grant_sees_no_camera()
    {
        var viewer = await core.CreateViewerAsync();
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync(viewer, WebConsoleFixture.ViewerPassword);

        await Assertions.Expect(page.Locator("#cameras-status")).ToContainTextAsync("No cameras to show");
        Assert.Equal(0, await page.Locator("li.camera-card").CountAsync());
        // Admin and operator pages are not offered.
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Settings" })).ToBeHiddenAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Faces" })).ToBeHiddenAsync();
        await session.ScreenshotAsync("viewer-no-cameras");

        await page.GetByRole(AriaRole.Link, new() { Name = "Events" }).ClickAsync();
        await Assertions.Expect(page.Locator("#events-status")).ToHaveTextAsync("No events match these filters.");

        // Typing the camera's address answers as for a camera that does not exist.
        await page.GotoAsync($"/cameras/{core.GateId}");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"Camera {core.GateId} does not exist.");
        session.AssertNoConsoleErrors("status of 404");
    }

    [Fact]
    public async Task Settings_add_a_camera_after_a_failed_url_test_set_its_policies_and_add_a_user()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", WebConsoleFixture.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();

        var name = $"Dock {Guid.NewGuid():N}"[..12];
        var form = page.Locator("#camera-form");
        await form.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await form.GetByLabel("Stream URL (RTSP)").FillAsync("rtsp://127.0.0.1:1/nothing-listens-here");
        await form.GetByLabel("Password", new() { Exact = true }).FillAsync("dock-secret");
        await form.GetByLabel("User name").FillAsync("dockuser");
        await page.GetByRole(AriaRole.Button, new() { Name = "Test URL" }).ClickAsync();
        await Assertions.Expect(page.Locator("#camera-form-result")).ToContainTextAsync("Not usable", new() { Timeout = 15_000 });
        Assert.DoesNotContain("dock-secret", await page.Locator("#camera-form-result").InnerTextAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = "Save camera" }).ClickAsync();
        var row = page.Locator("#cameras-table tr", new() { HasText = name });
        await Assertions.Expect(row).ToContainTextAsync("rtsp://***:***@127.0.0.1:1/nothing-listens-here");

        // AI policies of the new camera.
        await page.Locator("#policy-camera").SelectOptionAsync(new SelectOptionValue { Label = name });
        await page.GetByRole(AriaRole.Button, new() { Name = "Add policy" }).ClickAsync();
        await page.GetByLabel("Task of policy 1").FillAsync("person_counting");
        await page.GetByLabel("Interval (ms) of policy 1").FillAsync("500");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policies" }).ClickAsync();
        await Assertions.Expect(page.Locator("#policies-result")).ToHaveTextAsync("Saved 1 policy.");

        // What only the server checks comes back in the API's own words, not as a blank page.
        await page.GetByRole(AriaRole.Button, new() { Name = "Add policy" }).ClickAsync();
        await page.GetByLabel("Task of policy 2").FillAsync("person_counting");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save policies" }).ClickAsync();
        await Assertions.Expect(page.Locator("#policies-result [role=alert]")).ToContainTextAsync("ai_policies has task 'person_counting' twice");

        // A user with a grant for the new camera.
        var userForm = page.Locator("#user-form");
        var username = $"op{Guid.NewGuid():N}"[..12];
        await userForm.GetByLabel("User name", new() { Exact = true }).FillAsync(username);
        await userForm.GetByLabel("Password", new() { Exact = true }).FillAsync("operator-password-123");
        await userForm.GetByLabel("Role").SelectOptionAsync("operator");
        await userForm.GetByLabel(name).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Assertions.Expect(page.Locator("#users-table tr", new() { HasText = username })).ToContainTextAsync(name);
        await session.ScreenshotAsync("settings");

        // What the page did is what the API now says.
        using var admin = core.Client(await core.TokenAsync("admin", WebConsoleFixture.AdminPassword));
        var cameras = JsonDocument.Parse(await admin.GetStringAsync("/api/v1/cameras")).RootElement.GetProperty("cameras");
        var created = cameras.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);
        Assert.True(created.GetProperty("has_credentials").GetBoolean());
        Assert.Equal("person_counting", created.GetProperty("ai_policies")[0].GetProperty("task").GetString());
        Assert.Equal(500, created.GetProperty("ai_policies")[0].GetProperty("interval_ms").GetInt32());
        session.AssertNoConsoleErrors("status of 400");
    }

    [Fact]
    public async Task Faces_page_says_so_when_inference_is_unreachable()
    {
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", WebConsoleFixture.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Faces" }).ClickAsync();
        await Assertions.Expect(page.Locator("#faces-status [role=alert]")).ToContainTextAsync("Inference (which holds the face registry) is unreachable.");
        await Assertions.Expect(page.Locator("#register-face")).ToBeVisibleAsync();
        await session.ScreenshotAsync("faces-unreachable");
        session.AssertNoConsoleErrors("status of 502");
    }

    [Fact]
    public async Task Unknown_api_paths_stay_problem_json_while_console_paths_serve_the_page()
    {
        using var client = core.Client();
        using var page = await client.GetAsync($"/cameras/{core.GateId}");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        using var api = await client.GetAsync("/api/v1/no-such-route");
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType);
        using var health = await client.GetAsync("/health");
        Assert.Equal("application/json", health.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// Waits until the player plays and its clock has advanced by a second of video (a seek alone moves the clock
    /// too); on failure says what the element reported.
    /// </summary>
    private static async Task WaitForPlaybackAsync(IPage page)
    {
        try
        {
            await page.WaitForFunctionAsync(
                "() => { const v = document.querySelector('#player'); return !!v && !v.paused && v.readyState >= 2 && !!document.querySelector('#playing-at').dataset.wallMs; }");
            var t0 = await page.EvaluateAsync<double>("document.querySelector('#player').currentTime");
            await page.WaitForFunctionAsync("t0 => document.querySelector('#player').currentTime > t0 + 1", t0);
        }
        catch (TimeoutException)
        {
            var state = await page.EvaluateAsync<string>("""
                () => { const v = document.querySelector('#player');
                  return v ? JSON.stringify({ src: v.currentSrc, t: v.currentTime, paused: v.paused, ready: v.readyState, net: v.networkState,
                    error: v.error && v.error.message, text: document.querySelector('#playing-at')?.textContent,
                    hls: v.canPlayType('application/vnd.apple.mpegurl') }) : 'no #player'; }
                """);
            Assert.Fail("the video did not play: " + state);
        }
    }

    /// <summary>A short digest of the pixels the page shows (drawn through a canvas).</summary>
    private static Task<string> ImageFingerprintAsync(ILocator image) => image.EvaluateAsync<string>("""
        img => {
          const c = document.createElement('canvas');
          c.width = 64; c.height = 48;
          const g = c.getContext('2d');
          g.drawImage(img, 0, 0, 64, 48);
          const d = g.getImageData(0, 0, 64, 48).data;
          let h = 0;
          for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + d[i + 1] + d[i + 2]) >>> 0;
          return String(h);
        }
        """);

    private static Task<string> ElementAtAsync(IPage page, double x, double y) =>
        page.EvaluateAsync<string>("([x, y]) => document.elementFromPoint(x, y)?.className ?? ''", new[] { x, y });
}
