using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Integrations;
using OpenNvr.Core.Recordings;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Apis.Internal;

/// <summary><c>POST /cameras/{id}/state</c>: the recording state a Recorder reports, shown in the camera list.</summary>
internal static class CameraStateApi
{
    public static void MapCameraState(this RouteGroupBuilder api) =>
        api.MapPost("/cameras/{id:int}/state", SetStateAsync).WithName("reportCameraState")
            .WithSummary("Reports a camera's recording state");

    private static async Task<Results<NoContent, ProblemHttpResult>> SetStateAsync(int id, CameraStateRequest request, NvrDbContext db,
        TimeProvider clock, IntegrationEvents integrations, ILoggerFactory loggers, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        DateTimeOffset? lastAt = request.LastRecordingAtUnix is { } unix ? Timeline.FromUnix(unix) : null;
        var updated = await db.Cameras.Where(c => c.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.RecordingState, request.RecordingState)
            .SetProperty(c => c.RecordingStateReason, request.Reason)
            .SetProperty(c => c.RecordingStateAt, now)
            .SetProperty(c => c.LastRecordingAt, c => lastAt != null && (c.LastRecordingAt == null || c.LastRecordingAt < lastAt) ? lastAt : c.LastRecordingAt), ct);
        if (updated == 0)
        {
            return Problems.CameraNotFound(id);
        }

        CoreLog.CameraState(loggers.CreateLogger(typeof(InternalApi)), id, request.RecordingState);
        integrations.RecordingStateChanged(id, request.RecordingState);
        return TypedResults.NoContent();
    }
}
