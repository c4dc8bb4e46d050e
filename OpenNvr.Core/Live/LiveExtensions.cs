namespace OpenNvr.Core.Live;

public static class LiveExtensions
{
    /// <summary>The relay to the Recorders' live routes (a blocking LL-HLS reload may take a few seconds: no retries, 20 s timeout).</summary>
    public static IHostApplicationBuilder AddLiveRelay(this IHostApplicationBuilder builder)
    {
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental in this package version.
        builder.Services.AddHttpClient<RecorderLiveRelay>(http => http.Timeout = TimeSpan.FromSeconds(20))
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return builder;
    }
}
