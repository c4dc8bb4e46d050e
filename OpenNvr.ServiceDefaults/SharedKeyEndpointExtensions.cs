using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// A shared secret in a request header, for the service-to-service routes (<see cref="InternalKeyHeader"/> =
/// <c>Internal:ApiKey</c>) and Inference's client key (<c>X-API-Key</c> = <c>Inference:ApiKey</c>). Both sides are
/// hashed before a constant-time comparison, so neither the key's content nor its length leaks through timing.
/// </summary>
public static partial class SharedKeyEndpointExtensions
{
    public const string InternalKeyHeader = "X-Internal-Key";
    public const string InternalKeySetting = "Internal:ApiKey";

    /// <summary>Service-to-service routes: the internal key is required, and without a configured key they are closed.</summary>
    public static TBuilder RequireInternalKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireSharedKey(InternalKeyHeader, InternalKeySetting, openWhenUnset: false);

    /// <summary>
    /// Requires <paramref name="header"/> to carry the value of the setting <paramref name="setting"/> (read once,
    /// when the endpoint is built). When the setting is empty the routes are open if <paramref name="openWhenUnset"/>,
    /// closed otherwise. Refusals are 401 problems that name the header, never the key.
    /// </summary>
    public static TBuilder RequireSharedKey<TBuilder>(this TBuilder builder, string header, string setting, bool openWhenUnset)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new SharedKeyRequirement(header, setting)).AddEndpointFilterFactory((factoryContext, next) =>
        {
            var services = factoryContext.ApplicationServices;
            var configured = services.GetRequiredService<IConfiguration>()[setting];
            var expected = string.IsNullOrEmpty(configured) ? null : Hash(configured);
            if (expected is null && openWhenUnset)
            {
                return next;
            }

            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("OpenNvr.SharedKey");
            return async context =>
            {
                var presented = context.HttpContext.Request.Headers[header].ToString();
                string detail;
                if (expected is null)
                {
                    detail = $"{setting} is not configured on this service, so the routes that need {header} are closed.";
                }
                else if (presented.Length == 0)
                {
                    detail = $"The {header} header is required.";
                }
                else if (CryptographicOperations.FixedTimeEquals(Hash(presented), expected))
                {
                    return await next(context);
                }
                else
                {
                    detail = $"The {header} header is not valid.";
                }

                KeyRejected(logger, header, context.HttpContext.Request.Path);
                return TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
            };
        });

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    [LoggerMessage(1, LogLevel.Warning, "Refused a call to {Path}: missing or wrong {Header}")]
    private static partial void KeyRejected(ILogger logger, string header, string path);
}

/// <summary>Endpoint metadata: the endpoint wants <paramref name="Header"/> (the value of <paramref name="Setting"/>); the OpenAPI document declares it.</summary>
public sealed record SharedKeyRequirement(string Header, string Setting);
