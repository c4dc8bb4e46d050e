using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace OpenNvr.Core.Extensions;

/// <summary>
/// Minimal APIs throw <see cref="BadHttpRequestException"/> for malformed JSON, wrong JSON types, unparsable route
/// or query values and wrong content types. This turns them into problem responses that say what was wrong.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        var detail = bad.InnerException switch
        {
            JsonException json => "Invalid JSON body: " + json.Message,
            _ => Describe(bad.Message),
        };
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = bad.StatusCode, Title = "Bad request", Detail = detail },
        });
    }

    /// <summary>"Failed to bind parameter "Nullable&lt;double&gt; startUnix" from "abc"." → "start_unix: "abc" is not a valid number."</summary>
    private static string Describe(string message)
    {
        var match = BindFailure().Match(message);
        if (!match.Success)
        {
            return message;
        }

        var type = match.Groups["type"].Value;
        var kind = type.Contains("double", StringComparison.OrdinalIgnoreCase) ? "number"
            : type.Contains("int", StringComparison.OrdinalIgnoreCase) || type.Contains("long", StringComparison.OrdinalIgnoreCase) ? "integer"
            : type.Contains("bool", StringComparison.OrdinalIgnoreCase) ? "boolean (true or false)"
            : "value";
        var name = JsonNamingPolicy.SnakeCaseLower.ConvertName(match.Groups["name"].Value);
        var value = match.Groups["value"].Value;
        return $"{name}: \"{(value.Length > 64 ? value[..64] + "..." : value)}\" is not a valid {kind}.";
    }

    [GeneratedRegex("^Failed to bind parameter \"(?<type>.+) (?<name>\\w+)\" from \"(?<value>.*)\"\\.$", RegexOptions.Singleline)]
    private static partial Regex BindFailure();
}
