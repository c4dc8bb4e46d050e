using Azure.Core;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OpenNvr.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// The recording store of <c>Storage:Provider</c> as <see cref="IRecordingStore"/> (instrumented), its options
    /// validated at start, and a <c>recordings-store</c> health check that reports Degraded, not Unhealthy, when the
    /// store does not answer: a blob outage must not get a Recorder restarted (it keeps recording and uploads later).
    /// </summary>
    public static IHostApplicationBuilder AddRecordingStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>()
            .Bind(builder.Configuration.GetSection(StorageOptions.Section))
            .Configure(options => options.ConnectionString ??= builder.Configuration.GetConnectionString(StorageOptions.ConnectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<IRecordingStore>(sp =>
            new InstrumentedRecordingStore(Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHealthChecks().AddCheck<RecordingStoreHealthCheck>("recordings-store", HealthStatus.Degraded, ["ready"]);
        return builder;
    }

    /// <summary>The bare backend of validated options (tests and benches build stores this way too).</summary>
    public static IRecordingStore Create(StorageOptions options) => options.Provider switch
    {
        StorageProviders.FileSystem => new FileSystemRecordingStore(options.Root!),
        StorageProviders.AzureBlob => new AzureBlobRecordingStore(
            new BlobServiceClient(options.ConnectionString, BlobClientOptions(options)).GetBlobContainerClient(options.Container)),
        _ => throw new InvalidOperationException($"Unknown Storage:Provider '{options.Provider}'."),
    };

    /// <summary>
    /// Few, quick SDK retries: the Recorder's upload queue retries for ever with its own backoff, and Core's playback
    /// should fail fast rather than hang a player.
    /// </summary>
    public static BlobClientOptions BlobClientOptions(StorageOptions options)
    {
        var client = new BlobClientOptions();
        client.Retry.MaxRetries = options.BlobMaxRetries;
        client.Retry.Mode = RetryMode.Exponential;
        client.Retry.Delay = TimeSpan.FromMilliseconds(200);
        client.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        client.Retry.NetworkTimeout = TimeSpan.FromSeconds(options.BlobNetworkTimeoutSeconds);
        return client;
    }
}

/// <summary>The store answers a properties request (for a key that need not exist).</summary>
internal sealed class RecordingStoreHealthCheck(IRecordingStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.GetPropertiesAsync("health-probe", cancellationToken);
            return HealthCheckResult.Healthy($"{store.Provider} store answers");
        }
        catch (IOException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{store.Provider} store does not answer: {ex.Message}");
        }
    }
}
