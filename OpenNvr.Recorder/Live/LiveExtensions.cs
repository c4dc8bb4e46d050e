namespace OpenNvr.Recorder.Live;

public static class LiveExtensions
{
    /// <summary>Live view: options (section <c>Live</c>, validated at start) and the hub of live sources.</summary>
    public static IHostApplicationBuilder AddLive(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LiveOptions>().BindConfiguration(LiveOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<LiveHub>();
        return builder;
    }
}
