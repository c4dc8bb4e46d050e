using System.Text.Json;
using System.Text.Json.Serialization;
using Refit;

namespace OpenNvr.Contracts;

/// <summary>How the contracts look on the wire: snake_case names, nulls written (an absent field and a null one read the same).</summary>
public static class ContractJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>
    /// Refit settings for every service client: the same JSON as the services' own endpoints, and what the transport
    /// throws (<see cref="HttpRequestException"/>, timeouts, Polly's rejections) surfaced as it is rather than wrapped,
    /// so that callers tell an unreachable service from a refusal the way they did with plain HttpClient.
    /// </summary>
    public static RefitSettings RefitSettings()
    {
        var settings = new RefitSettings(new SystemTextJsonContentSerializer(Options));
        settings.Exceptions.TransportExceptionFactory = (_, exception, _) => exception;
        return settings;
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
