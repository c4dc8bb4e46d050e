using Microsoft.Extensions.Options;
using OpenNvr.Recorder.Leases;
using OpenNvr.Recorder.Recording;
using OpenNvr.Storage;

namespace OpenNvr.Recorder.Upload;

public static class UploadServiceCollectionExtensions
{
    /// <summary>
    /// The recording store (<c>Storage:*</c>; a filesystem store defaults to <c>Recorder:RecordingsRoot</c> itself, so a
    /// single host writes in place), the upload queue, the hot cache and the uploader. Call it after the registration
    /// sender and before the heartbeat service: hosted services stop in reverse order, so at shutdown the supervisors
    /// seal their chunks first, then the uploader drains, then the registration sender.
    /// </summary>
    public static IHostApplicationBuilder AddRecordingUploads(this IHostApplicationBuilder builder)
    {
        builder.AddRecordingStore();
        builder.Services.AddOptions<StorageOptions>()
            .PostConfigure<IOptions<RecorderOptions>>((storage, recorder) => storage.Root ??= recorder.Value.ResolveRecordingsRoot());
        builder.Services.AddOptions<UploadOptions>()
            .Bind(builder.Configuration.GetSection(UploadOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new UploadQueue(
            Path.Combine(sp.GetRequiredService<RecorderIdentity>().StateDirectory, "uploads"), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<ISealedChunkSink>(sp => sp.GetRequiredService<UploadQueue>());
        builder.Services.AddSingleton(sp => new LocalCopies(
            Path.Combine(sp.GetRequiredService<RecorderIdentity>().StateDirectory, "cache"),
            sp.GetRequiredService<IOptions<RecorderOptions>>().Value.ResolveRecordingsRoot()));
        builder.Services.AddSingleton<ChunkUploader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ChunkUploader>());
        return builder;
    }
}
