namespace OpenNvr.Core.Exports;

public static class ExportExtensions
{
    /// <summary>Clip exports: options (section <c>Exports</c>, validated at start), the engine, its chunk source and the queue.</summary>
    public static IHostApplicationBuilder AddExports(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ExportOptions>().BindConfiguration(ExportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IChunkFileSource, RecordingStoreChunkSource>();
        builder.Services.AddSingleton<ExportEngine>();
        builder.Services.AddSingleton<ExportQueue>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ExportQueue>());
        return builder;
    }
}
