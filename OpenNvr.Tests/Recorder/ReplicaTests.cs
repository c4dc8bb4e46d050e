using Npgsql;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>Two Recorder replicas over one recordings volume share the cameras through Core's leases.</summary>
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class ReplicaTests
{
    [Fact]
    public async Task Two_replicas_split_the_cameras_without_double_recording_and_a_dead_ones_cameras_move_within_30_s()
    {
        await using var camera = await RtspTestServer.StartAsync("--file", "/cam=" + RepositoryPaths.TestData("video", "vtest.mp4"));
        // Short leases (Core's Internal:LeaseSeconds) so the handover is quick to observe; production uses 30 s.
        await using var core = await CoreServer.StartAsync(leaseSeconds: 6);
        var root = RecorderInstance.NewTempFolder("opennvr-shared");
        var a = RecorderInstance.Start(core, root);
        await using var b = RecorderInstance.Start(core, root);
        Assert.NotEqual(a.Id, b.Id);
        await Wait.UntilAsync(async () => await CountAsync(core, "SELECT count(*) FROM recorders") == 2, TimeSpan.FromSeconds(15), "both replicas to heartbeat");

        var cameras = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            cameras.Add(await core.CreateCameraAsync($"replica-{i}", camera.Url("/cam")));
        }

        await Wait.UntilAsync(() => a.Coordinator.RecordingCameraIds.Count + b.Coordinator.RecordingCameraIds.Count == 4, TimeSpan.FromSeconds(15), "all cameras leased");
        var heldByA = a.Coordinator.RecordingCameraIds;
        var heldByB = b.Coordinator.RecordingCameraIds;
        Assert.Empty(heldByA.Intersect(heldByB));
        Assert.Equal(cameras, heldByA.Concat(heldByB).Order());
        Assert.Equal((2, 2), (heldByA.Count, heldByB.Count));

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

    private static async Task<long> CountAsync(CoreServer core, string sql)
    {
        await using var connection = new NpgsqlConnection(core.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
