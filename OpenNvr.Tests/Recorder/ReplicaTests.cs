using Npgsql;
using OpenNvr.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// Recorder replicas over one recordings volume share the cameras through Core's balanced leases: every camera is
/// held by exactly one live replica, the live replicas hold their fair share (counts differ by at most one), a joining
/// replica gets its share by graceful hand-off (the old holder stops, then the new one starts) and a dead replica's
/// cameras move to the live ones. The tests wait for the states the system must reach, whatever the order of the
/// heartbeats; a <see cref="LeaseObserver"/> checks at every sampled instant that no camera runs on two replicas.
/// </summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class ReplicaTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_replicas_split_four_cameras_2_2_without_double_recording_and_a_dead_ones_cameras_move_within_30_s()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        // Short leases (Core's Internal:LeaseSeconds) so the handover is quick to observe; production uses 30 s.
        await using var core = await CoreServer.StartAsync(leaseSeconds: 6);
        var root = TestTemp.NewFolder("shared");
        await using var first = RecorderInstance.Start(core, root);
        await using var second = RecorderInstance.Start(core, root);
        Assert.NotEqual(first.Id, second.Id);
        await using var observer = new LeaseObserver(first, second);
        await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 2, TimeSpan.FromSeconds(15), "both replicas to heartbeat");

        var cameras = await CreateCamerasAsync(core, camera, "replica", 4);

        // Whichever replica took the cameras first, the balancer brings it to 2/2 and stops moving.
        await Wait.UntilAsync(async () => observer.Counts() is [2, 2] && await HandOffsPendingAsync(core) == 0, TimeSpan.FromSeconds(30),
            () => $"a 2/2 split (now {string.Join("/", observer.Counts())})");
        var heldByFirst = first.Coordinator.RecordingCameraIds;
        var heldBySecond = second.Coordinator.RecordingCameraIds;
        output.WriteLine($"split: {heldByFirst.Count}/{heldBySecond.Count}");
        Assert.Empty(heldByFirst.Intersect(heldBySecond));
        Assert.Equal(cameras, heldByFirst.Concat(heldBySecond).Order());
        var (a, b) = (first, second);
        var heldByA = a.Coordinator.RecordingCameraIds;

        await Wait.UntilAsync(async () => await AllHaveChunksAsync(core, cameras, 2), TimeSpan.FromSeconds(40), "two chunks per camera");

        // Replica A dies; its leases lapse and B takes its cameras over.
        observer.Remove(a);
        await a.DisposeAsync();
        var deadAt = DateTimeOffset.UtcNow;
        var handover = await Wait.UntilAsync(() => b.Coordinator.RecordingCameraIds.Count == 4, TimeSpan.FromSeconds(30), "B to take over A's cameras");
        output.WriteLine($"dead replica's cameras moved in {handover.TotalSeconds:F1} s");
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

        Assert.True(observer.Overlaps.Count == 0, string.Join("\n", observer.Overlaps));
        await AssertNoChunksOverlapAsync(core, cameras);
    }

    [Fact]
    public async Task A_third_replica_joining_gets_its_share_2_1_1_within_30_s_by_hand_off_without_overlap()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        await using var core = await CoreServer.StartAsync(leaseSeconds: 6);
        var root = TestTemp.NewFolder("shared");
        await using var first = RecorderInstance.Start(core, root);
        await using var second = RecorderInstance.Start(core, root);
        await using var observer = new LeaseObserver(first, second);
        await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 2, TimeSpan.FromSeconds(15), "both replicas to heartbeat");
        var cameras = await CreateCamerasAsync(core, camera, "join", 4);
        await Wait.UntilAsync(async () => observer.Counts() is [2, 2] && await HandOffsPendingAsync(core) == 0, TimeSpan.FromSeconds(30),
            () => $"a 2/2 split (now {string.Join("/", observer.Counts())})");
        await Wait.UntilAsync(async () => await AllHaveChunksAsync(core, cameras, 2), TimeSpan.FromSeconds(40), "two chunks per camera");
        var movesBefore = observer.Moves.Count;

        await using var third = RecorderInstance.Start(core, root);
        observer.Add(third);
        await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 3, TimeSpan.FromSeconds(15), "the third replica to heartbeat");
        var joined = await Wait.UntilAsync(async () => observer.Counts().Order().SequenceEqual([1, 1, 2]) && await HandOffsPendingAsync(core) == 0,
            TimeSpan.FromSeconds(30), () => $"a 2/1/1 split (now {string.Join("/", observer.Counts())})");
        output.WriteLine($"2/1/1 reached {joined.TotalSeconds:F1} s after the third replica's first heartbeat");
        Assert.Single(third.Coordinator.RecordingCameraIds);
        Assert.Equal(cameras, first.Coordinator.RecordingCameraIds.Concat(second.Coordinator.RecordingCameraIds)
            .Concat(third.Coordinator.RecordingCameraIds).Order());

        // Exactly one camera moved (2/2 → 2/1/1), to the new replica; the new holder's chunks follow the old one's
        // with one hole (the hand-off gap: old ffmpeg stopped, new one started), never overlapping them.
        var moved = Assert.Single(observer.Moves.Skip(movesBefore));
        Assert.Equal(third.Id, moved.To);
        var movedUnix = moved.At.ToUnixTimeMilliseconds() / 1000.0;
        await Wait.UntilAsync(async () => (await core.RowsAsync(moved.Camera)).Any(r => r.StartUnix >= movedUnix - 1), TimeSpan.FromSeconds(40),
            "the new holder's first chunk");
        var rows = await core.RowsAsync(moved.Camera);
        var holes = rows.Zip(rows.Skip(1)).Select(p => (From: p.First.EndUnix, Gap: p.Second.StartUnix - p.First.EndUnix)).Where(h => h.Gap > 0.5).ToList();
        output.WriteLine($"camera {moved.Camera} moved {moved.From} → {moved.To}; holes in its recording: " +
                         string.Join(", ", holes.Select(h => $"{h.Gap:F2} s")));
        Assert.True(holes.Count <= 1, $"camera {moved.Camera} lost more than one chunk boundary: {string.Join(", ", holes.Select(h => $"{h.Gap:F2} s"))}");

        Assert.True(observer.Overlaps.Count == 0, string.Join("\n", observer.Overlaps));
        await AssertNoChunksOverlapAsync(core, cameras);
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

    private static async Task<List<int>> CreateCamerasAsync(CoreServer core, RtspTestServer camera, string prefix, int count)
    {
        var ids = new List<int>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await core.CreateCameraAsync($"{prefix}-{i}", camera.Url("/cam")));
        }

        return ids;
    }

    private static Task<long> HandOffsPendingAsync(CoreServer core) =>
        CountAsync(core, "SELECT count(*) FROM recorder_leases WHERE handing_to IS NOT NULL");

    private static async Task<bool> AllHaveChunksAsync(CoreServer core, IEnumerable<int> cameras, int chunks)
    {
        foreach (var id in cameras)
        {
            if ((await core.RowsAsync(id)).Count < chunks)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Never two recorders on one camera: its chunks never overlap, before or after a hand-over.</summary>
    private static async Task AssertNoChunksOverlapAsync(CoreServer core, IEnumerable<int> cameras)
    {
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

    private static async Task<long> CountAsync(CoreServer core, string sql)
    {
        await using var connection = new NpgsqlConnection(core.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
