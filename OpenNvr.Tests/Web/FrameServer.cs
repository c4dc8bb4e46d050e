using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenNvr.Contracts.Frames;

namespace OpenNvr.Tests.Web;

/// <summary>
/// Serves <c>GET /frames/{camera}/latest.jpg</c> over real HTTP on 127.0.0.1 the way the Recorder does (feature/recorder,
/// not on main yet), cycling through real JPEGs so the live image changes, and only to callers that present the
/// internal key. Replace with the Recorder's own frames route once it has landed.
/// </summary>
public sealed class FrameServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, byte[][]> _frames;
    private long _served;
    private long _notFound;

    private FrameServer(WebApplication app, Dictionary<string, byte[][]> frames)
    {
        _app = app;
        _frames = frames;
    }

    public string BaseUrl { get; private set; } = "";

    public long Served => Interlocked.Read(ref _served);

    /// <summary>Requests for a frame this server has not published (a caller asked the wrong Recorder).</summary>
    public long NotFound => Interlocked.Read(ref _notFound);

    public int Unauthorized { get; private set; }

    /// <summary>Each camera (folder name) shows its frames in turn, switching every <paramref name="switchEvery"/>.</summary>
    public static async Task<FrameServer> StartAsync(string internalKey, Dictionary<string, byte[][]> frames, TimeSpan switchEvery)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FrameServer(app, frames);
        app.MapGet("/frames/{camera}/{file}", (string camera, string file, HttpContext http) =>
        {
            if (http.Request.Headers["X-Internal-Key"] != internalKey)
            {
                server.Unauthorized++;
                return Results.Problem(statusCode: 401, detail: "X-Internal-Key is missing or wrong.");
            }

            // Keys may be bare ids or camera_<id> folders: both name the same published folder, as on the Recorder.
            var images = server._frames.Where(f => FrameNames.PublishedFolder(f.Key) == FrameNames.PublishedFolder(camera)).Select(f => f.Value).FirstOrDefault();
            if (file != "latest.jpg" || images is null || images.Length == 0)
            {
                Interlocked.Increment(ref server._notFound);
                return Results.Problem(statusCode: 404, detail: $"No frame '{file}' has been published for camera '{camera}'.");
            }

            Interlocked.Increment(ref server._served);
            var index = (int)(Environment.TickCount64 / (long)switchEvery.TotalMilliseconds % images.Length);
            http.Response.Headers.CacheControl = "no-store";
            return Results.File(images[index], "image/jpeg");
        });
        await app.StartAsync();
        server.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
