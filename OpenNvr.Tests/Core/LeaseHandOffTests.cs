using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;

namespace OpenNvr.Tests.Core;

/// <summary>Leases on a fake clock, with one weighted Recorder id (<c>heavy</c> weighs 2).</summary>
public sealed class HandOffCoreFixture : FakeClockCoreFixture
{
    public const int LeaseSeconds = 10;

    protected override void Configure(IWebHostBuilder host)
    {
        base.Configure(host);
        host.UseSetting("Internal:LeaseSeconds", LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        host.UseSetting("Internal:RecorderWeights:heavy", "2");
    }
}

/// <summary>
/// Balanced leases and graceful hand-off (docs/internal-api.md), driven heartbeat by heartbeat on Core's fake clock
/// against real PostgreSQL: every step asserts the state it reached, nothing waits on time. Each test starts from a
/// clean slate (the other tests' Recorders dead, their cameras disabled).
/// </summary>
public sealed class LeaseHandOffTests(HandOffCoreFixture core) : IClassFixture<HandOffCoreFixture>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        core.FakeClock.Advance(TimeSpan.FromSeconds(HandOffCoreFixture.LeaseSeconds + 1));
        await core.ExecuteAsync("UPDATE cameras SET is_active = false");
        await core.ExecuteAsync("DELETE FROM recorder_leases");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_joining_recorder_gets_its_share_only_after_the_old_holder_confirms_it_stopped()
    {
        var cameras = await CamerasAsync("join", 4);
        var fleet = new Fleet(core);

        Assert.Equal(cameras, await fleet.BeatAsync("a"));
        // b joins: two of a's cameras start moving to b, but neither records them yet (b gets nothing, a drops them).
        Assert.Empty(await fleet.BeatAsync("b"));
        Assert.Equal(2L, await core.ScalarAsync<long>("SELECT count(*) FROM recorder_leases WHERE recorder_id = 'a' AND handing_to = 'b'"));
        var kept = await fleet.BeatAsync("a", stopsSlowly: true);
        Assert.Equal(2, kept.Count);
        // a's two ffmpeg are still stopping (its heartbeats list them): b gets nothing.
        Assert.Empty(await fleet.BeatAsync("b"));
        Assert.Equal(kept, await fleet.BeatAsync("a", stopsSlowly: true));
        Assert.Empty(await fleet.BeatAsync("b"));

        // a's ffmpeg have exited; its next heartbeat says so and the leases pass to b.
        Assert.Equal(kept, await fleet.BeatAsync("a"));
        Assert.Equal(cameras.Except(kept), await fleet.BeatAsync("b"));
        Assert.Equal([2, 2], fleet.Counts("a", "b"));
        Assert.Equal(2, fleet.Moves);

        // A third joins: 2/1/1, the rounded-up share staying with one that already holds two (one camera moves).
        Assert.Empty(await fleet.BeatAsync("c"));
        await fleet.BeatAllAsync("a", "b");
        await fleet.BeatAllAsync("a", "b", "c");
        Assert.Equal([1, 1, 2], fleet.Counts("a", "b", "c").Order());
        Assert.Equal(1, fleet.Counts("c")[0]);
        Assert.Equal(3, fleet.Moves);

        // Balanced: more heartbeats move nothing.
        for (var i = 0; i < 3; i++)
        {
            await fleet.BeatAllAsync("a", "b", "c");
        }

        Assert.Equal(3, fleet.Moves);
        Assert.Equal(0L, await core.ScalarAsync<long>("SELECT count(*) FROM recorder_leases WHERE handing_to IS NOT NULL"));
    }

    [Fact]
    public async Task A_dead_recorders_cameras_move_once_its_leases_lapse_and_a_hand_off_to_a_dead_recorder_is_undone()
    {
        var cameras = await CamerasAsync("dead", 4);
        var fleet = new Fleet(core);
        await fleet.BeatAllAsync("a", "b");
        await fleet.BeatAllAsync("a", "b");
        Assert.Equal([2, 2], fleet.Counts("a", "b"));

        // a dies. Within its lease b takes nothing; once it has lapsed b takes all four.
        core.FakeClock.Advance(TimeSpan.FromSeconds(HandOffCoreFixture.LeaseSeconds - 1));
        Assert.Equal(2, (await fleet.BeatAsync("b")).Count);
        core.FakeClock.Advance(TimeSpan.FromSeconds(2));
        fleet.Forget("a");
        Assert.Equal(cameras, await fleet.BeatAsync("b"));

        // c joins, b stops two and confirms, but c dies before it takes them: they lapse back to b, the only live one.
        Assert.Empty(await fleet.BeatAsync("c"));
        Assert.Equal(2, (await fleet.BeatAsync("b")).Count);
        await fleet.BeatAsync("b");
        Assert.Equal(2L, await core.ScalarAsync<long>("SELECT count(*) FROM recorder_leases WHERE recorder_id = 'c'"));
        core.FakeClock.Advance(TimeSpan.FromSeconds(HandOffCoreFixture.LeaseSeconds + 1));
        fleet.Forget("c");
        Assert.Equal(cameras, await fleet.BeatAsync("b"));
    }

    [Fact]
    public async Task A_recorder_that_does_not_report_what_it_records_hands_off_when_the_lease_lapses()
    {
        var cameras = await CamerasAsync("legacy", 2);
        var fleet = new Fleet(core);
        Assert.Equal(cameras, await fleet.LegacyBeatAsync("old"));
        Assert.Empty(await fleet.BeatAsync("b"));
        var kept = await fleet.LegacyBeatAsync("old");
        Assert.Single(kept);

        // The handing lease is not renewed: b gets the camera once it lapses, not before.
        core.FakeClock.Advance(TimeSpan.FromSeconds(HandOffCoreFixture.LeaseSeconds - 1));
        Assert.Equal(kept, await fleet.LegacyBeatAsync("old"));
        Assert.Empty(await fleet.BeatAsync("b"));
        core.FakeClock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(kept, await fleet.LegacyBeatAsync("old"));
        Assert.Equal(cameras.Except(kept), await fleet.BeatAsync("b"));
    }

    [Fact]
    public async Task Weights_set_the_shares()
    {
        await CamerasAsync("weights", 6);
        var fleet = new Fleet(core);
        await fleet.BeatAllAsync("light", "heavy");
        await fleet.BeatAllAsync("light", "heavy");
        Assert.Equal([4, 2], fleet.Counts("heavy", "light"));
    }

    [Fact]
    public async Task A_recorder_without_the_lease_never_receives_the_cameras_credentials()
    {
        var kept = await core.CreateCameraAsync("secret-a", new { rtsp_url = "rtsp://operator:Kept-secret@10.9.8.7:554/main" });
        var moved = await core.CreateCameraAsync("secret-b", new { rtsp_url = "rtsp://operator:Moved-secret@10.9.8.6:554/main" });
        using var recorder = core.Internal();
        var both = await RawBeatAsync(recorder, "holder", []);
        Assert.Contains("Kept-secret", both);
        Assert.Contains("Moved-secret", both);

        // "other" joins: the newer camera moves to it, but its credentials reach it only once the holder has let go.
        Assert.DoesNotContain("secret", await RawBeatAsync(recorder, "other", []));
        var handing = await RawBeatAsync(recorder, "holder", [kept, moved]);
        Assert.Contains("Kept-secret", handing);
        Assert.DoesNotContain("Moved-secret", handing);
        Assert.DoesNotContain("secret", await RawBeatAsync(recorder, "other", []));
        Assert.DoesNotContain("Moved-secret", await RawBeatAsync(recorder, "holder", [kept]));
        var taken = await RawBeatAsync(recorder, "other", []);
        Assert.Contains("Moved-secret", taken);
        Assert.DoesNotContain("Kept-secret", taken);
        Assert.DoesNotContain("Kept-secret", await RawBeatAsync(recorder, "other", [moved]));
    }

    private async Task<List<int>> CamerasAsync(string prefix, int count)
    {
        var ids = new List<int>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await core.CreateCameraAsync($"{prefix}-{i}"));
        }

        return ids;
    }

    private static async Task<string> RawBeatAsync(HttpClient client, string recorderId, int[] recording)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
            new { recorder_id = recorderId, base_url = "http://127.0.0.1:8100", max_cameras = 100, recording });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return body;
    }

    /// <summary>
    /// Recorders that do what a real one does (HeartbeatService): record exactly the cameras the answer lists, stop the
    /// others and, once stopped, beat again at once to say so; a Recorder stopping slowly still lists them in its next
    /// heartbeats. After every answer it checks that no camera is recorded by two of them.
    /// </summary>
    private sealed class Fleet(HandOffCoreFixture core)
    {
        private readonly Dictionary<string, List<int>> _held = [];
        private readonly Dictionary<string, List<int>> _stopping = [];
        private readonly HashSet<int> _everHeld = [];
        private readonly HttpClient _client = core.Internal();

        /// <summary>Cameras that a Recorder started after another one had held them.</summary>
        public int Moves { get; private set; }

        public Task<List<int>> BeatAsync(string id, bool stopsSlowly = false)
        {
            int[] recording = [.. (_held.GetValueOrDefault(id) ?? []).Union(_stopping.GetValueOrDefault(id) ?? [])];
            return SendAsync(id, recording, stopsSlowly);
        }

        /// <summary>A Recorder that does not report what it records (stops at once, like the others).</summary>
        public Task<List<int>> LegacyBeatAsync(string id) => SendAsync(id, null, stopsSlowly: false);

        public async Task BeatAllAsync(params string[] ids)
        {
            foreach (var id in ids)
            {
                await BeatAsync(id);
            }
        }

        public int[] Counts(params string[] ids) => [.. ids.Select(id => _held.GetValueOrDefault(id)?.Count ?? 0)];

        public void Forget(string id)
        {
            _held.Remove(id);
            _stopping.Remove(id);
        }

        private async Task<List<int>> SendAsync(string id, int[]? recording, bool stopsSlowly)
        {
            var before = _held.GetValueOrDefault(id) ?? [];
            var answer = await HttpAssert.OkJsonAsync(await _client.PostAsJsonAsync("/api/v1/internal/recorders/heartbeat",
                new { recorder_id = id, base_url = "http://127.0.0.1:8100", max_cameras = 100, recording }));
            var cameras = answer["cameras"]!.AsArray().Select(c => (int)c!["id"]!).Order().ToList();
            Moves += cameras.Except(before).Count(_everHeld.Contains);
            _everHeld.UnionWith(cameras);
            List<int> dropped = [.. before.Union(_stopping.GetValueOrDefault(id) ?? []).Except(cameras)];
            _stopping[id] = stopsSlowly ? dropped : [];
            _held[id] = cameras;
            AssertNoCameraRecordedTwice();
            if (recording is not null && !stopsSlowly && dropped.Count > 0)
            {
                return await SendAsync(id, [.. cameras], stopsSlowly: false);
            }

            return cameras;
        }

        private void AssertNoCameraRecordedTwice()
        {

            var all = _held.Values.Concat(_stopping.Values).SelectMany(v => v).ToList();
            Assert.True(all.Count == all.Distinct().Count(), "a camera recorded by two recorders: " +
                string.Join("; ", _held.Select(r => $"{r.Key}=[{string.Join(",", r.Value)}] stopping [{string.Join(",", _stopping.GetValueOrDefault(r.Key) ?? [])}]")));
        }
    }
}
