using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Cameras;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Integrations;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Apis;

public static class CamerasApi
{
    public static IEndpointRouteBuilder MapCamerasApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/cameras").WithTags("Cameras").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapGet("/", ListAsync).WithName("listCameras").WithSummary("Cameras the caller may see (credentials masked)");
        api.MapGet("/{id:int}", GetAsync).WithName("getCamera").WithSummary("One camera");
        api.MapPost("/", CreateAsync).WithName("createCamera").RequireAuthorization(AuthPolicies.Admin)
            .WithSummary("Adds a camera (admin)").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPut("/{id:int}", UpdateAsync).WithName("updateCamera").RequireAuthorization(AuthPolicies.Admin)
            .WithSummary("Changes a camera; absent fields keep their values (admin)").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapDelete("/{id:int}", DeleteAsync).WithName("deleteCamera").RequireAuthorization(AuthPolicies.Admin)
            .WithSummary("Deletes a camera: it stops recording and disappears from lists; its events and recordings stay, readable by admins (admin)")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapGet("/{id:int}/policies", GetPoliciesAsync).WithName("getCameraPolicies").WithSummary("The camera's AI policies");
        api.MapPut("/{id:int}/policies", PutPoliciesAsync).WithName("replaceCameraPolicies").RequireAuthorization(AuthPolicies.Operator)
            .WithSummary("Replaces the camera's AI policies (admin, or operator with a grant)").ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    private static IQueryable<Camera> Visible(NvrDbContext db, HttpContext http)
    {
        var cameras = db.Cameras.AsNoTracking().Include(c => c.AiPolicies).AsQueryable();
        return db.VisibleCameraIds(http.User) is { } visible ? cameras.Where(c => visible.Contains(c.Id)) : cameras;
    }

    private static async Task<Dictionary<int, string>> LeaseHoldersAsync(NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        return await db.RecorderLeases.AsNoTracking().Where(l => l.ExpiresAt > now).ToDictionaryAsync(l => l.CameraId, l => l.RecorderId, ct);
    }

    private static async Task<Ok<CameraListResponse>> ListAsync(HttpContext http, NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var cameras = await Visible(db, http).OrderBy(c => c.Id).ToListAsync(ct);
        var holders = await LeaseHoldersAsync(db, clock, ct);
        return TypedResults.Ok(new CameraListResponse(cameras.Select(c => CameraDto.From(c, holders.GetValueOrDefault(c.Id))).ToList(), cameras.Count));
    }

    private static async Task<Results<Ok<CameraDto>, NotFoundProblem>> GetAsync(int id, HttpContext http, NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var camera = await Visible(db, http).SingleOrDefaultAsync(c => c.Id == id, ct);
        if (camera is null)
        {
            return Problems.NoSuchCamera(id);
        }

        var holders = await LeaseHoldersAsync(db, clock, ct);
        return TypedResults.Ok(CameraDto.From(camera, holders.GetValueOrDefault(id)));
    }

    private static async Task<Results<Created<CameraDto>, BadRequestProblem>> CreateAsync(CameraWriteRequest request, HttpContext http, NvrDbContext db,
        CameraCredentialProtector protector, IOptions<CameraOptions> options, InferenceTaskCatalog catalog, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.RtspUrl is null)
        {
            return new BadRequestProblem("name and rtsp_url are required.");
        }

        var now = clock.GetUtcNow();
        var camera = new Camera { Name = "", StreamUrl = "", CreatedAt = now };
        if (Apply(request, camera, protector, options.Value) is { } problem)
        {
            return new BadRequestProblem(problem);
        }

        if (await CheckTasksAsync(request.AiPolicies, catalog, http, ct) is { } taskProblem)
        {
            return taskProblem;
        }

        camera.UpdatedAt = now;
        db.Cameras.Add(camera);
        await db.SaveChangesAsync(ct);
        db.Audit(http, "camera.create", "camera", camera.Id, new { camera.Name, rtsp_url = StreamUrl.Mask(camera.StreamUrl, camera.StreamCredentialsProtected is not null) });
        await db.SaveChangesAsync(ct);
        http.RequestServices.GetRequiredService<IntegrationEvents>().CameraSaved(camera.Id, camera.Name, camera.RecordingState);
        return TypedResults.Created($"/api/v1/cameras/{camera.Id}", CameraDto.From(camera, null));
    }

    private static async Task<Results<Ok<CameraDto>, BadRequestProblem, NotFoundProblem>> UpdateAsync(int id, CameraWriteRequest request, HttpContext http, NvrDbContext db,
        CameraCredentialProtector protector, IOptions<CameraOptions> options, InferenceTaskCatalog catalog, TimeProvider clock, CancellationToken ct)
    {
        var camera = await db.Cameras.Include(c => c.AiPolicies).SingleOrDefaultAsync(c => c.Id == id, ct);
        if (camera is null)
        {
            return Problems.NoSuchCamera(id);
        }

        var hadCredentials = camera.StreamCredentialsProtected is not null;
        if (Apply(request, camera, protector, options.Value) is { } problem)
        {
            return new BadRequestProblem(problem);
        }

        if (await CheckTasksAsync(request.AiPolicies, catalog, http, ct) is { } taskProblem)
        {
            return taskProblem;
        }

        camera.UpdatedAt = clock.GetUtcNow();
        db.Audit(http, "camera.update", "camera", id, new
        {
            rtsp_url = request.RtspUrl is null ? null : StreamUrl.Mask(camera.StreamUrl, camera.StreamCredentialsProtected is not null),
            credentials_dropped = hadCredentials && camera.StreamCredentialsProtected is null,
            fields = new[]
            {
                request.Name is null ? null : "name", request.RtspUrl is null ? null : "rtsp_url", request.SubStreamUrl is null ? null : "sub_stream_url",
                request.Username is null && request.Password is null ? null : "credentials", request.IsActive is null ? null : "is_active",
                request.RecordingEnabled is null ? null : "recording_enabled", request.RetentionDays is null ? null : "retention_days",
                request.StorageQuotaBytes is null ? null : "storage_quota_bytes", request.AiPolicies is null ? null : "ai_policies",
            }.OfType<string>(),
        });
        await db.SaveChangesAsync(ct);
        http.RequestServices.GetRequiredService<IntegrationEvents>().CameraSaved(camera.Id, camera.Name, camera.RecordingState);
        var holders = await LeaseHoldersAsync(db, clock, ct);
        return TypedResults.Ok(CameraDto.From(camera, holders.GetValueOrDefault(id)));
    }

    /// <summary>
    /// Policy tasks must be tasks Inference offers (<c>/capabilities</c>). When Inference cannot be asked, known task
    /// names are accepted and the answer carries a <c>Warning</c> header saying so.
    /// </summary>
    private static async Task<BadRequestProblem?> CheckTasksAsync(IReadOnlyList<AiPolicyDto>? policies, InferenceTaskCatalog catalog, HttpContext http, CancellationToken ct)
    {
        if (policies is null)
        {
            return null;
        }

        var check = await catalog.CheckAsync(policies.Select(p => p.Task).ToList(), ct);
        if (check.Problem is not null)
        {
            return new BadRequestProblem(check.Problem);
        }

        if (check.Warning is not null)
        {
            http.Response.Headers.Append("Warning", $"299 opennvr-core \"{check.Warning.Replace('"', '\'')}\"");
        }

        return null;
    }

    /// <summary>Validates and applies a write request; returns what is wrong, or null.</summary>
    private static string? Apply(CameraWriteRequest request, Camera camera, CameraCredentialProtector protector, CameraOptions options)
    {
        if (request.Name is not null)
        {
            var name = request.Name.Trim();
            if (name.Length is 0 or > 100 || name.Any(char.IsControl))
            {
                return "name must be 1-100 printable characters.";
            }

            camera.Name = name;
        }

        if (request.Username?.Contains(':') == true)
        {
            return "username must not contain ':'.";
        }

        if (request.RtspUrl is not null)
        {
            var main = StreamUrl.Parse(request.RtspUrl, options.AllowFileSources, "rtsp_url", out var error);
            if (main is null)
            {
                return error;
            }

            var previousUrl = camera.StreamUrl;
            camera.StreamUrl = main.UrlWithoutCredentials;
            if (!main.KeepsStoredCredentials)
            {
                camera.StreamCredentialsProtected = protector.Protect(main.Credentials);
            }
            else if (!StreamUrl.SameEndpoint(previousUrl, main.UrlWithoutCredentials))
            {
                // A masked URL pointing elsewhere must not carry the stored password to the new host.
                camera.StreamCredentialsProtected = null;
            }
        }

        if (request.SubStreamUrl is not null)
        {
            if (request.SubStreamUrl.Length == 0)
            {
                camera.SubStreamUrl = null;
                camera.SubStreamCredentialsProtected = null;
            }
            else
            {
                var sub = StreamUrl.Parse(request.SubStreamUrl, options.AllowFileSources, "sub_stream_url", out var error);
                if (sub is null)
                {
                    return error;
                }

                var previousSubUrl = camera.SubStreamUrl;
                camera.SubStreamUrl = sub.UrlWithoutCredentials;
                if (!sub.KeepsStoredCredentials)
                {
                    camera.SubStreamCredentialsProtected = protector.Protect(sub.Credentials);
                }
                else if (!StreamUrl.SameEndpoint(previousSubUrl, sub.UrlWithoutCredentials))
                {
                    camera.SubStreamCredentialsProtected = null;
                }
            }
        }

        if (request.Username is not null || request.Password is not null)
        {
            // Separate fields apply to the main stream, and to the sub-stream unless its URL carried its own.
            var current = protector.Unprotect(camera.StreamCredentialsProtected);
            var credentials = new StreamCredentials(request.Username ?? current?.Username ?? "", request.Password ?? current?.Password ?? "");
            var protectedCredentials = credentials.Username.Length == 0 && credentials.Password.Length == 0 ? null : protector.Protect(credentials);
            camera.StreamCredentialsProtected = protectedCredentials;
            if (camera.SubStreamUrl is not null && (request.SubStreamUrl is null || camera.SubStreamCredentialsProtected is null))
            {
                camera.SubStreamCredentialsProtected = protectedCredentials;
            }
        }

        if (camera.StreamUrl.StartsWith("file:", StringComparison.Ordinal) && camera.StreamCredentialsProtected is not null)
        {
            return "file:// sources take no credentials.";
        }

        camera.IsActive = request.IsActive ?? camera.IsActive;
        camera.RecordingEnabled = request.RecordingEnabled ?? camera.RecordingEnabled;
        camera.RetentionDays = request.RetentionDays ?? camera.RetentionDays;
        if (request.StorageQuotaBytes is not null)
        {
            camera.StorageQuotaBytes = request.StorageQuotaBytes == 0 ? null : request.StorageQuotaBytes;
        }

        if (request.AiPolicies is not null)
        {
            camera.AiPolicies.Clear();
            camera.AiPolicies.AddRange(request.AiPolicies.Select(p => p.ToEntity()));
        }

        return null;
    }

    /// <summary>
    /// Soft delete: events are stored permanently (the reference) and the recordings index is their context, so the
    /// camera row stays, marked deleted (hidden by the query filter), inactive and not recording; its lease and grants go,
    /// so the Recorder stops it at its next heartbeat and only admins still read its history.
    /// </summary>
    private static async Task<Results<NoContent, NotFoundProblem>> DeleteAsync(int id, HttpContext http, NvrDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var camera = await db.Cameras.SingleOrDefaultAsync(c => c.Id == id, ct);
        if (camera is null)
        {
            return Problems.NoSuchCamera(id);
        }

        var now = clock.GetUtcNow();
        camera.DeletedAt = now;
        camera.UpdatedAt = now;
        camera.IsActive = false;
        camera.RecordingEnabled = false;
        db.Audit(http, "camera.delete", "camera", id, new { camera.Name });
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await db.CameraGrants.Where(g => g.CameraId == id).ExecuteDeleteAsync(ct);
            await db.RecorderLeases.Where(l => l.CameraId == id).ExecuteDeleteAsync(ct);
            // Zones and lines describe a live camera's scene; its occupancy series and events stay as history.
            await db.Zones.Where(z => z.CameraId == id).ExecuteDeleteAsync(ct);
            await db.CountingLines.Where(l => l.CameraId == id).ExecuteDeleteAsync(ct);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        });
        http.RequestServices.GetRequiredService<IntegrationEvents>().CameraDeleted(id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<AiPoliciesResponse>, NotFoundProblem>> GetPoliciesAsync(int id, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        var camera = await Visible(db, http).SingleOrDefaultAsync(c => c.Id == id, ct);
        return camera is null
            ? Problems.NoSuchCamera(id)
            : TypedResults.Ok(new AiPoliciesResponse(id, camera.AiPolicies.OrderBy(p => p.Id).Select(AiPolicyDto.From).ToList()));
    }

    private static async Task<Results<Ok<AiPoliciesResponse>, BadRequestProblem, NotFoundProblem>> PutPoliciesAsync(int id, AiPoliciesRequest request, HttpContext http, NvrDbContext db,
        InferenceTaskCatalog catalog, CancellationToken ct)
    {
        if (!await db.CanSeeCameraAsync(http.User, id, ct))
        {
            return Problems.NoSuchCamera(id);
        }

        if (request.AiPolicies is null)
        {
            return new BadRequestProblem("ai_policies is required (an empty list removes every policy).");
        }

        if (await CheckTasksAsync(request.AiPolicies, catalog, http, ct) is { } taskProblem)
        {
            return taskProblem;
        }

        var camera = await db.Cameras.Include(c => c.AiPolicies).SingleAsync(c => c.Id == id, ct);
        camera.AiPolicies.Clear();
        camera.AiPolicies.AddRange(request.AiPolicies.Select(p => p.ToEntity()));
        db.Audit(http, "camera.policies", "camera", id, new { tasks = request.AiPolicies.Select(p => p.Task) });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new AiPoliciesResponse(id, camera.AiPolicies.OrderBy(p => p.Id).Select(AiPolicyDto.From).ToList()));
    }
}
