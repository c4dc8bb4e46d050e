using Microsoft.AspNetCore.Http.HttpResults;

namespace OpenNvr.Core.Apis;

/// <summary>RFC 7807 answers whose <c>detail</c> says what was wrong (OpenNVR clients read it).</summary>
internal static class Problems
{
    public static IResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: detail);

    public static IResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static IResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);

    public static IResult Unauthorized(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);

    public static IResult CameraNotFound(int cameraId) => NoSuchCamera(cameraId);

    public static NotFoundProblem NoSuchCamera(int cameraId) => new($"Camera {cameraId} does not exist.");
}
