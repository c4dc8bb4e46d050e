using OpenNvr.Core.Apis.Internal;

namespace OpenNvr.Core.Apis;

/// <summary>
/// Service-to-service routes (docs/internal-api.md), authenticated by <c>X-Internal-Key</c> only. The records they
/// take and return live in OpenNvr.Contracts (the Recorder sends the same ones); their data annotations are checked
/// by endpoint validation (400 problems whose detail names the field) before a handler runs.
/// </summary>
public static class InternalApi
{
    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/internal")
            .WithTags("Internal")
            .AllowAnonymous()
            .RequireInternalKey()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapRecorderLeases();
        api.MapRecordingsIndex();
        api.MapCameraState();
        api.MapEventIngest();
        return app;
    }
}
