using System.Net.Http.Json;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;
using OpenNvr.Tests.Clients.Core;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Inference;
using CoreModels = OpenNvr.Tests.Clients.Core.Models;
using InferenceModels = OpenNvr.Tests.Clients.Inference.Models;

namespace OpenNvr.Tests.OpenApi;

/// <summary>
/// The committed documents serve REST clients: clients generated from them at build (OpenNvr.Tests.Clients, Kiota)
/// log in, list cameras, read the recordings window and the latest events of a real Core, and run a task on a real
/// Inference with its API key, reading typed answers.
/// </summary>
public sealed class CoreGeneratedClientTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    [Fact]
    public async Task Generated_client_logs_in_and_reads_cameras_recordings_and_events()
    {
        var camera = await core.CreateCameraAsync("generated-client");
        using var anonymousHttp = core.Anonymous();
        var anonymous = new CoreClient(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: anonymousHttp)
        {
            BaseUrl = anonymousHttp.BaseAddress!.ToString().TrimEnd('/'),
        });
        var tokens = await anonymous.Api.V1.Auth.Login.PostAsync(new CoreModels.LoginRequest { Username = "admin", Password = CoreFixture.AdminPassword });
        Assert.Equal("bearer", tokens!.TokenType);
        Assert.False(string.IsNullOrEmpty(tokens.AccessToken));

        using var http = core.Anonymous();
        var client = new CoreClient(new HttpClientRequestAdapter(
            new BaseBearerTokenAuthenticationProvider(new StaticToken(tokens.AccessToken!)), httpClient: http)
        {
            BaseUrl = http.BaseAddress!.ToString().TrimEnd('/'),
        });

        var cameras = await client.Api.V1.Cameras.GetAsync();
        var listed = Assert.Single(cameras!.Cameras!, c => c.Id == camera);
        Assert.Equal("generated-client", listed.Name);
        Assert.Contains("***", listed.RtspUrl);
        Assert.Equal(cameras.Cameras!.Count, cameras.Total);

        // A chunk registered the way the Recorder registers them.
        using (var recorder = core.Internal())
        {
            var chunkRow = new { camera_id = camera, path = $"{camera}/generated/000.mp4", start_unix = 1000.0, end_unix = 1010.0, duration_s = 10.0, size_bytes = 1234, codec = "h264" };
            (await recorder.PostAsJsonAsync("/api/v1/internal/recordings", new { recordings = new[] { chunkRow } })).EnsureSuccessStatusCode();
        }

        var window = await client.Api.V1.Recordings[camera].GetAsync(q =>
        {
            q.QueryParameters.StartUnix = 995;
            q.QueryParameters.EndUnix = 1020;
        });
        var chunk = Assert.Single(window!.Recordings!);
        Assert.Equal(1000, chunk.StartUnix);
        Assert.Equal(1234, chunk.SizeBytes);
        Assert.Equal([(995d, 1000d), (1010d, 1020d)], window.Gaps!.Select(g => (g.StartUnix!.Value, g.EndUnix!.Value)));

        var latest = await client.Api.V1.Events.Latest.GetAsync(q => q.QueryParameters.CameraId = camera);
        Assert.Equal(0, latest!.Count);
        Assert.Empty(latest.Events!);

        // Errors come back as the document's problem type, with the detail.
        var problem = await Assert.ThrowsAsync<CoreModels.ProblemDetails>(() => client.Api.V1.Cameras[int.MaxValue].GetAsync());
        Assert.Equal(404, problem.Status);
        Assert.Contains("does not exist", problem.Detail);
    }

    private sealed class StaticToken(string token) : IAccessTokenProvider
    {
        public AllowedHostsValidator AllowedHostsValidator { get; } = new();

        public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null,
            CancellationToken cancellationToken = default) => Task.FromResult(token);
    }
}

public sealed class InferenceGeneratedClientTests(SecuredCudaFixture inference) : IClassFixture<SecuredCudaFixture>
{
    [Fact]
    public async Task Generated_client_runs_person_counting_with_the_api_key()
    {
        using var http = inference.Factory.CreateClient();
        var adapter = new HttpClientRequestAdapter(new ApiKeyHeader(SecuredCudaFixture.ApiKey), httpClient: http)
        {
            BaseUrl = http.BaseAddress!.ToString().TrimEnd('/'),
        };
        var client = new OpenNvr.Tests.Clients.Inference.InferenceClient(adapter);

        var capabilities = await client.Capabilities.GetAsync();
        Assert.Contains("person_counting", capabilities!.Tasks!);

        // /infer answers with the response type of the task asked for (a oneOf of every task's type). The contract's
        // responses share no discriminator field, so the caller, who knows the task, reads that member's type.
        var request = client.Infer.ToPostRequestInformation(new InferenceModels.InferenceRequestBody
        {
            Task = "person_counting",
            Input = new InferenceModels.InferInput { Frame = new InferenceModels.FrameUri { Uri = "opennvr://frames/persons/grace_hopper.jpg" } },
        });
        await using var body = await adapter.SendPrimitiveAsync<Stream>(request);
        var counting = await KiotaJsonSerializer.DeserializeAsync(body!, InferenceModels.PersonCountingResponse.CreateFromDiscriminatorValue);
        Assert.NotNull(counting);
        Assert.Equal("person_counting", counting.Task);
        Assert.Equal(1, counting.Count);
        Assert.Single(counting.Detections!);
    }

    /// <summary>
    /// The document's <c>ApiKey</c> scheme: <c>X-API-Key</c> in a header. (Kiota's own ApiKeyAuthenticationProvider
    /// refuses plain http, which is how Inference is reached inside a deployment and in these tests.)
    /// </summary>
    private sealed class ApiKeyHeader(string key) : IAuthenticationProvider
    {
        public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null,
            CancellationToken cancellationToken = default)
        {
            request.Headers.Add("X-API-Key", key);
            return Task.CompletedTask;
        }
    }
}
