using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenNvr.Contracts;
using OpenNvr.Contracts.Inference;
using OpenNvr.Inference.Faces;
using OpenNvr.Tests.Faces;
using Refit;

namespace OpenNvr.Tests.Contracts;

/// <summary>The Refit client other services use, against the real Inference (in-process, real models and PostgreSQL).</summary>
public sealed class InferenceClientContractTests(FacesFixture faces) : IClassFixture<FacesFixture>
{
    [Fact]
    public async Task Registers_lists_reads_and_deletes_a_face_through_the_typed_client()
    {
        var inference = RestService.ForGenerated<IInferenceApi>(faces.Client, ContractJson.RefitSettings());
        var personId = "contract-" + Guid.NewGuid().ToString("N")[..8];
        var frame = new FrameInput("opennvr://frames/faces/grace_hopper_512x512.jpg");

        using (var registered = await inference.RegisterFaceAsync(new FaceRegisterRequest(frame, personId, "Grace Hopper", FaceCategories.Employee), CancellationToken.None))
        {
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
            var answer = (await registered.Content.ReadFromJsonAsync<FaceRegisterResponse>(ContractJson.Options))!;
            Assert.Equal((true, personId, "Grace Hopper", "employee", 1), (answer.Success, answer.PersonId, answer.Name, answer.Category, answer.EmbeddingCount));
        }

        using (var listed = await inference.ListFacesAsync(FaceCategories.Employee, CancellationToken.None))
        {
            var list = (await listed.Content.ReadFromJsonAsync<FaceListResponse>(ContractJson.Options))!;
            Assert.Contains(new FaceListItem(personId, "Grace Hopper", "employee"), list.Faces);
        }

        using (var held = await inference.GetFaceAsync(personId, CancellationToken.None))
        {
            var identity = (await held.Content.ReadFromJsonAsync<FaceIdentityResponse>(ContractJson.Options))!;
            Assert.Equal((personId, 1), (identity.PersonId, identity.EmbeddingCount));
        }

        using (var deleted = await inference.DeleteFaceAsync(personId, CancellationToken.None))
        {
            Assert.Equal(new FaceDeleteResponse(true, personId), await deleted.Content.ReadFromJsonAsync<FaceDeleteResponse>(ContractJson.Options));
        }

        using var gone = await inference.GetFaceAsync(personId, CancellationToken.None);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains(personId, (await gone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Capabilities_and_infer_travel_as_the_contract_says()
    {
        var inference = RestService.ForGenerated<IInferenceApi>(faces.Client, ContractJson.RefitSettings());
        var capabilities = await inference.GetCapabilitiesAsync(CancellationToken.None);
        Assert.Contains("face_detection", capabilities.Tasks);

        using var answer = await inference.InferAsync(InferRequest.ForFrame("face_detection", "opennvr://frames/faces/grace_hopper_512x512.jpg"), CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(1, (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("face_count").GetInt32());
    }
}
