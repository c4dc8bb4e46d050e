namespace OpenNvr.Core.Live;

public static class LiveExtensions
{
    /// <summary>
    /// The relay to the Recorders' live routes: a Refit client of <see cref="OpenNvr.Contracts.Live.IRecorderLiveApi"/>
    /// per lease holder on one named HttpClient with the service key (a blocking LL-HLS reload may take a few seconds:
    /// no retries, 20 s timeout).
    /// </summary>
    public static IHostApplicationBuilder AddLiveRelay(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RecorderLiveRelay>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental in this package version.
        builder.Services.AddHttpClient(RecorderLiveRelay.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(20))
            .AddSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, ServiceKeys.RecorderCore)
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return builder;
    }
}
