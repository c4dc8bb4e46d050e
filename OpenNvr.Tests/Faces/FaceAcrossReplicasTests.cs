using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// A face registered through Core's console API is recognised by both Inference replicas, with no folder in common:
/// the real Core (its own process-level server) reaches two real Inference replicas on Kestrel through service
/// discovery, each replica with a frames folder of its own, sharing only the registry database.
/// </summary>
public sealed class FaceAcrossReplicasTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task A_face_registered_through_Core_is_recognised_by_both_Inference_replicas_without_a_shared_folder()
    {
        var replicas = new[] { StartReplica(), StartReplica() };
        await using var core = await CoreServer.StartAsync(extraSettings: new Dictionary<string, string>
        {
            ["services:inference:http:0"] = replicas[0].Url,
            ["services:inference:http:1"] = replicas[1].Url,
        });
        var personId = "across-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using var admin = await core.AdminAsync();
            using var form = new MultipartFormDataContent { { new StringContent(personId), "person_id" }, { new StringContent("Grace Hopper"), "name" }, { new StringContent("employee"), "category" } };
            var photo = new ByteArrayContent(await File.ReadAllBytesAsync(RepositoryPaths.TestData("persons", "grace_hopper.jpg")));
            photo.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            form.Add(photo, "photo", "grace.jpg");
            var registered = await HttpAssert.OkJsonAsync(await admin.PostAsync("/api/v1/faces/register", form));
            Assert.Equal(personId, (string)registered["person_id"]!);

            // Another photo of her, in each replica's own frames folder, is recognised by each (the other replica learns
            // of the registration through the shared database's notification).
            foreach (var replica in replicas)
            {
                using var client = replica.Factory.CreateClient();
                await Wait.UntilAsync(async () =>
                {
                    var answer = await FacesFixture.InferAsync(client, "face_recognition", new { frame = FacesFixture.Frame("cam", "grace.jpg") });
                    return answer.GetProperty("recognized").GetBoolean() && answer.GetProperty("person_id").GetString() == personId;
                }, TimeSpan.FromSeconds(30), $"replica {replica.Url} to recognise {personId}");
            }

            // Core wrote nothing into either replica's folder: each holds only the frame the test put there.
            Assert.All(replicas, r => Assert.Single(Directory.GetFiles(r.FramesRoot, "*", SearchOption.AllDirectories)));
        }
        finally
        {
            using var admin = await core.AdminAsync();
            using var deleted = await admin.DeleteAsync($"/api/v1/faces/{personId}");
            // The replicas stop with the fixture (it started them).
            foreach (var replica in replicas)
            {
                TestTemp.TryDelete(replica.FramesRoot);
            }
        }
    }

    private sealed record Replica(WebApplicationFactory<InferenceDbContext> Factory, string Url, string FramesRoot);

    /// <summary>An Inference replica on the fixture's database, listening on a free loopback port, with a frames folder of its own.</summary>
    private Replica StartReplica()
    {
        var frames = TestTemp.NewFolder("replica-frames");
        Directory.CreateDirectory(Path.Combine(frames, "cam"));
        File.Copy(RepositoryPaths.TestData("faces", "grace_hopper_512x512.jpg"), Path.Combine(frames, "cam", "grace.jpg"));
        var port = FreePort.Tcp();
        var factory = fixture.StartInstance(("Frames:Root", frames));
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        factory.StartServer();
        return new Replica(factory, $"http://127.0.0.1:{port}", frames);
    }
}
