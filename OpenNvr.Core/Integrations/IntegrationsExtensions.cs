using Microsoft.Extensions.Options;
using OpenNvr.Core.Integrations.Mqtt;
using OpenNvr.Core.Integrations.Webhooks;

namespace OpenNvr.Core.Integrations;

public static class IntegrationsExtensions
{
    /// <summary>
    /// MQTT (publisher, optional embedded broker, Home Assistant discovery) and webhooks (durable queue in nvrdb,
    /// dispatcher). Register after the database migration so that the hosted services start on a migrated nvrdb;
    /// the broker starts before the publisher and stops after it.
    /// </summary>
    public static void AddIntegrations(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IntegrationsTelemetry>();

        services.AddSingleton<IValidateOptions<MqttOptions>, MqttOptionsValidator>();
        services.AddOptions<MqttOptions>().BindConfiguration(MqttOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<MqttOptions>>().Value;
            return new MqttTopics(options.TopicPrefix, options.DiscoveryPrefix);
        });
        services.AddSingleton<HomeAssistantDiscovery>();
        services.AddSingleton<EmbeddedMqttBroker>();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedMqttBroker>());
        services.AddSingleton<MqttPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttPublisher>());
        services.AddSingleton<MqttIntegration>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttIntegration>());

        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<WebhookUrlPolicy>();
        services.AddSingleton<WebhookSecretProtector>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddSingleton<WebhookQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookQueue>());
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental in this package version.
        services.AddHttpClient(WebhookSender.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // Internal addresses are refused at connect time too (Webhooks:RefusePrivateAddresses), and a redirect
                // could lead anywhere: receivers answer, they do not redirect.
                ConnectCallback = sp.GetRequiredService<WebhookUrlPolicy>().ConnectAsync,
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            // Retries, delays and timeouts are the sender's own Polly pipeline (each attempt re-signed and logged).
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

        services.AddSingleton<IntegrationEvents>();
    }
}
