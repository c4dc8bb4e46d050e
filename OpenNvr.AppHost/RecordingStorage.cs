using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OpenNvr.AppHost;

/// <summary>Where recordings and snapshots are kept, and what a service must wait for before it uses the store.</summary>
internal sealed record RecordingStorage(
    string Provider,
    IResourceBuilder<IResourceWithConnectionString>? BlobStore,
    IResourceBuilder<IResource>? Server);

/// <summary>
/// The recording store of the system (<c>Storage:Provider</c>), with identical service code for each
/// (<c>Storage:*</c> and <c>ConnectionStrings:recordings</c>, see OpenNvr.Storage):
/// <list type="bullet">
/// <item><c>filesystem</c> (default): a folder of the data root, shared by Core and the Recorder on one host.</item>
/// <item><c>azureblob</c> with <c>ConnectionStrings:recordings</c> configured, or when publishing: Azure Blob
/// Storage through that connection string (a connection-string parameter in the manifest).</item>
/// <item><c>azureblob</c> without one: the app host runs Azurite (eng/tools, installed by eng/setup.sh) as an
/// executable resource on a loopback port, its data under <c>&lt;data root&gt;/azurite</c>, and hands its
/// connection string to the services (as it runs PostgreSQL in local mode).</item>
/// </list>
/// </summary>
internal static class RecordingStorageModes
{
    public const string FileSystem = "filesystem";
    public const string AzureBlob = "azureblob";
    public const string ConnectionName = "recordings";

    /// <summary>Azurite's well-known development account (public, from Azurite's documentation; local only).</summary>
    private const string DevelopmentAccount = "devstoreaccount1";

    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static RecordingStorage AddRecordingStorage(this IDistributedApplicationBuilder builder, string dataRoot, string defaultProvider = FileSystem)
    {
        var provider = builder.Configuration["Storage:Provider"]?.Trim().ToLowerInvariant() is { Length: > 0 } configured ? configured : defaultProvider;
        return provider switch
        {
            FileSystem => new RecordingStorage(FileSystem, null, null),
            AzureBlob when builder.ExecutionContext.IsPublishMode || !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ConnectionName)) =>
                new RecordingStorage(AzureBlob, builder.AddConnectionString(ConnectionName), null),
            AzureBlob => AddAzurite(builder, dataRoot),
            _ => throw new InvalidOperationException($"Storage:Provider '{provider}' is not one of {FileSystem}, {AzureBlob}."),
        };
    }

    /// <summary>
    /// Points a service at the store: the filesystem store's folder, or the blob store's connection string (and waits
    /// for Azurite when the app host runs it).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithRecordingStorage(
        this IResourceBuilder<ProjectResource> project, RecordingStorage storage, string fileSystemRoot)
    {
        project.WithEnvironment("Storage__Provider", storage.Provider);
        if (storage.BlobStore is null)
        {
            return project.WithEnvironment("Storage__Root", fileSystemRoot);
        }

        project.WithReference(storage.BlobStore);
        if (storage.Server is { } server)
        {
            project.WaitFor(server);
        }

        return project;
    }

    private static RecordingStorage AddAzurite(IDistributedApplicationBuilder builder, string dataRoot)
    {
        var executable = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "eng", "tools", "node_modules", ".bin", "azurite-blob"));
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"Storage:Provider is azureblob without ConnectionStrings:{ConnectionName}, and Azurite is not installed ({executable}): run eng/setup.sh.");
        }

        var location = Path.Combine(dataRoot, "azurite");
        Directory.CreateDirectory(location);
        var port = builder.Configuration.GetValue<int?>("OpenNvr:AzuritePort") ?? FreeTcpPort();
        var portText = port.ToString(CultureInfo.InvariantCulture);
        const string healthCheckKey = "azurite-ready";
        var server = builder.AddExecutable("azurite", executable, location,
                "--location", location, "--blobHost", "127.0.0.1", "--blobPort", portText, "--skipApiVersionCheck", "--loose")
            .WithEndpoint(name: "blob", port: port, targetPort: port, scheme: "http", isProxied: false)
            .WithHealthCheck(healthCheckKey);
        var endpoint = $"http://127.0.0.1:{portText}/{DevelopmentAccount}";
        builder.Services.AddHealthChecks().AddCheck(healthCheckKey, new AzuriteReadyCheck(new Uri(endpoint + "?comp=list")));
        var blobStore = builder.AddConnectionString(ConnectionName, ReferenceExpression.Create(
            $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccount};AccountKey={DevelopmentKey};BlobEndpoint={endpoint};"));
        return new RecordingStorage(AzureBlob, blobStore, server);
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Azurite answers HTTP (any answer: an unsigned request gets 403, which proves it is up).</summary>
    private sealed class AzuriteReadyCheck(Uri probe) : IHealthCheck
    {
        private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var response = await Http.GetAsync(probe, cancellationToken);
                return HealthCheckResult.Healthy($"Azurite answered {(int)response.StatusCode}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        }
    }
}
