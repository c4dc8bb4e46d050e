using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpenNvr.AppHost;

internal static class AppHostExtensions
{
    /// <summary>
    /// Where the app host keeps state that must survive restarts (PostgreSQL data, recordings, frames):
    /// <c>OpenNvr:DataRoot</c>, else <c>/var/lib/opennvr</c> for root (PostgreSQL's own user must be able to reach
    /// it) or <c>~/.local/share/opennvr</c>. Deployed containers use a volume at <c>/var/lib/opennvr</c>.
    /// </summary>
    public static string ResolveDataRoot(this IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration["OpenNvr:DataRoot"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured, builder.AppHostDirectory);
        }

        if (builder.ExecutionContext.IsPublishMode || Environment.UserName == "root")
        {
            return "/var/lib/opennvr";
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "opennvr");
    }

    /// <summary>
    /// The demo camera's source: the bundled vtest clip looped in real time, in run mode only (a deployment has real
    /// cameras and no repository on disk) and unless <c>OpenNvr:DemoCamera</c> is false.
    /// </summary>
    public static string? DemoCameraUrl(this IDistributedApplicationBuilder builder)
    {
        var clip = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "testdata", "video", "vtest.mp4"));
        var enabled = builder.Configuration.GetValue("OpenNvr:DemoCamera", defaultValue: true);
        return enabled && !builder.ExecutionContext.IsPublishMode && File.Exists(clip) ? new Uri(clip).AbsoluteUri : null;
    }

    public static IResourceBuilder<ParameterResource> AddGeneratedSecret(
        this IDistributedApplicationBuilder builder, string name, int minLength) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = minLength, Special = false }, secret: true, persist: true);

    /// <summary>References a database and waits until its server is ready, whatever the PostgreSQL mode.</summary>
    public static IResourceBuilder<ProjectResource> WithDatabase(
        this IResourceBuilder<ProjectResource> project,
        IResourceBuilder<IResourceWithConnectionString> database,
        NvrDatabases databases)
    {
        project.WithReference(database);
        if (databases.WaitTarget(database) is { } waitTarget)
        {
            project.WaitFor(waitTarget);
        }

        return project;
    }

    /// <summary>
    /// The user needs the admin password to log in; it is generated, so say it once on the console
    /// (the dashboard shows it under Parameters at any time).
    /// </summary>
    public static void ShowAdminPasswordOnFirstRun(
        this IDistributedApplicationBuilder builder, IResourceBuilder<ParameterResource> adminPassword, string dataRoot)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return;
        }

        builder.Eventing.Subscribe<BeforeStartEvent>(async (@event, cancellationToken) =>
        {
            var marker = Path.Combine(dataRoot, ".admin-password-shown");
            if (File.Exists(marker))
            {
                return;
            }

            var password = await adminPassword.Resource.GetValueAsync(cancellationToken);
            var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpenNvr");
            var user = builder.Configuration["Parameters:admin-username"] ?? "admin";
            // The password goes to the terminal only: log records are structured data that providers export
            // (OTLP, files, the dashboard) and keep, so the logged line says where to find it, not what it is.
            Console.Out.WriteLine($"First run: log in to OpenNVR Core as '{user}' with password '{password}'.");
            await Console.Out.FlushAsync(cancellationToken);
            logger.LogWarning(
                "First run: the password of the OpenNVR admin '{User}' was printed on the console once. It is kept in the app host's user secrets (Parameters:admin-password) and shown in the dashboard under Parameters.",
                user);
            Directory.CreateDirectory(dataRoot);
            await File.WriteAllTextAsync(marker, DateTimeOffset.UtcNow.ToString("O"), cancellationToken);
        });
    }
}
