using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Cameras;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Recordings;

namespace OpenNvr.Core.Apis.Internal;

/// <summary><c>POST /recorders/heartbeat</c>: a Recorder's membership, its camera leases and their configuration.</summary>
internal static class RecorderLeasesApi
{
    public static void MapRecorderLeases(this RouteGroupBuilder api) =>
        api.MapPost("/recorders/heartbeat", HeartbeatAsync).WithName("recorderHeartbeat")
            .WithSummary("Recorder heartbeat: renews leases, assigns cameras, returns the caller's camera configuration");

    private static async Task<Ok<HeartbeatResponse>> HeartbeatAsync(HeartbeatRequest request, RecorderLeaseService leases,
        CameraCredentialProtector protector, NvrDbContext db, CancellationToken ct)
    {
        var cameras = await leases.HeartbeatAsync(request.RecorderId, request.BaseUrl, request.MaxCameras, request.Recording, ct);
        var ids = cameras.Select(c => c.Id).ToArray();
        var zones = (await db.Zones.AsNoTracking().Where(z => ids.Contains(z.CameraId)).OrderBy(z => z.Id).ToListAsync(ct)).ToLookup(z => z.CameraId);
        var lines = (await db.CountingLines.AsNoTracking().Where(l => ids.Contains(l.CameraId)).OrderBy(l => l.Id).ToListAsync(ct)).ToLookup(l => l.CameraId);
        return TypedResults.Ok(new HeartbeatResponse(leases.LeaseSeconds,
            cameras.Select(c => ToConfig(c, protector, zones[c.Id], lines[c.Id])).ToList()));
    }

    /// <summary>
    /// The camera as its Recorder needs it: stream URLs with decrypted credentials (internal use only), and the zones
    /// and lines its people policies count in. Only the cameras whose lease the caller holds now reach this, so
    /// credentials go to no other Recorder.
    /// </summary>
    private static CameraConfig ToConfig(Camera c, CameraCredentialProtector protector, IEnumerable<Zone> zones, IEnumerable<CountingLine> lines) => new(
        c.Id,
        c.Name,
        c.IsActive,
        c.RecordingEnabled,
        StreamUrl.WithCredentials(c.StreamUrl, protector.Unprotect(c.StreamCredentialsProtected)),
        c.SubStreamUrl is null ? null : StreamUrl.WithCredentials(c.SubStreamUrl, protector.Unprotect(c.SubStreamCredentialsProtected)),
        c.RetentionDays,
        c.StorageQuotaBytes,
        c.AiPolicies.OrderBy(p => p.Id)
            .Select(p => new CameraAiPolicy(p.Task, p.IntervalMs, p.Enabled, p.MinConfidence, p.Roi, p.MotionGating, p.Id))
            .ToList(),
        [.. zones.Select(z => new CameraZone(z.Id, z.Name, z.Points, z.EventTypes, z.LoiteringS))],
        [.. lines.Select(l => new CameraLine(l.Id, l.Name, l.Points, l.EventTypes))]);
}
