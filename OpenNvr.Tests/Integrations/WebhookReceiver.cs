using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Integrations;

/// <summary>One POST a <see cref="WebhookReceiver"/> got, and whether its signature held.</summary>
public sealed record ReceivedWebhook(
    JsonObject Body,
    string RawBody,
    string? Signature,
    string? Timestamp,
    string? DeliveryId,
    string? EventType,
    bool SignatureValid,
    int AnsweredStatus,
    TimeSpan At);

/// <summary>
/// A local HTTP receiver on a free loopback port (Kestrel), as a user's automation would run one: it verifies every
/// delivery's <c>X-OpenNVR-Signature</c> itself (HMAC-SHA256 of the raw body with the shared secret, compared in
/// constant time: the code docs/integrations.md shows) and answers what the test scripts, e.g. 500 then 200.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _secret;
    private readonly Func<int, (int Status, string? RetryAfter)> _answer;
    private int _count;

    private WebhookReceiver(WebApplication app, string secret, Func<int, (int Status, string? RetryAfter)> answer)
    {
        _app = app;
        _secret = secret;
        _answer = answer;
    }

    public string Url { get; private set; } = "";

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToList();

    /// <summary>Starts a receiver; <paramref name="answer"/> maps the 1-based request number to the status (and Retry-After) to answer.</summary>
    public static async Task<WebhookReceiver> StartAsync(string secret, Func<int, (int Status, string? RetryAfter)>? answer = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, secret, answer ?? (_ => (200, null)));
        app.MapPost("/hook", receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        receiver.Url = address + "/hook";
        return receiver;
    }

    /// <summary>Verifies a signature header as a receiver should: constant-time comparison of the hex HMAC-SHA256.</summary>
    public static bool Verify(byte[] body, string secret, string? header)
    {
        if (header is null || !header.StartsWith("sha256=", StringComparison.Ordinal))
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        byte[] presented;
        try
        {
            presented = Convert.FromHexString(header["sha256=".Length..]);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }

    public Task<ReceivedWebhook> WaitForAsync(Func<ReceivedWebhook, bool> match, string what, TimeSpan? timeout = null) =>
        Wait.ForAsync(() => Task.FromResult(_received.FirstOrDefault(match)), timeout ?? TimeSpan.FromSeconds(30),
            () => $"a webhook delivery: {what}. Received {_received.Count}", pollMs: 20);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var raw = buffer.ToArray();
        var number = Interlocked.Increment(ref _count);
        var (status, retryAfter) = _answer(number);
        var headers = context.Request.Headers;
        var signature = headers["X-OpenNVR-Signature"].FirstOrDefault();
        _received.Enqueue(new ReceivedWebhook(
            JsonNode.Parse(raw)!.AsObject(),
            Encoding.UTF8.GetString(raw),
            signature,
            headers["X-OpenNVR-Timestamp"].FirstOrDefault(),
            headers["X-OpenNVR-Delivery"].FirstOrDefault(),
            headers["X-OpenNVR-Event"].FirstOrDefault(),
            Verify(raw, _secret, signature),
            status,
            _clock.Elapsed));
        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }
    }
}
