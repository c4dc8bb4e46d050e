using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenNvr.Storage;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Storage;

/// <summary>A wrong storage configuration stops a service at start with a message that names the key.</summary>
public sealed class StorageOptionsTests
{
    [Theory]
    [InlineData("s3", null, null, null, "Storage:Provider must be 'filesystem' or 'azureblob'")]
    [InlineData("filesystem", null, null, null, "needs Storage:Root")]
    [InlineData("azureblob", null, null, null, "needs the connection string ConnectionStrings:recordings")]
    [InlineData("azureblob", null, "not a connection string", null, "is not an Azure Storage connection string")]
    [InlineData("azureblob", null, "UseDevelopmentStorage=true", "Bad_Container", "Storage:Container must be 3-63")]
    public async Task InvalidSettings_FailAtStart(string provider, string? root, string? connection, string? container, string expected)
    {
        using var host = Build(provider, root, connection, container);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidSettings_GiveTheConfiguredBackend()
    {
        var root = TestTemp.NewFolder("fsstore");
        try
        {
            using (var fileSystem = Build("filesystem", root, null, null))
            {
                await fileSystem.StartAsync();
                Assert.Equal(StorageProviders.FileSystem, fileSystem.Services.GetRequiredService<IRecordingStore>().Provider);
                await fileSystem.StopAsync();
            }

            using var blob = Build("azureblob", null, "UseDevelopmentStorage=true", "recordings");
            await blob.StartAsync();
            Assert.Equal(StorageProviders.AzureBlob, blob.Services.GetRequiredService<IRecordingStore>().Provider);
            await blob.StopAsync();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static IHost Build(string provider, string? root, string? connection, string? container)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = provider,
            ["Storage:Root"] = root,
            ["Storage:Container"] = container,
            ["ConnectionStrings:recordings"] = connection,
        });
        builder.AddRecordingStore();
        return builder.Build();
    }
}
