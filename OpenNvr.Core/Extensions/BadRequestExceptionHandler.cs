using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace OpenNvr.Core.Extensions;

/// <summary>
/// Minimal APIs throw <see cref="BadHttpRequestException"/> for malformed JSON, wrong JSON types, unparsable route
/// or query values and wrong content types (<c>ThrowOnBadRequest</c>). This writes them through the problem details
/// service with the framework's own message as the detail (it names the parameter and the value), or the JSON
/// reader's message (it names the path, line and position), instead of an unexplained 400.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        var detail = bad.InnerException is JsonException json ? "Invalid JSON body: " + json.Message : bad.Message;
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = bad.StatusCode, Title = "Bad request", Detail = detail },
        });
    }
}
