using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Apis;

/// <summary>
/// An <see cref="InferenceProblemException"/> as a typed result. Tasks and frame sources refuse input with many
/// statuses (the table in README.md), more than <c>Results&lt;...&gt;</c> can list, so this one type declares them all.
/// </summary>
public sealed class InferenceProblem(InferenceProblemException problem)
    : ProblemResult(problem.StatusCode, problem.Title, problem.Detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder,
        StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound,
        StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status422UnprocessableEntity,
        StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable, StatusCodes.Status504GatewayTimeout);
}
