using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
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

    private Task<string> AdminPasswordAsync() => host.ParameterValueAsync("admin-password");

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
    public async Task Demo_camera_shows_a_live_picture_that_moves()
    {
        var demo = await DemoCameraAsync();
        await using var session = await browser.OpenAsync(CoreUrl);
        await session.LoginAsync("admin", await AdminPasswordAsync());
        // The grid plays the camera's live video and shows the refreshed still image only when there is none: either
        // way the picture must move (the video's clock advances, or the image is replaced by a newer frame).
        const string Picture = """
            (id) => {
              const card = document.querySelector(`li.camera-card[data-camera-id='${id}']`);
              const video = card?.querySelector('video.live-video'), image = card?.querySelector('img.live-image');
              if (video && !video.hidden && video.currentTime > 0) return 'video@' + video.currentTime;
              if (image && !image.hidden && image.dataset.frameAt) return 'image@' + image.dataset.frameAt;
              return null;
            }
            """;
        await session.Page.WaitForFunctionAsync(Picture, demo, new() { Timeout = 30_000 });
        var first = await session.Page.EvaluateAsync<string>($"({Picture})({demo})");
        await session.Page.WaitForFunctionAsync($"([id, first]) => {{ const now = ({Picture})(id); return now !== null && now !== first; }}",
            new object[] { demo, first }, new() { Timeout = 15_000 });
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
        await Wait.UntilAsync(
            async () => (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events/latest?camera_id={demo}&task=person_counting&limit=1"))!["count"]!.GetValue<int>() > 0,
            PipelineWait, "a person_counting event from the demo camera", pollMs: 2000);

        await using var session = await browser.OpenAsync(CoreUrl);
        var page = session.Page;
        await session.LoginAsync("admin", await AdminPasswordAsync());
        await page.GotoAsync("/events?task=person_counting");
        var first = page.Locator("#events-list li.event").First;
        await Assertions.Expect(first).ToContainTextAsync("person_counting");
        // A frame's count ("Count: n"), or since people are tracked (issue 13) a person's event in words.
        await Assertions.Expect(first.Locator(".event-result")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"Count: \d+|Person \d+|Occupancy \d+"));
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#events-list img.snapshot'); return !!i && i.complete && i.naturalWidth > 0; }");
        await session.ScreenshotAsync("apphost-events");
        session.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Faces_page_registers_from_a_photo_refuses_a_faceless_snapshot_and_deletes()
    {
        var demo = await DemoCameraAsync();
        var personId = $"grace-{Guid.NewGuid():N}"[..22];
        using var inference = new HttpClient { BaseAddress = host.App.GetEndpoint("inference", "http") };
        inference.DefaultRequestHeaders.Add("X-API-Key", await host.ParameterValueAsync("inference-api-key"));

        await using var session = await browser.OpenAsync(CoreUrl);
        var page = session.Page;
        await session.LoginAsync("admin", await AdminPasswordAsync());
        await page.GetByRole(AriaRole.Link, new() { Name = "Faces" }).ClickAsync();
        await Assertions.Expect(page.Locator("#faces-status")).ToContainTextAsync("identit");

        // Register from an uploaded photo: Core writes it under the shared frames folder and Inference embeds it.
        var form = page.Locator("#register-face");
        await form.GetByLabel("Person id").FillAsync(personId);
        await form.GetByLabel("Name").FillAsync("Grace Hopper");
        await form.GetByLabel("Category").SelectOptionAsync("employee");
        await form.GetByLabel("Photo (JPEG or PNG, one face)").SetInputFilesAsync(RepositoryPaths.TestData("persons", "grace_hopper.jpg"));
        await form.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
        await Assertions.Expect(page.Locator("#toast")).ToHaveTextAsync("Registered Grace Hopper.");
        var row = page.Locator($"#faces-table tr[data-person-id='{personId}']");
        await Assertions.Expect(row.Locator("td")).ToHaveTextAsync([personId, "Grace Hopper", "employee", "Delete"]);

        // Listed under its category, and not under another.
        await page.Locator("#face-category").SelectOptionAsync("employee");
        await Assertions.Expect(page.Locator("#faces-status")).ToContainTextAsync("in employee");
        await Assertions.Expect(row).ToBeVisibleAsync();
        await page.Locator("#face-category").SelectOptionAsync("visitor");
        await Assertions.Expect(page.Locator("#faces-status")).ToContainTextAsync("in visitor");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await page.Locator("#face-category").SelectOptionAsync("employee");
        await Assertions.Expect(row).ToBeVisibleAsync();
        await session.ScreenshotAsync("apphost-faces");

        using (var response = await inference.GetAsync($"/faces/{personId}"))
        {
            var held = await HttpAssert.OkJsonAsync(response);
            Assert.Equal("Grace Hopper", (string)held["name"]!);
            Assert.Equal("employee", (string)held["category"]!);
            Assert.Equal(1, (int)held["embedding_count"]!);
        }

        // From an event snapshot, reached from the events page: vtest's faces are a few pixels tall, so Inference
        // finds none and the page shows its 422 problem rather than registering anyone.
        var snapshotEvent = await PersonCountingEventWithSnapshotAsync(demo);
        await page.GotoAsync("/events?task=person_counting");
        var link = page.Locator($"#events-list li.event[data-event-id='{snapshotEvent}'] a", new() { HasText = "Register a face from this snapshot" });
        await link.ClickAsync();
        await page.WaitForURLAsync($"**/faces?event_id={snapshotEvent}");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#register-face img.snapshot'); return !!i && i.complete && i.naturalWidth > 0; }");
        var fromSnapshot = personId + "-s";
        await form.GetByLabel("Person id").FillAsync(fromSnapshot);
        await form.GetByLabel("Name").FillAsync("Someone on the path");
        await form.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
        await Assertions.Expect(page.Locator("#register-error [role=alert]")).ToContainTextAsync("No face was found in the frame");
        await session.ScreenshotAsync("apphost-faces-snapshot-no-face");
        using (var absent = await inference.GetAsync($"/faces/{fromSnapshot}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        }

        // Delete the first identity (the button asks once more before it acts).
        await page.GotoAsync("/faces");
        var delete = row.GetByRole(AriaRole.Button, new() { Name = "Delete Grace Hopper" });
        await delete.ClickAsync();
        await Assertions.Expect(delete).ToHaveTextAsync("Really delete?");
        await delete.ClickAsync();
        await Assertions.Expect(page.Locator("#toast")).ToHaveTextAsync("Deleted Grace Hopper.");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await session.ScreenshotAsync("apphost-faces-deleted");
        using (var gone = await inference.GetAsync($"/faces/{personId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        using (var response = await inference.GetAsync("/faces/list?category=employee"))
        {
            var listed = await HttpAssert.OkJsonAsync(response);
            Assert.DoesNotContain(listed["faces"]!.AsArray(), f => (string)f!["person_id"]! == personId);
        }

        // Chromium logs the 422 of the snapshot registration as a failed resource load; nothing else may appear.
        session.AssertNoConsoleErrors("status of 422");
    }

    /// <summary>The id of the demo camera's newest person_counting event that has a snapshot.</summary>
    private async Task<long> PersonCountingEventWithSnapshotAsync(int camera)
    {
        using var admin = await ClientAsync("admin", await AdminPasswordAsync());
        var withSnapshot = await Wait.ForAsync(async () =>
            {
                var events = (await admin.GetFromJsonAsync<JsonObject>($"/api/v1/events/latest?camera_id={camera}&task=person_counting&limit=10"))!["events"]!.AsArray();
                return events.FirstOrDefault(e => e!["snapshot_url"] is not null);
            },
            PipelineWait, "a person_counting event with a snapshot from the demo camera", pollMs: 2000);
        return (long)withSnapshot["id"]!;
    }

    /// <summary>The camera with a person_counting policy, once a Recorder holds it and reports it recording.</summary>
    private async Task<int> DemoCameraAsync()
    {
        using var admin = await ClientAsync("admin", await AdminPasswordAsync());
        JsonArray cameras = [];
        var demo = await Wait.ForAsync(async () =>
            {
                cameras = (await admin.GetFromJsonAsync<JsonObject>("/api/v1/cameras"))!["cameras"]!.AsArray();
                var found = cameras.FirstOrDefault(c => c!["ai_policies"]!.AsArray().Any(p => (string)p!["task"]! == "person_counting"));
                return found is not null && (string?)found["recorder_id"] is not null && (string)found["recording_state"]! == "recording" ? found : null;
            },
            PipelineWait, () => "a recording demo camera with a person_counting policy: " + cameras.ToJsonString(), pollMs: 2000);
        return (int)demo["id"]!;
    }

    /// <summary>Waits until Core indexes at least <paramref name="count"/> chunks of the camera in the last hour.</summary>
    private async Task WaitForChunksAsync(int camera, int count)
    {
        using var admin = await ClientAsync("admin", await AdminPasswordAsync());
        JsonObject? window = null;
        await Wait.UntilAsync(async () =>
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                window = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/recordings/{camera}?start_unix={now - 3600}&end_unix={now + 60}");
                return window!["recordings"]!.AsArray().Count >= count;
            },
            PipelineWait, () => $"{count} indexed chunks of the demo camera (so far: {window?.ToJsonString()})", pollMs: 1000);
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
