using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Storage;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Foundation;

/// <summary>
/// The app host with <c>Storage:Provider=azureblob</c> and no connection string: it runs Azurite itself (data under the
/// data root), hands its connection string to Core and the Recorder, and the demo camera's chunks land in it.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class AppHostBlobStorageTests
{
    [Fact]
    public async Task Runs_Azurite_and_the_demo_cameras_chunks_are_stored_in_it_before_Core_lists_them()
    {
        var dataRoot = TestTemp.NewFolder("apphost-blob");
        DistributedApplication? app = null;
        try
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.OpenNvr_AppHost>(
            [
                $"OpenNvr:DataRoot={dataRoot}",
                "OpenNvr:PostgresMode=local",
                "Storage:Provider=azureblob",
                "ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
            ]);
            app = await builder.BuildAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await app.StartAsync(cts.Token);
            foreach (var resource in new[] { "azurite", "core", "recorder" })
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
            }

            var connectionString = await app.GetConnectionStringAsync("recordings", cts.Token);
            var store = StorageServiceCollectionExtensions.Create(new StorageOptions
            {
                Provider = StorageProviders.AzureBlob,
                ConnectionString = connectionString,
            });
            using var core = app.CreateHttpClient("core");
            var password = await ParameterAsync(app, "admin-password");
            using var login = await core.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password });
            core.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString());
            using var cameras = JsonDocument.Parse(await core.GetStringAsync("/api/v1/cameras"));
            var demo = cameras.RootElement.GetProperty("cameras")[0].GetProperty("id").GetInt32();

            var indexed = new List<(string Url, long Size, double Start)>();
            await Wait.UntilAsync(async () =>
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                using var window = JsonDocument.Parse(await core.GetStringAsync(
                    string.Create(CultureInfo.InvariantCulture, $"/api/v1/recordings/{demo}?start_unix={now - 3600}&end_unix={now + 60}")));
                indexed = window.RootElement.GetProperty("recordings").EnumerateArray()
                    .Select(r => (r.GetProperty("url").GetString()!, r.GetProperty("size_bytes").GetInt64(), r.GetProperty("start_unix").GetDouble()))
                    .ToList();
                return indexed.Count >= 2;
            }, TimeSpan.FromMinutes(2), "two demo chunks in Core's index", pollMs: 1000);

            var stored = new List<StoredObject>();
            await foreach (var item in store.ListAsync($"{demo}/"))
            {
                stored.Add(item);
            }

            // Every chunk Core lists is in Azurite with its size (uploaded, then registered).
            Assert.True(stored.Count >= indexed.Count, $"{stored.Count} stored, {indexed.Count} indexed");
            Assert.Subset(stored.Select(s => s.Size).ToHashSet(), indexed.Select(i => i.Size).ToHashSet());
            Assert.True(Directory.Exists(Path.Combine(dataRoot, "azurite")), "Azurite keeps its data under the data root");
        }
        finally
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }

            TestTemp.TryDelete(dataRoot);
        }
    }

    private static async Task<string> ParameterAsync(DistributedApplication app, string name)
    {
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        return await model.Resources.OfType<ParameterResource>().Single(p => p.Name == name).GetValueAsync(CancellationToken.None) ?? "";
    }
}
