using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Recordings;

/// <summary>
/// Recorder membership and camera leases. A camera is leased to exactly one live replica; every heartbeat renews
/// the caller's leases and hands expired or unassigned enabled cameras to the live replica with the fewest cameras
/// (below its max_cameras). Handing over is a conditional upsert ("take it only if it is still free or expired"),
/// so two Core replicas processing heartbeats at once cannot give one camera to two recorders.
/// </summary>
public sealed class RecorderLeaseService(NvrDbContext db, IOptions<LeaseOptions> options, TimeProvider clock, ILogger<RecorderLeaseService> logger)
{
    public int LeaseSeconds => options.Value.LeaseSeconds;

    /// <summary>Records the heartbeat, rebalances orphaned cameras and returns the cameras the caller holds now.</summary>
    public async Task<List<Camera>> HeartbeatAsync(string recorderId, string baseUrl, int maxCameras, CancellationToken ct)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("recorders.heartbeat");
        activity?.SetTag("recorder.id", recorderId);
        var now = clock.GetUtcNow();
        var leaseUntil = now.AddSeconds(LeaseSeconds);
        var liveSince = now.AddSeconds(-LeaseSeconds);

        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO recorders (id, base_url, max_cameras, last_heartbeat_at) VALUES ({recorderId}, {baseUrl}, {maxCameras}, {now})
            ON CONFLICT (id) DO UPDATE SET base_url = excluded.base_url, max_cameras = excluded.max_cameras, last_heartbeat_at = excluded.last_heartbeat_at
            """, ct);

        // Disabled or recording-disabled cameras are not leased: their holders stop recording them.
        await db.Database.ExecuteSqlAsync($"""
            DELETE FROM recorder_leases l USING cameras c
            WHERE l.camera_id = c.id AND (NOT c.is_active OR NOT c.recording_enabled)
            """, ct);

        // Renew what the caller holds (also a lease that lapsed while nobody else took it).
        await db.Database.ExecuteSqlAsync(
            $"UPDATE recorder_leases SET expires_at = {leaseUntil} WHERE recorder_id = {recorderId}", ct);

        await AssignOrphansAsync(now, leaseUntil, liveSince, ct);

        CoreTelemetry.Heartbeats.Add(1);
        return await db.Cameras.AsNoTracking()
            .Include(c => c.AiPolicies)
            .Where(c => db.RecorderLeases.Any(l => l.CameraId == c.Id && l.RecorderId == recorderId && l.ExpiresAt > now))
            .OrderBy(c => c.Id)
            .ToListAsync(ct);
    }

    private async Task AssignOrphansAsync(DateTimeOffset now, DateTimeOffset leaseUntil, DateTimeOffset liveSince, CancellationToken ct)
    {
        var orphans = await db.Cameras.AsNoTracking()
            .Where(c => c.IsActive && c.RecordingEnabled && !db.RecorderLeases.Any(l => l.CameraId == c.Id && l.ExpiresAt > now))
            .OrderBy(c => c.Id)
            .Select(c => c.Id)
            .ToListAsync(ct);
        if (orphans.Count == 0)
        {
            return;
        }

        var live = await db.Recorders.AsNoTracking()
            .Where(r => r.LastHeartbeatAt > liveSince)
            .Select(r => new RecorderLoad
            {
                Id = r.Id,
                MaxCameras = r.MaxCameras,
                Cameras = db.RecorderLeases.Count(l => l.RecorderId == r.Id && l.ExpiresAt > now),
            })
            .ToListAsync(ct);

        foreach (var cameraId in orphans)
        {
            var target = live.Where(r => r.Cameras < r.MaxCameras).OrderBy(r => r.Cameras).ThenBy(r => r.Id, StringComparer.Ordinal).FirstOrDefault();
            if (target is null)
            {
                return;
            }

            var taken = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO recorder_leases (camera_id, recorder_id, expires_at) VALUES ({cameraId}, {target.Id}, {leaseUntil})
                ON CONFLICT (camera_id) DO UPDATE SET recorder_id = excluded.recorder_id, expires_at = excluded.expires_at
                WHERE recorder_leases.expires_at <= {now}
                """, ct);
            if (taken == 1)
            {
                target.Cameras++;
                CoreTelemetry.LeasesAssigned.Add(1);
                CoreLog.LeaseAssigned(logger, cameraId, LogValues.Sanitize(target.Id));
            }
        }
    }

    private sealed class RecorderLoad
    {
        public required string Id { get; init; }
        public int MaxCameras { get; init; }
        public int Cameras { get; set; }
    }
}
