using Microsoft.AspNetCore.Http.HttpResults;

namespace OpenNvr.Core.Apis;

/// <summary>RFC 7807 answers whose <c>detail</c> says what was wrong (OpenNVR clients read it).</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);

    public static ProblemHttpResult CameraNotFound(int cameraId) => NotFound($"Camera {cameraId} does not exist.");

    public static NotFoundProblem NoSuchCamera(int cameraId) => new($"Camera {cameraId} does not exist.");
}
