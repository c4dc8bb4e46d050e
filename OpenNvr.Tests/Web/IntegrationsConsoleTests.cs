using Microsoft.AspNetCore.Builder;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Integrations;

namespace OpenNvr.Tests.Web;

/// <summary>Core on Kestrel with its embedded MQTT broker and fast webhook retries, for the console's integrations page.</summary>
public sealed class IntegrationsConsoleFixture : IAsyncLifetime
{
    public string BaseUrl { get; private set; } = "";

    public int BrokerPort { get; } = FreePort.Tcp();

    public WebApplicationFactory<NvrDbContext> Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("web_integrations");
        var port = FreePort.Tcp();
        Factory = new WebApplicationFactory<NvrDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:nvrdb", connectionString);
            host.UseSetting("Auth:AdminPassword", CoreFixture.AdminPassword);
            host.UseSetting("Auth:JwtSigningKey", CoreFixture.SigningKey);
            host.UseSetting("Auth:LoginPermitsPerMinute", "10000");
            host.UseSetting(ServiceKeys.RecorderCore, CoreFixture.InternalKey);
            host.UseSetting("Mqtt:Embedded", "true");
            host.UseSetting("Mqtt:EmbeddedPort", BrokerPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            host.UseSetting("Mqtt:EmbeddedBindAddress", "127.0.0.1");
            host.UseSetting("Mqtt:Password", MqttCoreFixture.MqttPassword);
            host.UseSetting("Webhooks:RetryDelayMs", "50");
            host.UseSetting("Webhooks:PollIntervalMs", "100");
        });
        Factory.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        Factory.StartServer();
        BaseUrl = $"http://127.0.0.1:{port}";
        using var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        (await client.GetAsync("/health")).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

/// <summary>Settings › Integrations in Debian's Chromium: MQTT status and test publish, webhooks added, tested and logged.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class IntegrationsConsoleTests(IntegrationsConsoleFixture core, BrowserFixture browser)
    : IClassFixture<IntegrationsConsoleFixture>, IClassFixture<BrowserFixture>
{
    private const string Secret = "console-webhook-secret-0123456789";

    [Fact]
    public async Task An_admin_sees_the_mqtt_status_publishes_a_test_and_adds_tests_and_reads_a_webhook()
    {
        await using var watcher = await MqttWatcher.ConnectAsync(core.BrokerPort, "opennvr", MqttCoreFixture.MqttPassword, "opennvr/#");
        await using var receiver = await WebhookReceiver.StartAsync(Secret);
        await using var session = await browser.OpenAsync(core.BaseUrl);
        var page = session.Page;
        await session.LoginAsync("admin", CoreFixture.AdminPassword);
        await page.GotoAsync("/settings");
        await page.GetByRole(AriaRole.Link, new() { Name = "Integrations (MQTT, webhooks)" }).ClickAsync();
        await page.WaitForURLAsync("**/settings/integrations");

        // MQTT: connected to the embedded broker, and a test publish that a subscriber receives.
        var status = page.Locator("#mqtt-status");
        await Assertions.Expect(status).ToContainTextAsync("embedded");
        await Assertions.Expect(status).ToContainTextAsync($"mqtt://127.0.0.1:{core.BrokerPort}");
        await Assertions.Expect(status).ToContainTextAsync("connected");
        await page.GetByRole(AriaRole.Button, new() { Name = "Test publish" }).ClickAsync();
        await Assertions.Expect(page.Locator("#mqtt-test-result")).ToContainTextAsync("acknowledged a message on opennvr/test");
        await watcher.WaitForAsync(m => m.Topic == "opennvr/test", "the console's test message");

        // A webhook with credentials in its URL is refused with the server's reason.
        await page.GetByLabel("URL").FillAsync("https://user:pass@hooks.example.com/in");
        await page.GetByLabel("Secret").FillAsync(Secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        await Assertions.Expect(page.Locator("#webhook-form-result")).ToContainTextAsync("credentials");

        // A good one is added, gets a signed test delivery, and its log shows it delivered.
        await page.GetByLabel("URL").FillAsync(receiver.Url);
        await page.GetByLabel("Secret").FillAsync(Secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        var row = page.Locator("#webhooks-table tbody tr", new() { HasText = receiver.Url });
        await Assertions.Expect(row).ToContainTextAsync("enabled");
        await row.GetByRole(AriaRole.Button, new() { Name = "Test delivery" }).ClickAsync();
        var delivered = page.Locator("#deliveries-table tbody tr[data-status='delivered']");
        await Assertions.Expect(delivered).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await Assertions.Expect(delivered).ToContainTextAsync("200");
        var received = await receiver.WaitForAsync(r => (string?)r.Body["type"] == "test", "the console's test delivery");
        Assert.True(received.SignatureValid);
        await session.ScreenshotAsync("settings-integrations");
        session.AssertNoConsoleErrors("status of 400");
    }
}
