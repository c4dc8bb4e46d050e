using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace OpenNvr.Storage;

/// <summary>The <c>Storage</c> section: which store holds recordings and snapshots (README, "Configuration").</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The connection string name of the blob store (<c>ConnectionStrings:recordings</c>).</summary>
    public const string ConnectionName = "recordings";

    /// <summary><c>filesystem</c> (default: one host) or <c>azureblob</c> (Azure Blob Storage, Azurite locally).</summary>
    [Required]
    [AllowedValues(StorageProviders.FileSystem, StorageProviders.AzureBlob, ErrorMessage = "Storage:Provider must be 'filesystem' or 'azureblob'.")]
    public string Provider { get; set; } = StorageProviders.FileSystem;

    /// <summary>The filesystem store's folder; a service may give a default (the Recorder's and Core's <c>Recorder:RecordingsRoot</c>).</summary>
    public string? Root { get; set; }

    /// <summary>The blob store's connection string, from <c>ConnectionStrings:recordings</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The blob container (Azure's naming rule: 3-63 lower-case letters, digits and single hyphens).</summary>
    [RegularExpression("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$", ErrorMessage = "Storage:Container must be 3-63 lower-case letters, digits and single hyphens.")]
    public string Container { get; set; } = "recordings";

    /// <summary>Retries of one blob request by the SDK before the caller sees the failure (the Recorder's queue retries on).</summary>
    [Range(0, 10)]
    public int BlobMaxRetries { get; set; } = 2;

    /// <summary>How long one blob request may take before it counts as failed.</summary>
    [Range(1, 600)]
    public double BlobNetworkTimeoutSeconds { get; set; } = 20;
}

/// <summary>What the attributes cannot say: each provider's own required setting.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (options.Provider == StorageProviders.FileSystem && string.IsNullOrWhiteSpace(options.Root))
        {
            return ValidateOptionsResult.Fail("Storage:Provider 'filesystem' needs Storage:Root (or Recorder:RecordingsRoot).");
        }

        if (options.Provider == StorageProviders.AzureBlob)
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return ValidateOptionsResult.Fail($"Storage:Provider 'azureblob' needs the connection string ConnectionStrings:{StorageOptions.ConnectionName}.");
            }

            try
            {
                _ = new Azure.Storage.Blobs.BlobServiceClient(options.ConnectionString);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
                return ValidateOptionsResult.Fail($"ConnectionStrings:{StorageOptions.ConnectionName} is not an Azure Storage connection string: {ex.Message}");
            }
        }

        return ValidateOptionsResult.Success;
    }
}
