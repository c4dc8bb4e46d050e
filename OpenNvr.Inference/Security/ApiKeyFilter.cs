using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenNvr.Inference.Extensions;

namespace OpenNvr.Inference.Security;

/// <summary>
/// The optional <c>X-API-Key</c> check (on when <c>Inference:ApiKey</c> is set). Both keys are hashed before a
/// constant-time comparison, so neither the content nor the length of the key leaks through timing.
/// </summary>
public sealed class ApiKeyFilter(IOptions<InferenceOptions> options) : IEndpointFilter
{
    public const string HeaderName = "X-API-Key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = options.Value.ApiKey;
        if (string.IsNullOrEmpty(expected))
        {
            return await next(context);
        }

        var presented = context.HttpContext.Request.Headers[HeaderName].ToString();
        if (presented.Length == 0)
        {
            return Unauthorized($"The {HeaderName} header is required.");
        }

        return Matches(presented, expected) ? await next(context) : Unauthorized($"The {HeaderName} header is not valid.");
    }

    private static bool Matches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    private static IResult Unauthorized(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
}

public static class ApiKeyFilterExtensions
{
    /// <summary>Requires <c>X-API-Key</c> on these endpoints when <c>Inference:ApiKey</c> is set (use it for every route you add, face routes too).</summary>
    public static TBuilder RequireInferenceApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, ApiKeyFilter>();
}
