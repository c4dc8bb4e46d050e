using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Recordings;

/// <summary>
/// Recorder membership and camera leases. A camera is leased to exactly one live replica, and the live replicas hold
/// their fair share (<see cref="LeaseBalancer"/>: equal counts give or take one, or <c>Internal:RecorderWeights</c>).
/// Each heartbeat renews the caller's leases, gives expired or unassigned cameras to the replica furthest under its
/// share, and moves cameras off replicas over their share by graceful hand-off: the lease is marked as handing to the
/// new replica and left out of both replicas' answers, the old holder stops recording it, says so in its next
/// heartbeat (<c>recording</c> no longer lists it), and only then does the lease pass to the new holder, whose next
/// heartbeat starts it. So no two replicas ever record one camera. A holder that never confirms (an old Recorder, or
/// one that died) stops renewing the handing lease; it lapses after the lease length and the camera moves as an orphan.
/// Every heartbeat's lease work runs in one transaction under one PostgreSQL advisory lock, so Core replicas that
/// process heartbeats at once plan against the same rows and never plan a move twice.
/// </summary>
public sealed class RecorderLeaseService(NvrDbContext db, IOptions<LeaseOptions> options, TimeProvider clock, ILogger<RecorderLeaseService> logger)
{
    // pg_advisory_xact_lock key of the lease planner ("leases" in ASCII): one planner at a time across Core replicas.
    private const long PlannerLock = 0x6C6561736573;

    public int LeaseSeconds => options.Value.LeaseSeconds;

    /// <summary>
    /// Records the heartbeat, completes the caller's confirmed hand-offs, places orphans, rebalances, and returns the
    /// cameras the caller holds now. <paramref name="recording"/> is what the caller records at this moment (null
    /// from a Recorder that does not say: its hand-offs complete when their leases lapse).
    /// </summary>
    public async Task<List<Camera>> HeartbeatAsync(string recorderId, string baseUrl, int maxCameras, IReadOnlyList<int>? recording, CancellationToken ct)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("recorders.heartbeat");
        activity?.SetTag("recorder.id", recorderId);
        var now = clock.GetUtcNow();

        // The execution strategy retries the whole transaction on a transient failure; every step is idempotent.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async cancel =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancel);
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({PlannerLock})", cancel);
            await UpdateLeasesAsync(recorderId, baseUrl, maxCameras, recording, now, cancel);
            await transaction.CommitAsync(cancel);
        }, ct);

        CoreTelemetry.Heartbeats.Add(1);
        return await db.Cameras.AsNoTracking()
            .Include(c => c.AiPolicies)
            .Where(c => db.RecorderLeases.Any(l => l.CameraId == c.Id && l.RecorderId == recorderId && l.HandingTo == null && l.ExpiresAt > now))
            .OrderBy(c => c.Id)
            .ToListAsync(ct);
    }

    private async Task UpdateLeasesAsync(string recorderId, string baseUrl, int maxCameras, IReadOnlyList<int>? recording, DateTimeOffset now, CancellationToken ct)
    {
        var leaseUntil = now.AddSeconds(LeaseSeconds);

        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO recorders (id, base_url, max_cameras, last_heartbeat_at) VALUES ({recorderId}, {baseUrl}, {maxCameras}, {now})
            ON CONFLICT (id) DO UPDATE SET base_url = excluded.base_url, max_cameras = excluded.max_cameras, last_heartbeat_at = excluded.last_heartbeat_at
            """, ct);

        // Disabled or recording-disabled cameras are not leased: their holders stop recording them.
        await db.Database.ExecuteSqlAsync($"""
            DELETE FROM recorder_leases l USING cameras c
            WHERE l.camera_id = c.id AND (NOT c.is_active OR NOT c.recording_enabled)
            """, ct);

        if (recording is not null)
        {
            await CompleteHandOffsAsync(recorderId, recording.ToArray(), now, leaseUntil, ct);
        }

        // Renew what the caller holds (also a lease that lapsed while nobody else took it), except what it is handing off.
        await db.Database.ExecuteSqlAsync(
            $"UPDATE recorder_leases SET expires_at = {leaseUntil} WHERE recorder_id = {recorderId} AND handing_to IS NULL", ct);

        var live = await LiveRecordersAsync(now, ct);
        await AssignOrphansAsync(live, now, leaseUntil, ct);
        await RebalanceAsync(live, now, ct);
    }

    /// <summary>The caller no longer records a camera it is handing off: the lease passes to the new holder now.</summary>
    private async Task CompleteHandOffsAsync(string recorderId, int[] recording, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var released = await db.RecorderLeases.AsNoTracking()
            .Where(l => l.RecorderId == recorderId && l.HandingTo != null && l.ExpiresAt > now && !recording.Contains(l.CameraId))
            .ToListAsync(ct);
        foreach (var lease in released)
        {
            var moved = await db.Database.ExecuteSqlAsync($"""
                UPDATE recorder_leases SET recorder_id = handing_to, handing_to = NULL, handing_since = NULL, expires_at = {leaseUntil}
                WHERE camera_id = {lease.CameraId} AND recorder_id = {recorderId} AND handing_to = {lease.HandingTo}
                """, ct);
            if (moved == 1)
            {
                var elapsedMs = lease.HandingSince is { } since ? (now - since).TotalMilliseconds : 0;
                CoreTelemetry.LeaseHandOffs.Add(1, new KeyValuePair<string, object?>("stage", "completed"));
                CoreTelemetry.LeaseHandOffDuration.Record(elapsedMs);
                CoreLog.LeaseHandOffCompleted(logger, lease.CameraId, recorderId, lease.HandingTo!, elapsedMs);
            }
        }
    }

    private async Task<List<RecorderShare>> LiveRecordersAsync(DateTimeOffset now, CancellationToken ct)
    {
        var liveSince = now.AddSeconds(-LeaseSeconds);
        var rows = await db.Recorders.AsNoTracking()
            .Where(r => r.LastHeartbeatAt > liveSince)
            .OrderBy(r => r.Id)
            .Select(r => new { r.Id, r.MaxCameras })
            .ToListAsync(ct);
        return rows.Select(r => new RecorderShare(r.Id, r.MaxCameras, options.Value.WeightOf(r.Id))).ToList();
    }

    /// <summary>Live leases by camera, a camera being handed off counted for its destination.</summary>
    private async Task<Dictionary<int, string>> LiveLeasesAsync(IReadOnlyList<RecorderShare> live, DateTimeOffset now, CancellationToken ct)
    {
        var ids = live.Select(r => r.Id).ToArray();
        var leases = await db.RecorderLeases.AsNoTracking()
            .Where(l => l.ExpiresAt > now && ids.Contains(l.HandingTo ?? l.RecorderId))
            .Select(l => new { l.CameraId, Holder = l.HandingTo ?? l.RecorderId })
            .ToListAsync(ct);
        return leases.ToDictionary(l => l.CameraId, l => l.Holder);
    }

    private async Task AssignOrphansAsync(IReadOnlyList<RecorderShare> live, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        var orphans = await db.Cameras.AsNoTracking()
            .Where(c => c.IsActive && c.RecordingEnabled && !db.RecorderLeases.Any(l => l.CameraId == c.Id && l.ExpiresAt > now))
            .OrderBy(c => c.Id)
            .Select(c => c.Id)
            .ToListAsync(ct);
        if (orphans.Count == 0 || live.Count == 0)
        {
            return;
        }

        var leases = await LiveLeasesAsync(live, now, ct);
        var holding = live.ToDictionary(r => r.Id, r => leases.Count(l => l.Value == r.Id), StringComparer.Ordinal);
        var cameras = leases.Count + orphans.Count;
        foreach (var cameraId in orphans)
        {
            var target = LeaseBalancer.PlaceOrphan(cameras, live, holding);
            if (target is null)
            {
                return;
            }

            // The upsert takes the camera only if it is still free or expired (a lapsed hand-off ends here too).
            var taken = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO recorder_leases (camera_id, recorder_id, expires_at) VALUES ({cameraId}, {target}, {leaseUntil})
                ON CONFLICT (camera_id) DO UPDATE SET recorder_id = excluded.recorder_id, expires_at = excluded.expires_at, handing_to = NULL, handing_since = NULL
                WHERE recorder_leases.expires_at <= {now}
                """, ct);
            if (taken == 1)
            {
                holding[target]++;
                CoreTelemetry.LeasesAssigned.Add(1);
                CoreLog.LeaseAssigned(logger, cameraId, LogValues.Sanitize(target));
            }
        }
    }

    /// <summary>Starts the hand-offs that bring the live Recorders to their fair shares (none while a share is reached).</summary>
    private async Task RebalanceAsync(IReadOnlyList<RecorderShare> live, DateTimeOffset now, CancellationToken ct)
    {
        if (live.Count < 2)
        {
            return;
        }

        var leases = await LiveLeasesAsync(live, now, ct);
        foreach (var move in LeaseBalancer.Plan(leases.Count, live, leases))
        {
            var started = await db.Database.ExecuteSqlAsync($"""
                UPDATE recorder_leases SET handing_to = {move.To}, handing_since = {now}
                WHERE camera_id = {move.CameraId} AND recorder_id = {move.From} AND handing_to IS NULL AND expires_at > {now}
                """, ct);
            if (started == 1)
            {
                CoreTelemetry.LeaseHandOffs.Add(1, new KeyValuePair<string, object?>("stage", "started"));
                CoreLog.LeaseHandOffStarted(logger, move.CameraId, move.From, move.To);
            }
        }
    }
}
