using Microsoft.Playwright;

namespace OpenNvr.Tests.Web;

/// <summary>
/// Debian's Chromium driven by Playwright for .NET, one browser per test class. Never downloads a browser: the
/// executable path is Debian's (eng/setup.sh installs it) and the driver ships in the build output (.playwright/).
/// Each test opens its own context (fresh storage, 1280x800 unless told otherwise).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Screenshots land here (bin/.../artifacts/web): test artifacts, never committed.</summary>
    public static string ArtifactsDir { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "web");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run eng/setup.sh (Debian package chromium).");
        // Expectations poll until they hold; their ceiling is generous (Playwright's default is 5 s), because on a
        // loaded machine a page that waits for Core and Inference (a face registration) can take longer.
        Assertions.SetDefaultExpectTimeout(30_000);
        Directory.CreateDirectory(ArtifactsDir);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        Playwright?.Dispose();
    }

    public async Task<ConsoleSession> OpenAsync(string baseUrl, int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        return new ConsoleSession(context, page);
    }
}

/// <summary>A browser context with one page; collects console errors and uncaught page errors.</summary>
public sealed class ConsoleSession : IAsyncDisposable
{
    private readonly List<string> _errors = [];

    public ConsoleSession(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add($"console: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add($"page error: {error}");
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Fails with every console error the page logged, except those a test expects.</summary>
    public void AssertNoConsoleErrors(params string[] expected)
    {
        var unexpected = Errors.Where(e => !expected.Any(x => e.Contains(x, StringComparison.Ordinal))).ToList();
        Assert.True(unexpected.Count == 0, "console errors:\n" + string.Join("\n", unexpected));
    }

    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(BrowserFixture.ArtifactsDir, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async Task LoginAsync(string username, string password)
    {
        await Page.GotoAsync("/login");
        await Page.GetByLabel("User name").FillAsync(username);
        await Page.GetByLabel("Password").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();
}
