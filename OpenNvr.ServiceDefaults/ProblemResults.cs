using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.Metadata;

namespace Microsoft.AspNetCore.Http.HttpResults;

/// <summary>
/// RFC 7807 problem answers as typed results: each type carries its status code, so a handler returning
/// <c>Results&lt;Ok&lt;T&gt;, NotFoundProblem&gt;</c> documents its 404 as <c>application/problem+json</c> in OpenAPI
/// without a hand-kept <c>.ProducesProblem</c>. They are written by <see cref="ProblemHttpResult"/>, hence through the
/// problem details service (trace id, the service's customisation), exactly as <c>TypedResults.Problem</c> writes them.
/// The <c>detail</c> says what was wrong: OpenNVR clients read it.
/// </summary>
public abstract class ProblemResult : IResult, IStatusCodeHttpResult, IContentTypeHttpResult, IValueHttpResult, IValueHttpResult<ProblemDetails>
{
    public const string ContentType = "application/problem+json";

    protected ProblemResult(int status, string title, string detail, IDictionary<string, object?>? extensions = null)
    {
        ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail };
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            ProblemDetails.Extensions[key] = value;
        }
    }

    public ProblemDetails ProblemDetails { get; }

    public int StatusCode => ProblemDetails.Status!.Value;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    string IContentTypeHttpResult.ContentType => ContentType;

    object IValueHttpResult.Value => ProblemDetails;

    ProblemDetails IValueHttpResult<ProblemDetails>.Value => ProblemDetails;

    public Task ExecuteAsync(HttpContext httpContext) => TypedResults.Problem(ProblemDetails).ExecuteAsync(httpContext);

    /// <summary>Declares problem responses of these statuses on the endpoint (what <c>.ProducesProblem</c> would add).</summary>
    protected static void Declare(EndpointBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), [ContentType]));
        }
    }
}

/// <summary>400: the request is malformed or a value is out of range.</summary>
public sealed class BadRequestProblem(string detail, string title = "Bad request")
    : ProblemResult(StatusCodes.Status400BadRequest, title, detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status400BadRequest);
}

/// <summary>401: credentials missing, wrong or expired.</summary>
public sealed class UnauthorizedProblem(string detail) : ProblemResult(StatusCodes.Status401Unauthorized, "Unauthorized", detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status401Unauthorized);
}

/// <summary>404: the resource does not exist (or the caller may not see it).</summary>
public sealed class NotFoundProblem(string detail, string title = "Not found")
    : ProblemResult(StatusCodes.Status404NotFound, title, detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status404NotFound);
}

/// <summary>409: the request conflicts with the current state (a duplicate, the last admin).</summary>
public sealed class ConflictProblem(string detail) : ProblemResult(StatusCodes.Status409Conflict, "Conflict", detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status409Conflict);
}

/// <summary>413: the request body is larger than the route accepts; the detail names the limit's setting.</summary>
public sealed class PayloadTooLargeProblem(string detail)
    : ProblemResult(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status413PayloadTooLarge);
}

/// <summary>423: the account is locked; <c>retry_after_seconds</c> says for how long.</summary>
public sealed class LockedProblem(string detail, int retryAfterSeconds)
    : ProblemResult(StatusCodes.Status423Locked, "Locked", detail, new Dictionary<string, object?> { ["retry_after_seconds"] = retryAfterSeconds }),
      IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status423Locked);
}

/// <summary>502: a service this one depends on did not answer properly.</summary>
public sealed class BadGatewayProblem(string detail) : ProblemResult(StatusCodes.Status502BadGateway, "Bad gateway", detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status502BadGateway);
}

/// <summary>503: a dependency (database, models) is not available now; retry later.</summary>
public sealed class ServiceUnavailableProblem(string detail, string title = "Service unavailable")
    : ProblemResult(StatusCodes.Status503ServiceUnavailable, title, detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status503ServiceUnavailable);
}
