using Microsoft.AspNetCore.Http.HttpResults;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Live;

namespace OpenNvr.Core.Apis.Internal;

/// <summary>
/// <c>GET /cameras/{id}/holder</c>: the Recorder holding a camera's live lease and the address from its heartbeat (the
/// same lookup as live view's relay). Inference asks this to read a camera's frames from the Recorder that publishes
/// them: with several Recorder replicas, service discovery's round robin would send half the frame requests to a
/// replica that never saw the camera.
/// </summary>
internal static class CameraHolderApi
{
    public static void MapCameraHolder(this RouteGroupBuilder api) =>
        api.MapGet("/cameras/{id:int}/holder", GetHolderAsync).WithName("getCameraHolder")
            .WithSummary("The Recorder that holds a camera's lease now and its address (where the camera's frames are published)");

    private static async Task<Results<Ok<CameraHolderResponse>, NotFoundProblem>> GetHolderAsync(int id, NvrDbContext db, TimeProvider clock, CancellationToken ct) =>
        await RecorderLiveRelay.HolderAsync(db, id, clock.GetUtcNow(), ct) is { } holder
            ? TypedResults.Ok(new CameraHolderResponse(id, holder.RecorderId, holder.BaseUrl.ToString()))
            : new NotFoundProblem($"No recorder holds camera {id} now (disabled, not recording, or no Recorder announced an http(s) address).");
}
