using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OpenNvr.Tests.Cloud;

/// <summary>
/// A stand-in for the Hugging Face Inference API on real Kestrel (127.0.0.1, random port), answering
/// <c>POST /models/{model}</c> (and <c>/hf-inference/models/{model}</c>, the router's form) like the real service:
/// 401 for a wrong bearer token, then by the model id's first segment:
/// <c>detr</c> (and <c>facebook/detr-resnet-50</c>) DETR detections; <c>classify</c> (and the default ViT) labels;
/// <c>caption</c> (and the default BLIP) generated text; <c>loading</c> 503 "currently loading" (estimated_time 0.2 s) twice, then detections; <c>loading-forever</c> always 503 loading;
/// <c>rate-limited</c> 429 <c>Retry-After: 1</c> once; <c>rate-limited-date</c> 429 with an HTTP-date <c>Retry-After</c>
/// once; <c>rate-limited-long</c> 429 <c>Retry-After: 3600</c> always; <c>failing</c> 500 always; <c>slow</c> answers
/// after 10 s; <c>bad-params</c> 400; <c>not-json</c> an HTML page; anything else 404 "does not exist".
/// Every request is recorded with its headers and image bytes (decoded from base64 for the JSON form).
/// </summary>
public sealed class FakeHuggingFace : IAsyncDisposable
{
    public const string RouterPrefix = "/hf-inference";

    /// <summary>DETR's answer for any image: box corners in pixels, as the real pipeline returns them.</summary>
    public const string DetrReply = """
        [{"score":0.9412,"label":"person","box":{"xmin":120,"ymin":40,"xmax":301,"ymax":470}},
         {"score":0.9987,"label":"person","box":{"xmin":10,"ymin":20,"xmax":110,"ymax":220}},
         {"score":0.9021,"label":"backpack","box":{"xmin":150,"ymin":100,"xmax":200,"ymax":180}}]
        """;

    public const string ClassificationReply = """
        [{"label":"space shuttle","score":0.1021},{"label":"astronaut, spaceman","score":0.8513},{"label":"parachute","score":0.0188}]
        """;

    public const string CaptionReply = """[{"generated_text":"an astronaut in a white space suit holding a flag"}]""";

    private readonly WebApplication _app;
    private readonly string _token;
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    private FakeHuggingFace(WebApplication app, string token)
    {
        _app = app;
        _token = token;
    }

    public string Url { get; private set; } = "";

    public ConcurrentQueue<FakeHuggingFaceRequest> Requests { get; } = new();

    public IReadOnlyList<FakeHuggingFaceRequest> RequestsFor(string model) => [.. Requests.Where(r => r.Model == model)];

    public static async Task<FakeHuggingFace> StartAsync(string token)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeHuggingFace(app, token);
        app.MapPost("/models/{**model}", (string model, HttpContext http) => fake.HandleAsync(model, http));
        app.MapPost(RouterPrefix + "/models/{**model}", (string model, HttpContext http) => fake.HandleAsync(model, http));
        await app.StartAsync();
        fake.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return fake;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task<IResult> HandleAsync(string model, HttpContext http)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var contentType = http.Request.ContentType;
        var (image, parameters) = contentType?.StartsWith("application/json", StringComparison.Ordinal) == true ? ReadJsonBody(body) : (body, null);
        var request = new FakeHuggingFaceRequest(model, http.Request.Path, http.Request.Headers.Authorization.ToString(), contentType, image, parameters,
            DateTimeOffset.UtcNow);
        Requests.Enqueue(request);
        var count = _counts.AddOrUpdate(model, 1, (_, n) => n + 1);

        if (request.Authorization != "Bearer " + _token)
        {
            return Error(401, "Invalid credentials in Authorization header");
        }

        var behaviour = model.Split('/')[0];
        switch (behaviour)
        {
            case "detr" or "facebook":
                return Json(DetrReply);
            case "classify" or "google":
                return Json(ClassificationReply);
            case "caption" or "Salesforce":
                return Json(CaptionReply);
            case "loading":
                return count <= 2
                    ? Results.Json(new { error = $"Model {model} is currently loading", estimated_time = 0.2 }, statusCode: 503)
                    : Json(DetrReply);
            case "loading-forever":
                return Results.Json(new { error = $"Model {model} is currently loading", estimated_time = 0.2 }, statusCode: 503);
            case "rate-limited":
                http.Response.Headers.RetryAfter = "1";
                return count == 1 ? Error(429, "Rate limit reached. You reached free usage limit (reset hourly).") : Json(DetrReply);
            case "rate-limited-date":
                http.Response.Headers.RetryAfter = DateTimeOffset.UtcNow.AddSeconds(2).ToString("r", CultureInfo.InvariantCulture);
                return count == 1 ? Error(429, "Rate limit reached.") : Json(DetrReply);
            case "rate-limited-long":
                http.Response.Headers.RetryAfter = "3600";
                return Error(429, "Rate limit reached. You reached free usage limit (reset hourly).");
            case "failing":
                return Error(500, "Internal Server Error");
            case "slow":
                // The fake's behaviour, not a synchronisation: a model that answers after the service's timeouts.
                await Task.Delay(TimeSpan.FromSeconds(10), http.RequestAborted);
                return Json(DetrReply);
            case "bad-params":
                return Error(400, "The following `model_kwargs` are not used by the model: ['nonsense']");
            case "not-json":
                return Results.Content("<html><body>Bad gateway</body></html>", "text/html", statusCode: 200);
            default:
                return Error(404, $"Model {model} does not exist");
        }
    }

    private static (byte[] Image, string? Parameters) ReadJsonBody(byte[] body)
    {
        using var json = JsonDocument.Parse(body);
        var image = json.RootElement.TryGetProperty("inputs", out var inputs) ? inputs.GetBytesFromBase64() : [];
        var parameters = json.RootElement.TryGetProperty("parameters", out var p) ? p.GetRawText() : null;
        return (image, parameters);
    }

    private static IResult Json(string json) => Results.Content(json, "application/json");

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);
}

/// <summary>One request as the fake received it.</summary>
/// <param name="Image">The raw body, or the decoded base64 <c>inputs</c> of the JSON form.</param>
/// <param name="Parameters">The raw JSON <c>parameters</c> of the JSON form, else null.</param>
public sealed record FakeHuggingFaceRequest(
    string Model,
    string Path,
    string Authorization,
    string? ContentType,
    byte[] Image,
    string? Parameters,
    DateTimeOffset ReceivedAt);
