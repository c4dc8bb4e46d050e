using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// When the registry's tables fail (here: renamed away under the running service, in this class's own database),
/// the /faces routes answer 503 problems instead of 500s, and recognition keeps answering from the in-memory index.
/// </summary>
public sealed class FaceRegistryOutageTests(FacesFixture fixture) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task Registry_failures_are_503_problems_and_recognition_keeps_working_from_the_index()
    {
        var (status, body) = await FacesFixture.RegisterAsync(fixture.Client, new { frame = FacesFixture.Frame("bald", "bruce_0.jpg"), person_id = "out-bruce", name = "Bruce" });
        Assert.True(status == 200, body.GetRawText());

        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("ALTER TABLE face_identities RENAME TO face_identities_away", connection);
            await command.ExecuteNonQueryAsync();
        }

        using var list = await fixture.Client.GetAsync("/faces/list");
        using var get = await fixture.Client.GetAsync("/faces/out-bruce");
        using var register = await fixture.Client.PostAsJsonAsync("/faces/register", new { frame = FacesFixture.Frame("bald", "jason_0.jpg"), person_id = "out-jason", name = "Jason" });
        using var delete = await fixture.Client.DeleteAsync("/faces/out-bruce");
        foreach (var response in new[] { list, get, register, delete })
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri}: {(int)response.StatusCode} {text}");
            Assert.Contains("face registry database is not available", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
        }

        var recognised = await fixture.InferAsync("face_recognition", new { frame = FacesFixture.Frame("bald", "bruce_2.jpg") });
        Assert.Equal("out-bruce", recognised.GetProperty("person_id").GetString());
    }
}
