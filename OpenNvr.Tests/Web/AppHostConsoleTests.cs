using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Web;

/// <summary>
/// The console in Chromium against the real app host (Core, Inference, Recorder, PostgreSQL), sharing the one app
/// host of the collection, whose demo camera is recorded by the Recorder and analysed by the AI pipeline.
/// </summary>
[Collection(AppHostCollection.Name)]
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class AppHostConsoleTests(AppHostFixture host, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly TimeSpan PipelineWait = TimeSpan.FromSeconds(90);

    private string CoreUrl => host.App.GetEndpoint("core", "http").ToString().TrimEnd('/');

    private async Task<string> AdminPasswordAsync()
    {
        var model = host.App.Services.GetRequiredService<DistributedApplicationModel>();
        var parameter = model.Resources.OfType<ParameterResource>().Single(p => p.Name == "admin-password");
        return (await parameter.GetValueAsync(CancellationToken.None))!;
    }

    [Fact]
    public async Task Bad_password_shows_an_error_and_the_admin_logs_in()
    {
        await using var session = await browser.OpenAsync(CoreUrl);
        await session.Page.GotoAsync("/login");
        await session.Page.GetByLabel("User name").FillAsync("admin");
        await session.Page.GetByLabel("Password").FillAsync("certainly-not-the-password");
        await session.Page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Assertions.Expect(session.Page.Locator("#login-error")).ToHaveTextAsync("Wrong user name or password.");
        await session.ScreenshotAsync("apphost-login-bad-password");

        await session.LoginAsync("admin", await AdminPasswordAsync());
        await Assertions.Expect(session.Page.Locator("#user-name")).ToHaveTextAsync("admin (admin)");
        await session.ScreenshotAsync("apphost-cameras");
        session.AssertNoConsoleErrors("status of 401");
    }

    [Fact]
    public async Task A_viewer_without_a_grant_sees_no_camera()
    {
        using var admin = await ClientAsync("admin", await AdminPasswordAsync());
        var username = $"viewer{Guid.NewGuid():N}"[..16];
        using (var created = await admin.PostAsJsonAsync("/api/v1/users", new { username, password = "viewer-password-apphost", role = "viewer" }))
        {
            await HttpAssert.OkJsonAsync(created, HttpStatusCode.Created);
        }

        await using var session = await browser.OpenAsync(CoreUrl);
        await session.LoginAsync(username, "viewer-password-apphost");
        await Assertions.Expect(session.Page.Locator("#cameras-status")).ToContainTextAsync("No cameras to show");
        Assert.Equal(0, await session.Page.Locator("li.camera-card").CountAsync());
        await session.ScreenshotAsync("apphost-viewer-no-cameras");
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Demo_camera_shows_a_live_image_that_changes()
    {
        var demo = await DemoCameraAsync();
        await using var session = await browser.OpenAsync(CoreUrl);
        await session.LoginAsync("admin", await AdminPasswordAsync());
        var image = session.Page.Locator($"li.camera-card[data-camera-id='{demo}'] img.live-image");
        await Assertions.Expect(image).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var first = await image.GetAttributeAsync("data-frame-at");
        await session.Page.WaitForFunctionAsync(
            "([id, first]) => document.querySelector(`li.camera-card[data-camera-id='${id}'] img.live-image`).dataset.frameAt !== first",
            new object[] { demo, first! }, new() { Timeout = 15_000 });
        await session.ScreenshotAsync("apphost-demo-live");
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Demo_camera_timeline_shows_recorded_ranges_and_a_click_plays()
    {
        var demo = await DemoCameraAsync();
        await WaitForChunksAsync(demo, 2); // the page loads its window once; chunks take 10 s each to appear
        await using var session = await browser.OpenAsync(CoreUrl);
        var page = session.Page;
        await session.LoginAsync("admin", await AdminPasswordAsync());
        await page.GotoAsync($"/cameras/{demo}");
        var timeline = page.Locator("#timeline");
        await Assertions.Expect(timeline.Locator(".tl-range").First).ToBeAttachedAsync(new() { Timeout = 30_000 });
        await timeline.ScrollIntoViewIfNeededAsync();
        var box = (await timeline.BoundingBoxAsync())!;
        // The demo camera has recorded for the last minute or so: click just inside the bar's right end.
        await page.Mouse.ClickAsync(box.X + box.Width - 2, box.Y + box.Height / 2);
        await page.WaitForFunctionAsync("() => { const v = document.querySelector('#player'); return !!v && !v.paused && v.readyState >= 2; }", null, new() { Timeout = 20_000 });
        var t0 = await page.EvaluateAsync<double>("document.querySelector('#player').currentTime");
        await page.WaitForFunctionAsync("t0 => document.querySelector('#player').currentTime > t0 + 1", t0, new() { Timeout = 15_000 });
        await session.ScreenshotAsync("apphost-demo-playback");
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Events_page_lists_person_counting_events_with_snapshots()
    {
        var demo = await DemoCameraAsync();
        using var admin = await ClientAsync("admin", await AdminPasswordAsync());
        var deadline = DateTime.UtcNow + PipelineWait;
        while ((await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events/latest?camera_id={demo}&task=person_counting&limit=1"))!["count"]!.GetValue<int>() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no person_counting event arrived from the demo camera");
            await Task.Delay(2000);
        }

        await using var session = await browser.OpenAsync(CoreUrl);
        var page = session.Page;
        await session.LoginAsync("admin", await AdminPasswordAsync());
        await page.GotoAsync("/events?task=person_counting");
        var first = page.Locator("#events-list li.event").First;
        await Assertions.Expect(first).ToContainTextAsync("person_counting");
        await Assertions.Expect(first.Locator(".event-result")).ToContainTextAsync("Count: ");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#events-list img.snapshot'); return !!i && i.complete && i.naturalWidth > 0; }");
        await session.ScreenshotAsync("apphost-events");
        session.AssertNoConsoleErrors();
    }

    /// <summary>The camera with a person_counting policy, once a Recorder holds it and reports it recording.</summary>
    private async Task<int> DemoCameraAsync()
    {
        using var admin = await ClientAsync("admin", await AdminPasswordAsync());
        var deadline = DateTime.UtcNow + PipelineWait;
        while (true)
        {
            var cameras = (await admin.GetFromJsonAsync<JsonObject>("/api/v1/cameras"))!["cameras"]!.AsArray();
            var demo = cameras.FirstOrDefault(c => c!["ai_policies"]!.AsArray().Any(p => (string)p!["task"]! == "person_counting"));
            if (demo is not null && (string?)demo["recorder_id"] is not null && (string)demo["recording_state"]! == "recording")
            {
                return (int)demo["id"]!;
            }

            Assert.True(DateTime.UtcNow < deadline, "no demo camera with a person_counting policy is recording: " + cameras.ToJsonString());
            await Task.Delay(2000);
        }
    }

    /// <summary>Waits until Core indexes at least <paramref name="count"/> chunks of the camera in the last hour.</summary>
    private async Task WaitForChunksAsync(int camera, int count)
    {
        using var admin = await ClientAsync("admin", await AdminPasswordAsync());
        var deadline = DateTime.UtcNow + PipelineWait;
        while (true)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var window = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/recordings/{camera}?start_unix={now - 3600}&end_unix={now + 60}");
            if (window!["recordings"]!.AsArray().Count >= count)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} chunks of the demo camera were indexed: {window.ToJsonString()}");
            await Task.Delay(1000);
        }
    }

    private async Task<HttpClient> ClientAsync(string username, string password)
    {
        var client = new HttpClient { BaseAddress = new Uri(CoreUrl) };
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        var token = (string)(await HttpAssert.OkJsonAsync(response))["access_token"]!;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
