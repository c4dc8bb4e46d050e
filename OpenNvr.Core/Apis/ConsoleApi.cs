using Microsoft.AspNetCore.Http.HttpResults;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Cameras;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.WebConsole;

namespace OpenNvr.Core.Apis;

/// <summary>
/// <c>rtsp_url</c> to test; <c>username</c>/<c>password</c> as for a camera. A masked URL read back from the API
/// (<c>rtsp://***:***@host/...</c>) is tested with the stored credentials of <c>camera_id</c>.
/// </summary>
public sealed record StreamTestRequest(string? RtspUrl, [property: StreamCredential] string? Username = null,
    [property: StreamCredential] string? Password = null, int? CameraId = null);

/// <summary>The Core routes that exist for the web console: live frames and the camera URL test.</summary>
public static class ConsoleApi
{
    public static IEndpointRouteBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        var cameras = app.MapGroup("/api/v1/cameras").WithTags("Cameras").ProducesProblem(StatusCodes.Status401Unauthorized);

        cameras.MapGet("/{id:int}/frame.jpg", FrameAsync).WithName("getCameraFrame").RequireAuthorization(AuthPolicies.Media)
            .WithSummary("The camera's latest decoded frame (JPEG), read from the Recorder holding its lease; Bearer header or ?token=<media token>")
            .Produces<Stream>(StatusCodes.Status200OK, "image/jpeg");

        cameras.MapPost("/test-url", TestUrlAsync).WithName("testCameraUrl").RequireAuthorization(AuthPolicies.Admin)
            .WithSummary("Validates a camera URL and probes it once with ffprobe (short timeout) (admin)")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    private static async Task<Results<FileContentHttpResult, NotFoundProblem, BadGatewayProblem>> FrameAsync(int id, HttpContext http, NvrDbContext db, RecorderFrameClient recorders,
        TimeProvider clock, ILogger<RecorderFrameClient> logger, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return Problems.NoSuchCamera(id);
        }

        using var activity = WebConsoleTelemetry.ActivitySource.StartActivity("console.frame");
        activity?.SetTag("camera.id", id);
        var now = clock.GetUtcNow();
        var holder = await (
                from lease in db.RecorderLeases.AsNoTracking()
                join recorder in db.Recorders.AsNoTracking() on lease.RecorderId equals recorder.Id
                where lease.CameraId == id && lease.ExpiresAt > now
                select new { recorder.Id, recorder.BaseUrl })
            .SingleOrDefaultAsync(ct);
        if (holder is null)
        {
            WebConsoleTelemetry.FramesProxied.Add(1, new KeyValuePair<string, object?>("result", "no_recorder"));
            return new NotFoundProblem($"No recorder holds camera {id} now (disabled, not recording, or no Recorder is running), so there is no live frame.");
        }

        activity?.SetTag("recorder.id", holder.Id);
        switch (await recorders.GetLatestAsync(holder.BaseUrl, id, ct))
        {
            case FrameFetch.Frame frame:
                WebConsoleTelemetry.FramesProxied.Add(1, new KeyValuePair<string, object?>("result", "ok"));
                http.Response.Headers.CacheControl = "no-store";
                if (frame.LastModified is { } at)
                {
                    http.Response.Headers["X-Frame-Captured-At"] = at.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                return TypedResults.File(frame.Jpeg, "image/jpeg");
            case FrameFetch.NoFrame:
                WebConsoleTelemetry.FramesProxied.Add(1, new KeyValuePair<string, object?>("result", "no_frame"));
                return new NotFoundProblem($"Recorder {holder.Id} has not published a frame of camera {id} yet.");
            case FrameFetch.Unreachable unreachable:
                WebConsoleTelemetry.FramesProxied.Add(1, new KeyValuePair<string, object?>("result", "unreachable"));
                activity?.SetStatus(ActivityStatusCode.Error, unreachable.Reason);
                WebConsoleLog.RecorderUnreachable(logger, holder.Id, holder.BaseUrl, id, unreachable.Reason);
                return new BadGatewayProblem(
                    $"Recorder {holder.Id}, which holds camera {id}, did not deliver its frame ({unreachable.Reason}).");
            default:
                throw new UnreachableException();
        }
    }

    private static async Task<Results<Ok<StreamProbeResult>, BadRequestProblem, NotFoundProblem>> TestUrlAsync(StreamTestRequest request, HttpContext http, NvrDbContext db, CameraCredentialProtector protector,
        IOptions<CameraOptions> options, StreamProbe probe, ILogger<StreamProbe> logger, CancellationToken ct)
    {
        var parsed = StreamUrl.Parse(request.RtspUrl, options.Value.AllowFileSources, "rtsp_url", out var error);
        if (parsed is null)
        {
            return new BadRequestProblem(error!);
        }

        var credentials = parsed.Credentials;
        if (parsed.KeepsStoredCredentials)
        {
            if (request.CameraId is not { } cameraId)
            {
                return new BadRequestProblem("rtsp_url has masked credentials (***:***): send camera_id to test with the stored ones, or type them.");
            }

            var stored = await db.Cameras.AsNoTracking().Where(c => c.Id == cameraId)
                .Select(c => new { c.StreamUrl, c.StreamCredentialsProtected, c.SubStreamUrl, c.SubStreamCredentialsProtected }).SingleOrDefaultAsync(ct);
            if (stored is null)
            {
                return Problems.NoSuchCamera(cameraId);
            }

            // Stored credentials are only ever sent to the server they were typed for (scheme, host and port).
            if (StreamUrl.SameEndpoint(stored.StreamUrl, parsed.UrlWithoutCredentials))
            {
                credentials = protector.Unprotect(stored.StreamCredentialsProtected);
            }
            else if (StreamUrl.SameEndpoint(stored.SubStreamUrl, parsed.UrlWithoutCredentials))
            {
                credentials = protector.Unprotect(stored.SubStreamCredentialsProtected);
            }
            else
            {
                return new BadRequestProblem(
                    $"rtsp_url points to another server than camera {cameraId}'s stream: its stored credentials are not sent there; type them.");
            }
        }

        if (request.Username is not null || request.Password is not null)
        {
            credentials = new StreamCredentials(request.Username ?? credentials?.Username ?? "", request.Password ?? credentials?.Password ?? "");
        }

        using var activity = WebConsoleTelemetry.ActivitySource.StartActivity("console.stream_probe");
        var url = StreamUrl.WithCredentials(parsed.UrlWithoutCredentials, credentials);
        var secrets = credentials is null ? [] : new[] { credentials.Password, credentials.Username }.Where(s => s.Length >= 3).ToArray();
        var result = await probe.ProbeAsync(url, secrets, StreamProbe.DefaultTimeout, ct);
        WebConsoleTelemetry.StreamProbeDuration.Record(result.ElapsedMs, new KeyValuePair<string, object?>("ok", result.Ok));
        WebConsoleLog.StreamProbed(logger, StreamUrl.Mask(parsed.UrlWithoutCredentials, credentials is not null), result.Ok, result.ElapsedMs);
        activity?.SetTag("probe.ok", result.Ok);
        // A probe sends credentials to a server: who tested which URL (masked) with whose credentials is audited.
        db.Audit(http, "camera.test_url", "camera", request.CameraId?.ToString(System.Globalization.CultureInfo.InvariantCulture), new
        {
            rtsp_url = StreamUrl.Mask(parsed.UrlWithoutCredentials, credentials is not null),
            stored_credentials = parsed.KeepsStoredCredentials,
            ok = result.Ok,
        });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(result);
    }
}
