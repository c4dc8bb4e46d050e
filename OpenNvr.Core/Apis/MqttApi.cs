using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Integrations.Mqtt;

namespace OpenNvr.Core.Apis;

public sealed record MqttTestResponse(string Topic, bool Delivered);

/// <summary>The console's MQTT settings page (admin): the publisher's status and a test publish.</summary>
public static class MqttApi
{
    public static IEndpointRouteBuilder MapMqttApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/integrations/mqtt").WithTags("Integrations")
            .RequireAuthorization(AuthPolicies.Admin)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/", Status).WithName("getMqttStatus")
            .WithSummary("MQTT: mode (off, embedded, external), broker (never its credentials), connection, published and dropped counts");
        api.MapPost("/test", TestAsync).WithName("testMqttPublish")
            .WithSummary("Publishes a message to <prefix>/test and waits (at most 5 s) for the broker's acknowledgement");
        return app;
    }

    private static Ok<MqttStatus> Status(MqttPublisher publisher) => TypedResults.Ok(publisher.Status);

    private static async Task<Results<Ok<MqttTestResponse>, ConflictProblem, ServiceUnavailableProblem>> TestAsync(MqttPublisher publisher, TimeProvider clock,
        CancellationToken ct)
    {
        if (!publisher.Enabled)
        {
            return new ConflictProblem("MQTT is off: set Mqtt:Url (an external broker) or Mqtt:Embedded=true.");
        }

        var payload = JsonSerializer.Serialize(new { message = "Test publish from OpenNVR", at = clock.GetUtcNow().ToUnixTimeMilliseconds() });
        if (await publisher.PublishTestAsync(payload, TimeSpan.FromSeconds(5), ct))
        {
            return TypedResults.Ok(new MqttTestResponse(publisher.Topics.Test, Delivered: true));
        }

        var status = publisher.Status;
        return new ServiceUnavailableProblem(title: "Broker unavailable", detail: status.Connected
                ? "The broker did not acknowledge the test message within 5 s."
                : $"Not connected to the broker {status.Broker}{(status.LastError is null ? "" : $" ({status.LastError})")}; the message stays queued.");
    }
}
