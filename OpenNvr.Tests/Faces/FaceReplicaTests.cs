using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Infrastructure;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// Several Inference replicas over one database: registrations and deletions reach the other replicas' indexes
/// within a second (LISTEN/NOTIFY), a lost notification is caught by the version check, and the registry survives
/// a restart.
/// </summary>
public sealed class FaceReplicaTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_second_replica_sees_a_registration_and_a_deletion_made_through_the_first_within_a_second()
    {
        // The version check runs only every minute here, so only the notification can be this fast.
        var second = fixture.StartInstance(("Faces:RegistryPollSeconds", "60"));
        using var secondClient = second.CreateClient();
        var secondIndex = second.Services.GetRequiredService<FaceRegistry>().Index;
        Assert.False(secondIndex.Contains("rep-bruce"));

        var (status, body) = await FacesFixture.RegisterAsync(fixture.Client, new
        {
            frame = FacesFixture.Frame("bald", "bruce_0.jpg"), person_id = "rep-bruce", name = "Bruce Willis", category = "watchlist",
        });
        Assert.True(status == 200, body.GetRawText());
        var seenAfter = await WaitAsync(() => secondIndex.Contains("rep-bruce"), "the second replica to see the registration");
        Assert.True(seenAfter < Propagation, $"the second replica saw the registration after {seenAfter.TotalMilliseconds} ms");

        var recognised = await FacesFixture.InferAsync(secondClient, "face_recognition", new { frame = FacesFixture.Frame("bald", "bruce_5.jpg") });
        Assert.True(recognised.GetProperty("recognized").GetBoolean(), recognised.GetRawText());
        Assert.Equal("rep-bruce", recognised.GetProperty("person_id").GetString());
        var watch = await FacesFixture.InferAsync(secondClient, "watchlist_check", new { frame = FacesFixture.Frame("bald", "bruce_5.jpg") });
        Assert.True(watch.GetProperty("is_on_watchlist").GetBoolean(), watch.GetRawText());

        using var delete = await fixture.Client.DeleteAsync("/faces/rep-bruce");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        var goneAfter = await WaitAsync(() => !secondIndex.Contains("rep-bruce"), "the second replica to see the deletion");
        Assert.True(goneAfter < Propagation, $"the second replica saw the deletion after {goneAfter.TotalMilliseconds} ms");
        var forgotten = await FacesFixture.InferAsync(secondClient, "watchlist_check", new { frame = FacesFixture.Frame("bald", "bruce_5.jpg") });
        Assert.False(forgotten.GetProperty("is_on_watchlist").GetBoolean(), forgotten.GetRawText());
    }

    [Fact]
    public async Task A_change_whose_notification_was_lost_is_picked_up_by_the_version_check()
    {
        var replica = fixture.StartInstance(("Faces:RegistryPollSeconds", "0.3"));
        using var client = replica.CreateClient();
        var index = replica.Services.GetRequiredService<FaceRegistry>().Index;

        // Written straight into the tables, as a replica would, but without NOTIFY.
        var embedding = (await FacesFixture.InferAsync(client, "face_embedding", new { frame = FacesFixture.Frame("bald", "jason_0.jpg") }))
            .GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        await using (var scope = replica.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
            var now = DateTimeOffset.UtcNow;
            db.FaceIdentities.Add(new FaceIdentity { PersonId = "silent-jason", Name = "Jason Statham", Category = "employee", CreatedAt = now, UpdatedAt = now });
            db.FaceEmbeddings.Add(new FaceEmbedding { PersonId = "silent-jason", Model = "bundled/fr_feature.onnx", Vector = embedding, CreatedAt = now });
            db.FaceRegistryChanges.Add(new FaceRegistryChange { PersonId = "silent-jason", ChangedAt = now });
            await db.SaveChangesAsync();
        }

        var seenAfter = await WaitAsync(() => index.Contains("silent-jason"), "the version check to pick up the change", TimeSpan.FromSeconds(5));
        Assert.True(seenAfter < TimeSpan.FromSeconds(2), $"seen after {seenAfter.TotalMilliseconds} ms");
        var recognised = await FacesFixture.InferAsync(client, "face_recognition", new { frame = FacesFixture.Frame("bald", "jason_4.jpg") });
        Assert.Equal("silent-jason", recognised.GetProperty("person_id").GetString());
    }

    [Fact]
    public async Task The_registry_survives_a_restart_of_the_service()
    {
        var before = fixture.StartInstance();
        using (var client = before.CreateClient())
        {
            var (status, body) = await FacesFixture.RegisterAsync(client, new
            {
                frame = FacesFixture.Frame("bald", "dwayne_0.jpg"), person_id = "restart-dwayne", name = "Dwayne Johnson", category = "vip",
                metadata = new { note = "survives restarts" },
            });
            Assert.True(status == 200, body.GetRawText());
            (status, body) = await FacesFixture.RegisterAsync(client, new
            {
                frame = FacesFixture.Frame("bald", "dwayne_3.jpg"), person_id = "restart-dwayne", name = "Dwayne Johnson", category = "vip",
            });
            Assert.True(status == 200, body.GetRawText());
        }

        await before.DisposeAsync();

        var after = fixture.StartInstance();
        using var afterClient = after.CreateClient();
        var registry = after.Services.GetRequiredService<FaceRegistry>();
        Assert.True(registry.Index.Contains("restart-dwayne"));
        var listed = await afterClient.GetStringAsync("/faces/list?category=vip");
        Assert.Contains("\"person_id\":\"restart-dwayne\"", listed);
        var identity = await afterClient.GetStringAsync("/faces/restart-dwayne");
        Assert.Contains("\"embedding_count\":2", identity);
        Assert.Contains("survives restarts", identity);
        var recognised = await FacesFixture.InferAsync(afterClient, "face_recognition", new { frame = FacesFixture.Frame("bald", "dwayne_5.jpg") });
        Assert.Equal("restart-dwayne", recognised.GetProperty("person_id").GetString());
    }

    /// <summary>How long until <paramref name="condition"/> held, looking every 5 ms (fails the test when it never does).</summary>
    private static Task<TimeSpan> WaitAsync(Func<bool> condition, string what, TimeSpan? limit = null) =>
        Wait.UntilAsync(condition, limit ?? TimeSpan.FromSeconds(10), what, pollMs: 5);
}
