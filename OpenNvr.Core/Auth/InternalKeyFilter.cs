using System.Security.Cryptography;
using System.Text;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Auth;

/// <summary>
/// Service-to-service routes accept only the shared secret <c>Internal:ApiKey</c> in <c>X-Internal-Key</c>; a user's
/// JWT is not enough. Without a configured key every internal call is refused.
/// </summary>
public sealed class InternalKeyFilter(IConfiguration configuration, ILogger<InternalKeyFilter> logger) : IEndpointFilter
{
    public const string HeaderName = "X-Internal-Key";

    private readonly byte[]? _expected = string.IsNullOrEmpty(configuration["Internal:ApiKey"])
        ? null
        : SHA256.HashData(Encoding.UTF8.GetBytes(configuration["Internal:ApiKey"]!));

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = context.HttpContext.Request.Headers[HeaderName].ToString();
        if (_expected is null)
        {
            CoreLog.InternalKeyMissing(logger);
        }
        else if (presented.Length > 0 &&
                 CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _expected))
        {
            return await next(context);
        }

        CoreLog.InternalKeyRejected(logger, context.HttpContext.Request.Path);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Unauthorized",
            detail: $"Internal routes require the service credential in the {HeaderName} header.");
    }
}
