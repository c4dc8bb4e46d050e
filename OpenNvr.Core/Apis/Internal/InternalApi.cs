using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Apis.Internal;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Apis;

/// <summary>
/// Service-to-service routes (docs/internal-api.md), authenticated by <c>X-Internal-Key</c> only: the Recorder–Core key,
/// except the camera holder route, which only Inference calls (the Core–Inference key). The records they
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
        api.MapOccupancyIngest();

        // Inference's one internal route: it shows the Core–Inference key, which the Recorder's routes above refuse.
        var inference = app.MapGroup("/api/v1/internal")
            .WithTags("Internal")
            .AllowAnonymous()
            .RequireSharedKey(SharedKeyEndpointExtensions.InternalKeyHeader, openInDevelopmentWhenUnset: false, ServiceKeys.CoreInference)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        inference.MapCameraHolder();
        return app;
    }

    /// <summary>
    /// The first camera of a batch that does not exist (a batch is stored all or none), or null. A deleted camera
    /// exists: chunks and events a Recorder delivers late still belong to its history.
    /// </summary>
    internal static async Task<int?> FirstUnknownCameraAsync(NvrDbContext db, IEnumerable<int> cameraIds, CancellationToken ct)
    {
        var ids = cameraIds.Distinct().ToArray();
        var known = await db.CamerasWithDeleted.Where(c => ids.Contains(c.Id)).Select(c => c.Id).ToListAsync(ct);
        return known.Count == ids.Length ? null : ids.Except(known).First();
    }
}
