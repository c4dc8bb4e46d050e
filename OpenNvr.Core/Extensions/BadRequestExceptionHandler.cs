using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace OpenNvr.Core.Extensions;

/// <summary>
/// Minimal APIs throw <see cref="BadHttpRequestException"/> for malformed JSON, wrong JSON types, unparsable route
/// or query values and wrong content types. This turns them into problem responses that say what was wrong.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
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
            _ => bad.Message,
        };
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = bad.StatusCode, Title = "Bad request", Detail = detail },
        });
    }
}
