using Npgsql;
using OpenNvr.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// Two Recorder replicas over one recordings volume share the cameras through Core's leases. What Core guarantees
/// today: every camera is held by exactly one live replica, and a dead replica's cameras move to a live one. It does
/// not promise an even split: a camera goes to the least-loaded replica that is live at the moment it becomes free,
/// so which heartbeat comes first (and a late one under load) decides the split. Rebalancing (issue 14) will let
/// these tests assert an even split again.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class ReplicaTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_replicas_share_the_cameras_without_double_recording_and_a_dead_ones_cameras_move_within_30_s()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        // Short leases (Core's Internal:LeaseSeconds) so the handover is quick to observe; production uses 30 s.
        await using var core = await CoreServer.StartAsync(leaseSeconds: 6);
        var root = TestTemp.NewFolder("shared");
        await using var first = RecorderInstance.Start(core, root);
        await using var second = RecorderInstance.Start(core, root);
        Assert.NotEqual(first.Id, second.Id);
        await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 2, TimeSpan.FromSeconds(15), "both replicas to heartbeat");

        var cameras = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            cameras.Add(await core.CreateCameraAsync($"replica-{i}", camera.Url("/cam")));
        }

        await Wait.UntilAsync(() => first.Coordinator.RecordingCameraIds.Count + second.Coordinator.RecordingCameraIds.Count == 4, TimeSpan.FromSeconds(15), "all cameras leased");
        var heldByFirst = first.Coordinator.RecordingCameraIds;
        var heldBySecond = second.Coordinator.RecordingCameraIds;
        output.WriteLine($"split: {heldByFirst.Count}/{heldBySecond.Count}");
        // Full coverage, no overlap: each camera is recorded by exactly one replica (not necessarily two each).
        Assert.Empty(heldByFirst.Intersect(heldBySecond));
        Assert.Equal(cameras, heldByFirst.Concat(heldBySecond).Order());
        // The replica that dies is the one holding more (at least two of the four), so a handover always happens.
        var (a, b) = heldByFirst.Count >= heldBySecond.Count ? (first, second) : (second, first);
        var heldByA = a.Coordinator.RecordingCameraIds;

        await Wait.UntilAsync(async () =>
        {
            foreach (var id in cameras)
            {
                if ((await core.RowsAsync(id)).Count < 2)
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(40), "two chunks per camera");

        // Replica A dies; its leases lapse and B takes its cameras over.
        await a.DisposeAsync();
        var deadAt = DateTimeOffset.UtcNow;
        await Wait.UntilAsync(() => b.Coordinator.RecordingCameraIds.Count == 4, TimeSpan.FromSeconds(30), "B to take over A's cameras");
        var handover = (DateTimeOffset.UtcNow - deadAt).TotalSeconds;
        Assert.True(handover <= 30, $"handover took {handover:F1} s");
        var deadUnix = deadAt.ToUnixTimeMilliseconds() / 1000.0;
        await Wait.UntilAsync(async () =>
        {
            foreach (var id in heldByA)
            {
                if (!(await core.RowsAsync(id)).Any(r => r.StartUnix > deadUnix))
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(30), "B's chunks of A's cameras");

        // Never two recorders on one camera: its chunks never overlap, before or after the handover.
        foreach (var id in cameras)
        {
            var rows = await core.RowsAsync(id);
            for (var i = 1; i < rows.Count; i++)
            {
                Assert.True(rows[i].StartUnix >= rows[i - 1].EndUnix - 0.05,
                    $"camera {id}: {rows[i - 1].Path} [{rows[i - 1].StartUnix:F2}, {rows[i - 1].EndUnix:F2}] overlaps {rows[i].Path} [{rows[i].StartUnix:F2}]");
            }
        }
    }


    [Fact]
    public async Task A_replica_process_killed_with_SIGKILL_leaves_no_ffmpeg_behind_and_its_camera_moves_within_30_s()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync(leaseSeconds: 6);
        var root = TestTemp.NewFolder("shared");
        // The victim runs in its own process (as in production), the survivor in-process.
        await using var victim = await RecorderProcess.StartAsync(core, root, "victim");
        await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 1, TimeSpan.FromSeconds(30),
            "the replica process to heartbeat");
        // The victim's camera exists while the victim is the only replica: it is the victim's whatever the timing.
        var victimCamera = await core.CreateCameraAsync("killed-replica-0", camera.Url("/cam"));
        await Wait.UntilAsync(async () => (await core.RowsAsync(victimCamera)).Count >= 1, TimeSpan.FromSeconds(40),
            "a chunk from the replica process");
        await using var survivor = RecorderInstance.Start(core, root);
        await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 2, TimeSpan.FromSeconds(15), "both replicas to heartbeat");

        // The second camera goes to the least-loaded live replica: the survivor (the victim holds one already).
        var cameras = new List<int> { victimCamera, await core.CreateCameraAsync("killed-replica-1", camera.Url("/cam")) };
        await Wait.UntilAsync(() => survivor.Coordinator.RecordingCameraIds.Count == 1, TimeSpan.FromSeconds(15), "one camera for each replica");
        Assert.Equal(cameras[1], Assert.Single(survivor.Coordinator.RecordingCameraIds));
        var orphans = victim.ChildPids();
        Assert.True(orphans.Count == 1, $"the replica process tracks {orphans.Count} ffmpeg: {victim.Output}");

        victim.KillHard();
        var killedAt = DateTimeOffset.UtcNow;

        // Its ffmpeg dies with it: nothing keeps recording the camera unsupervised.
        await Wait.UntilAsync(() => orphans.All(pid => !Directory.Exists($"/proc/{pid}")), TimeSpan.FromSeconds(5),
            $"the killed replica's ffmpeg ({string.Join(", ", orphans)}) to die", pollMs: 100);
        var orphanGone = (DateTimeOffset.UtcNow - killedAt).TotalSeconds;

        await Wait.UntilAsync(() => survivor.Coordinator.RecordingCameraIds.Count == 2, TimeSpan.FromSeconds(30), "the survivor to take the camera over");
        var handover = (DateTimeOffset.UtcNow - killedAt).TotalSeconds;
        var killedUnix = killedAt.ToUnixTimeMilliseconds() / 1000.0;
        await Wait.UntilAsync(async () => (await core.RowsAsync(victimCamera)).Any(r => r.StartUnix > killedUnix), TimeSpan.FromSeconds(30),
            "the survivor's chunks of the camera");
        output.WriteLine($"orphan ffmpeg gone {orphanGone:F1} s after SIGKILL; handover {handover:F1} s");
        Assert.True(handover <= 30, $"handover took {handover:F1} s");

        // Never two recorders on one camera: its chunks (including the victim's last one, cut by the kill and
        // reconciled by the survivor) never overlap.
        var rows = await core.RowsAsync(victimCamera);
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.True(rows[i].StartUnix >= rows[i - 1].EndUnix - 0.05,
                $"camera {victimCamera}: {rows[i - 1].Path} [{rows[i - 1].StartUnix:F2}, {rows[i - 1].EndUnix:F2}] overlaps {rows[i].Path} [{rows[i].StartUnix:F2}]");
        }

        // No file of the camera was written after the kill but the survivor's: indexed chunks of the survivor, and
        // the one it is writing now (the newest file).
        var survivorsFirst = rows.First(r => r.StartUnix > killedUnix).StartUnix;
        var files = survivor.ChunkFiles(victimCamera);
        var writtenAfterKill = files.Where(f => File.GetLastWriteTimeUtc(Path.Combine(root, f)) > killedAt.UtcDateTime.AddSeconds(1));
        var strays = writtenAfterKill.Where(f => f != files[^1] && !rows.Any(r => r.Path == f && r.StartUnix >= survivorsFirst - 0.05)).ToList();
        Assert.True(strays.Count == 0, "written after the kill, not by the survivor: " + string.Join(", ", strays));
    }

    private static async Task<long> CountAsync(CoreServer core, string sql)
    {
        await using var connection = new NpgsqlConnection(core.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
