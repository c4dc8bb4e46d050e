using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Refit;

namespace OpenNvr.Inference.Infrastructure;

public static class HuggingFaceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IHuggingFaceApi"/> (Refit's source-generated client, no reflection, through <c>IHttpClientFactory</c>) and <see cref="HuggingFaceClient"/>.
    /// The service defaults give every HttpClient the standard resilience handler; this client replaces it with its own
    /// pipeline (<see cref="HuggingFaceResilience"/>), one instance per model.
    /// Handler order, outermost first: resilience pipeline, bearer token, per-attempt classification, sockets.
    /// </summary>
    public static IServiceCollection AddHuggingFaceClient(this IServiceCollection services)
    {
        services.AddOptions<HuggingFaceOptions>().BindConfiguration(HuggingFaceOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HuggingFaceOptions>, HuggingFaceOptionsValidator>());
        services.TryAddSingleton<HuggingFacePipelineKeys>();
        services.TryAddTransient<HuggingFaceAuthHandler>();
        services.TryAddTransient<HuggingFaceAttemptHandler>();
        services.TryAddSingleton<HuggingFaceHttpLogger>();
        services.TryAddSingleton<HuggingFaceClient>();

        var http = services.AddRefitGeneratedClient<IHuggingFaceApi>()
            .ConfigureHttpClient((provider, client) =>
            {
                var options = provider.GetRequiredService<IOptions<HuggingFaceOptions>>().Value;
                // The trailing slash keeps a path in the base URL (e.g. .../hf-inference) when Refit appends /models/...
                client.BaseAddress = new Uri(options.BaseUrl.TrimEnd('/') + "/");
                // The pipeline's total timeout bounds each call; HttpClient's own 100 s default would cut it short.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            // A redirect would take the request (if not the token, which .NET strips) somewhere unconfigured: refuse it.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            // Our own per-attempt logger: the default one keeps the raw token in its structured state.
            .RemoveAllLoggers()
            .AddLogger<HuggingFaceHttpLogger>();

#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental in this package version.
        http.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        http.AddResilienceHandler(HuggingFaceResilience.PipelineName, HuggingFaceResilience.Configure)
            .SelectPipelineBy(_ => request => HuggingFaceCall.Of(request)?.PipelineKey ?? HuggingFacePipelineKeys.Overflow);
        http.AddHttpMessageHandler<HuggingFaceAuthHandler>()
            .AddHttpMessageHandler<HuggingFaceAttemptHandler>();
        return services;
    }
}
