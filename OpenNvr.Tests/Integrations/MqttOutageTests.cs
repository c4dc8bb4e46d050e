using Microsoft.AspNetCore.Builder;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Recorder;

namespace OpenNvr.Tests.Integrations;

/// <summary>The broker goes away for 30 s while events keep coming: nothing waits, the queue stays bounded, drops are counted, publishing resumes.</summary>
public sealed class MqttOutageTests(SmallQueueMosquittoCoreFixture core) : IClassFixture<SmallQueueMosquittoCoreFixture>
{
    [Fact]
    [Trait(TestTraits.Category, TestTraits.Slow)]
    public async Task Broker_down_for_30_s_events_queue_up_to_the_bound_the_rest_are_counted_and_publishing_resumes()
    {
        const int events = 12;
        var cameraId = await core.CreateCameraAsync("outage");
        await core.ReportStateAsync(cameraId, "recording");
        await Wait.UntilAsync(() => core.Publisher.Status.PendingState == 0, TimeSpan.FromSeconds(30), "Core's MQTT state to be acknowledged");
        await using var watcher = await MqttWatcher.ConnectAsync(core.BrokerPort, core.BrokerUsername, core.BrokerPassword, persistentSession: true, "opennvr/#");
        await watcher.WaitForAsync(m => m.Topic == "opennvr/available" && m.Payload == "online", "availability");
        var before = core.Publisher.Status;

        await core.Broker.StopAsync(graceful: true);
        await Wait.UntilAsync(() => !core.Publisher.IsConnected, TimeSpan.FromSeconds(30), "Core to notice the broker is gone");
        for (var i = 1; i <= events; i++)
        {
            await core.IngestAsync(cameraId, (i, ExecutedAt(i)));
        }

        // Every event is stored although no broker is there.
        Assert.Equal(events, await core.ScalarAsync<long>("SELECT count(*) FROM events WHERE camera_id = $1", cameraId));

        // The outage is the scenario: 30 s without a broker, while Core keeps trying to reconnect.
        await Task.Delay(TimeSpan.FromSeconds(30));
        var during = core.Publisher.Status;
        Assert.False(during.Connected);
        Assert.NotNull(during.LastError);
        Assert.Equal(SmallQueueMosquittoCoreFixture.QueueCapacity, during.QueueDepth);
        Assert.Equal(events - SmallQueueMosquittoCoreFixture.QueueCapacity, during.Dropped - before.Dropped);

        var restarted = watcher.Seen.Count;
        await core.Broker.StartAsync();
        await watcher.ReconnectAsync();
        await Wait.UntilAsync(() => core.Publisher.IsConnected && core.Publisher.Status.QueueDepth == 0, TimeSpan.FromSeconds(30), "Core to reconnect and empty its queue");

        // The newest events (those the bounded queue kept) arrive; the oldest were the ones dropped.
        for (var i = events - SmallQueueMosquittoCoreFixture.QueueCapacity + 1; i <= events; i++)
        {
            var executedAt = ExecutedAt(i);
            await watcher.WaitForAsync(m => m.Topic == "opennvr/events" && m.Payload.Contains($"\"executed_at\":{executedAt},", StringComparison.Ordinal), $"event {i}");
        }

        for (var i = 1; i <= events - SmallQueueMosquittoCoreFixture.QueueCapacity; i++)
        {
            var executedAt = ExecutedAt(i);
            Assert.DoesNotContain(watcher.Seen, m => m.Topic == "opennvr/events" && m.Payload.Contains($"\"executed_at\":{executedAt},", StringComparison.Ordinal));
        }
        // Core told the broker its state again after reconnecting: the count is the newest, sent after the restart.
        await watcher.WaitForAsync(m => watcher.Seen.ToList().IndexOf(m) >= restarted && m.Topic == $"opennvr/camera_{cameraId}/person/count" && m.Payload == "12",
            "the newest count, sent again after the restart");
        Assert.Equal("online", watcher.Last("opennvr/available"));
        var after = core.Publisher.Status;
        Assert.Equal(events - SmallQueueMosquittoCoreFixture.QueueCapacity, after.Dropped - before.Dropped);
    }

    private static long ExecutedAt(int i) => 1_795_784_720_000 + i;
}

/// <summary>Core's last will: a subscriber learns that Core is gone, whether it was killed or stopped.</summary>
public sealed class MqttLastWillTests : IAsyncLifetime
{
    private MosquittoBroker _broker = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        _broker = await MosquittoBroker.StartAsync();
        _database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("core_lwt");
    }

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    [Trait(TestTraits.Category, TestTraits.Slow)]
    public async Task Killing_core_turns_availability_offline_through_the_last_will_and_a_graceful_stop_says_offline_too()
    {
        await using var watcher = await MqttWatcher.ConnectAsync(_broker.Port, _broker.Username, _broker.Password, "opennvr/available");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:nvrdb"] = _database,
            ["Auth:JwtSigningKey"] = CoreFixture.SigningKey,
            ["Auth:AdminPassword"] = CoreFixture.AdminPassword,
            [ServiceKeys.RecorderCore] = CoreFixture.InternalKey,
            ["Mqtt:Url"] = _broker.UrlWithCredentials,
            ["Mqtt:KeepAliveSeconds"] = "5",
        };

        await using (var core = await CoreProcess.StartAsync(settings))
        {
            await watcher.WaitForAsync(m => m.Payload == "online", "Core's online", TimeSpan.FromSeconds(120));
            var seen = watcher.Seen.Count;
            await core.KillAsync();
            // The kernel closes the dead process's socket; the broker publishes the will at once (keep-alive is the backstop).
            await watcher.WaitForAsync(m => watcher.Seen.ToList().IndexOf(m) >= seen && m.Payload == "offline", "the last will after a kill", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain(_broker.Password, core.Output, StringComparison.Ordinal);
        }

        await using (var core = await CoreProcess.StartAsync(settings))
        {
            var seen = watcher.Seen.Count;
            await watcher.WaitForAsync(m => watcher.Seen.ToList().IndexOf(m) >= seen && m.Payload == "online", "Core's online after its restart", TimeSpan.FromSeconds(120));
            await core.WaitStartedAsync(TimeSpan.FromSeconds(120));
            seen = watcher.Seen.Count;
            await core.TerminateAsync(TimeSpan.FromSeconds(60));
            Assert.True(core.ExitCode == 0, $"exit code {core.ExitCode}: {core.Output[^Math.Min(core.Output.Length, 6000)..]}");
            await watcher.WaitForAsync(m => watcher.Seen.ToList().IndexOf(m) >= seen && m.Payload == "offline", "offline after a graceful stop", TimeSpan.FromSeconds(30));
        }
    }
}
