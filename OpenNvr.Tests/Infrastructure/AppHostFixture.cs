using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// One real app host per test collection (starting one costs about 30 s): local PostgreSQL over a throw-away data
/// root, every resource healthy before the first test runs.
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    public string DataRoot { get; } = TestTemp.NewFolder("apphost");

    public DistributedApplication App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataRoot);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.OpenNvr_AppHost>(
            [
                $"OpenNvr:DataRoot={DataRoot}",
                "OpenNvr:PostgresMode=local",
                "ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
            ]);
        App = await builder.BuildAsync();
        using var cts = new CancellationTokenSource(StartTimeout);
        await App.StartAsync(cts.Token);
        foreach (var resource in new[] { "postgres", "core", "inference", "recorder" })
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
        }
    }

    /// <summary>The value the app host gave a parameter (e.g. a generated secret).</summary>
    public async Task<string> ParameterValueAsync(string name)
    {
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        var parameter = model.Resources.OfType<ParameterResource>().Single(p => p.Name == name);
        return await parameter.GetValueAsync(CancellationToken.None) ?? "";
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }

        // PostgreSQL may still be closing its files: what cannot go now goes with the run's temp folder.
        TestTemp.TryDelete(DataRoot);
    }
}

[CollectionDefinition(Name)]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>
{
    public const string Name = "App host";
}
