using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;

namespace Microsoft.AspNetCore.Http.HttpResults;

/// <summary>401 with <c>"mfa_required": true</c>: the password was right, the second factor is missing or wrong.</summary>
public sealed class MfaRequiredProblem(string detail)
    : ProblemResult(StatusCodes.Status401Unauthorized, "Unauthorized", detail, new Dictionary<string, object?> { ["mfa_required"] = true }),
      IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status401Unauthorized);
}

/// <summary>403: the caller is known but may not do this (the detail says why).</summary>
public sealed class ForbiddenProblem(string detail) : ProblemResult(StatusCodes.Status403Forbidden, "Forbidden", detail), IEndpointMetadataProvider
{
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) => Declare(builder, StatusCodes.Status403Forbidden);
}
