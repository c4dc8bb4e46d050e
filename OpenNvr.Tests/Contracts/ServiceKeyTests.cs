using Microsoft.AspNetCore.Builder;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;
using OpenNvr.Tests.Inference;

namespace OpenNvr.Tests.Contracts;

/// <summary>The keys of <see cref="ServiceKeys"/> as the app host hands them out: each pair's own value.</summary>
public static class PairKeys
{
    public const string RecorderCore = CoreFixture.InternalKey;
    public const string RecorderInference = CoreFixture.RecorderInferenceKey;
    public const string CoreInference = CoreFixture.CoreInferenceKey;
}

/// <summary>Inference holding the keys of its two callers, as under the app host.</summary>
public sealed class KeyedInferenceFixture : InferenceServiceFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new(ServiceKeys.RecorderInference, PairKeys.RecorderInference), new(ServiceKeys.CoreInference, PairKeys.CoreInference)];
}

/// <summary>Inference started outside Development without any key.</summary>
public sealed class KeylessProductionInferenceFixture : InferenceServiceFixture
{
    protected override void ConfigureHost(IWebHostBuilder host) => host.UseEnvironment("Production");
}

/// <summary>
/// Per-service credentials: each service accepts only the keys of the pairs it belongs to, checks the key before it
/// reads the request (401 before 400), and without keys is closed outside Development.
/// </summary>
public sealed class ServiceKeyTests(CoreFixture core, KeyedInferenceFixture inference, KeylessProductionInferenceFixture keyless)
    : IClassFixture<CoreFixture>, IClassFixture<KeyedInferenceFixture>, IClassFixture<KeylessProductionInferenceFixture>
{
    private const string Heartbeat = "/api/v1/internal/recorders/heartbeat";
    private const string HeartbeatBody = """{"recorder_id":"keys","base_url":"http://127.0.0.1:8100","max_cameras":1}""";

    [Fact]
    public async Task Core_accepts_only_the_Recorders_key_and_checks_it_before_reading_the_body()
    {
        using var http = core.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, Heartbeat, PairKeys.RecorderCore, HeartbeatBody)).StatusCode);
        foreach (var other in new[] { PairKeys.RecorderInference, PairKeys.CoreInference })
        {
            await HttpAssert.ProblemAsync(await SendAsync(http, Heartbeat, other, HeartbeatBody), HttpStatusCode.Unauthorized);
        }

        // A malformed body: 401 without the key (the route says nothing to a stranger), 400 with it.
        await HttpAssert.ProblemAsync(await SendAsync(http, Heartbeat, null, "{not json"), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await SendAsync(http, Heartbeat, PairKeys.CoreInference, "{not json"), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await SendAsync(http, Heartbeat, PairKeys.RecorderCore, "{not json"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Cores_camera_holder_route_accepts_only_Inferences_key()
    {
        using var http = core.Anonymous();
        const string holder = "/api/v1/internal/cameras/2147483647/holder";
        // Authorised: no Recorder holds that camera (404, a problem that says so).
        await HttpAssert.ProblemAsync(await SendAsync(http, holder, PairKeys.CoreInference), HttpStatusCode.NotFound);
        foreach (var other in new[] { PairKeys.RecorderCore, PairKeys.RecorderInference, null })
        {
            await HttpAssert.ProblemAsync(await SendAsync(http, holder, other), HttpStatusCode.Unauthorized);
        }

        // And Inference's key opens none of the Recorder's routes of the same prefix.
        await HttpAssert.ProblemAsync(await SendAsync(http, Heartbeat, PairKeys.CoreInference, HeartbeatBody), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Inference_accepts_the_Recorders_and_Cores_keys_only_and_checks_them_before_reading_the_body()
    {
        var http = inference.Client;
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/tasks", PairKeys.RecorderInference)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/tasks", PairKeys.CoreInference)).StatusCode);
        await HttpAssert.ProblemAsync(await SendAsync(http, "/tasks", PairKeys.RecorderCore), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await SendAsync(http, "/tasks", null), HttpStatusCode.Unauthorized);

        await HttpAssert.ProblemAsync(await SendAsync(http, "/infer", null, "{oops"), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await SendAsync(http, "/infer", PairKeys.RecorderCore, "{oops"), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await SendAsync(http, "/infer", PairKeys.RecorderInference, "{oops"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Inference_outside_Development_without_keys_refuses_every_request_but_health()
    {
        var http = keyless.Client;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        var refused = await HttpAssert.ProblemAsync(await SendAsync(http, "/tasks", null), HttpStatusCode.Unauthorized);
        Assert.Contains("closed", refused, StringComparison.Ordinal);
        await HttpAssert.ProblemAsync(await SendAsync(http, "/tasks", "any-key-at-all"), HttpStatusCode.Unauthorized);
        await HttpAssert.ProblemAsync(await SendAsync(http, "/infer", null, InferenceServiceFixture.InferBody("person_detection", "opennvr://frames/persons/vtest_0200.jpg")), HttpStatusCode.Unauthorized);
    }

    [Fact]
    [Trait(TestTraits.Category, TestTraits.Slow)]
    public async Task The_Recorders_frames_take_Cores_and_Inferences_keys_only_and_outside_Development_without_keys_nothing()
    {
        await using var coreServer = await CoreServer.StartAsync();
        await using (var keyed = RecorderInstance.Start(coreServer, settings: new Dictionary<string, string>
                     {
                         [ServiceKeys.RecorderInference] = PairKeys.RecorderInference,
                     }))
        {
            using var http = keyed.CreateClient();
            // Authorised: the frame does not exist (404), a bad name is a 400.
            await HttpAssert.ProblemAsync(await SendAsync(http, "/frames/1/latest.jpg", PairKeys.RecorderCore), HttpStatusCode.NotFound);
            await HttpAssert.ProblemAsync(await SendAsync(http, "/frames/1/latest.jpg", PairKeys.RecorderInference), HttpStatusCode.NotFound);
            await HttpAssert.ProblemAsync(await SendAsync(http, "/frames/1/latest.jpg", PairKeys.CoreInference), HttpStatusCode.Unauthorized);
            await HttpAssert.ProblemAsync(await SendAsync(http, "/frames/1/latest.jpg", null), HttpStatusCode.Unauthorized);
            await HttpAssert.ProblemAsync(await SendAsync(http, "/frames/.hidden/x.jpg", PairKeys.RecorderCore), HttpStatusCode.BadRequest);
            await HttpAssert.ProblemAsync(await SendAsync(http, "/frames/.hidden/x.jpg", null), HttpStatusCode.Unauthorized);
        }

        await using var keyless = RecorderInstance.Start(coreServer, settings: new Dictionary<string, string>
        {
            ["environment"] = "Production",
            [ServiceKeys.RecorderCore] = "",
        });
        using var client = keyless.CreateClient();
        var refused = await HttpAssert.ProblemAsync(await SendAsync(client, "/frames/1/latest.jpg", null), HttpStatusCode.Unauthorized);
        Assert.Contains("closed", refused, StringComparison.Ordinal);
        await HttpAssert.ProblemAsync(await SendAsync(client, "/frames/1/latest.jpg", PairKeys.RecorderCore), HttpStatusCode.Unauthorized);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? key, object body) =>
        SendAsync(http, path, key, System.Text.Json.JsonSerializer.Serialize(body));

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? key, string? body = null)
    {
        using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Add(path.StartsWith("/api/", StringComparison.Ordinal) || path.StartsWith("/frames", StringComparison.Ordinal)
                ? SharedKeyEndpointExtensions.InternalKeyHeader
                : SharedKeyClientExtensions.InferenceKeyHeader, key);
        }

        return await http.SendAsync(request);
    }
}
