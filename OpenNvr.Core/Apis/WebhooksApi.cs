using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Integrations.Webhooks;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Apis;

/// <summary>
/// Webhooks (admin): register <c>{url, secret, event_types?, camera_ids?}</c>, list, delete, re-enable, send a test
/// delivery, read a hook's delivery log. Deliveries are signed (<c>X-OpenNVR-Signature</c>, docs/integrations.md).
/// </summary>
public static class WebhooksApi
{
    public const int DefaultDeliveriesLimit = 50;
    public const int MaxDeliveriesLimit = 200;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/webhooks").WithTags("Webhooks")
            .RequireAuthorization(AuthPolicies.Admin)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/", ListAsync).WithName("listWebhooks").WithSummary("Every webhook (secrets are never shown)");
        api.MapPost("/", CreateAsync).WithName("createWebhook")
            .WithSummary("Registers a webhook: matching events are POSTed to url, signed with secret");
        api.MapGet("/{id:int}", GetAsync).WithName("getWebhook").WithSummary("One webhook");
        api.MapDelete("/{id:int}", DeleteAsync).WithName("deleteWebhook").WithSummary("Removes a webhook with its queue and delivery log");
        api.MapPost("/{id:int}/enable", EnableAsync).WithName("enableWebhook")
            .WithSummary("Enables a webhook again (after it was disabled for failing) and resets its failure count");
        api.MapPost("/{id:int}/test", TestAsync).WithName("testWebhook")
            .WithSummary("Queues a signed test delivery; its result appears in the delivery log");
        api.MapGet("/{id:int}/deliveries", DeliveriesAsync).WithName("listWebhookDeliveries")
            .WithSummary("The webhook's delivery log, newest first, with every attempt; page with before_id = next_before_id");
        return app;
    }

    private static async Task<Ok<WebhookListResponse>> ListAsync(NvrDbContext db, CancellationToken ct)
    {
        var hooks = await db.Webhooks.AsNoTracking().OrderBy(h => h.Id).ToListAsync(ct);
        return TypedResults.Ok(new WebhookListResponse(hooks.Select(WebhookDto.From).ToList(), hooks.Count));
    }

    private static async Task<Results<Ok<WebhookDto>, NotFoundProblem>> GetAsync(int id, NvrDbContext db, CancellationToken ct) =>
        await db.Webhooks.AsNoTracking().SingleOrDefaultAsync(h => h.Id == id, ct) is { } hook
            ? TypedResults.Ok(WebhookDto.From(hook))
            : NotFound(id);

    private static async Task<Results<Created<WebhookDto>, BadRequestProblem, ConflictProblem>> CreateAsync(
        WebhookCreateRequest request, HttpContext http, NvrDbContext db, WebhookUrlPolicy urls, WebhookSecretProtector secrets,
        WebhookQueue queue, IOptions<WebhookOptions> options, TimeProvider clock, CancellationToken ct)
    {
        if (await urls.CheckAsync(request.Url, ct) is { } urlProblem)
        {
            return BadRequest(urlProblem);
        }

        var cameraIds = (request.CameraIds ?? []).Distinct().Order().ToList();
        if (cameraIds.Count > 0)
        {
            var known = await db.Cameras.Where(c => cameraIds.Contains(c.Id)).Select(c => c.Id).ToListAsync(ct);
            if (cameraIds.Except(known).FirstOrDefault() is var unknown and > 0)
            {
                return BadRequest($"camera_ids: camera {unknown} does not exist.");
            }
        }

        if (await db.Webhooks.CountAsync(ct) >= options.Value.MaxWebhooks)
        {
            return new ConflictProblem($"At most {options.Value.MaxWebhooks} webhooks (Webhooks:MaxWebhooks); delete one first.");
        }

        var now = clock.GetUtcNow();
        var hook = new Webhook
        {
            Url = request.Url,
            SecretProtected = secrets.Protect(request.Secret),
            EventTypes = (request.EventTypes ?? []).Distinct(StringComparer.Ordinal).ToList(),
            CameraIds = cameraIds,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Webhooks.Add(hook);
        await db.SaveChangesAsync(ct);
        db.Audit(http, "webhook.create", "webhook", hook.Id, new { url = hook.Url, event_types = hook.EventTypes, camera_ids = hook.CameraIds });
        await db.SaveChangesAsync(ct);
        queue.HooksChanged();
        return TypedResults.Created($"/api/v1/webhooks/{hook.Id}", WebhookDto.From(hook));
    }

    private static async Task<Results<NoContent, NotFoundProblem>> DeleteAsync(int id, HttpContext http, NvrDbContext db, WebhookQueue queue,
        CancellationToken ct)
    {
        var hook = await db.Webhooks.SingleOrDefaultAsync(h => h.Id == id, ct);
        if (hook is null)
        {
            return NotFound(id);
        }

        db.Webhooks.Remove(hook);
        db.Audit(http, "webhook.delete", "webhook", id, new { url = hook.Url });
        await db.SaveChangesAsync(ct);
        queue.HooksChanged();
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<WebhookDto>, NotFoundProblem>> EnableAsync(int id, HttpContext http, NvrDbContext db,
        WebhookQueue queue, TimeProvider clock, CancellationToken ct)
    {
        var hook = await db.Webhooks.SingleOrDefaultAsync(h => h.Id == id, ct);
        if (hook is null)
        {
            return NotFound(id);
        }

        hook.Enabled = true;
        hook.DisabledReason = null;
        hook.DisabledAt = null;
        hook.ConsecutiveFailures = 0;
        hook.UpdatedAt = clock.GetUtcNow();
        db.Audit(http, "webhook.enable", "webhook", id);
        await db.SaveChangesAsync(ct);
        queue.HooksChanged();
        return TypedResults.Ok(WebhookDto.From(hook));
    }

    private static async Task<Results<Accepted<WebhookTestResponse>, NotFoundProblem, ConflictProblem>> TestAsync(int id, NvrDbContext db, WebhookQueue queue,
        CancellationToken ct)
    {
        var hook = await db.Webhooks.AsNoTracking().SingleOrDefaultAsync(h => h.Id == id, ct);
        if (hook is null)
        {
            return NotFound(id);
        }

        if (!hook.Enabled)
        {
            return new ConflictProblem($"Webhook {id} is disabled ({hook.DisabledReason}); enable it first (POST /api/v1/webhooks/{id}/enable).");
        }

        var deliveryId = await queue.EnqueueTestAsync(db, id, ct);
        return TypedResults.Accepted($"/api/v1/webhooks/{id}/deliveries", new WebhookTestResponse(id, deliveryId, WebhookDeliveryStates.Pending));
    }

    private static async Task<Results<Ok<WebhookDeliveriesResponse>, BadRequestProblem, NotFoundProblem>> DeliveriesAsync(
        int id, NvrDbContext db, CancellationToken ct,
        [FromQuery(Name = "limit")] int? limit = null,
        [FromQuery(Name = "before_id")] long? beforeId = null)
    {
        if (limit is < 1 or > MaxDeliveriesLimit)
        {
            return BadRequest($"limit must be between 1 and {MaxDeliveriesLimit}.");
        }

        if (!await db.Webhooks.AnyAsync(h => h.Id == id, ct))
        {
            return NotFound(id);
        }

        var take = limit ?? DefaultDeliveriesLimit;
        var deliveries = db.WebhookDeliveries.AsNoTracking().Include(d => d.AttemptLog).Where(d => d.WebhookId == id);
        if (beforeId is { } before)
        {
            deliveries = deliveries.Where(d => d.Id < before);
        }

        var page = await deliveries.OrderByDescending(d => d.Id).Take(take + 1).AsSplitQuery().ToListAsync(ct);
        long? next = page.Count > take ? page[take - 1].Id : null;
        if (page.Count > take)
        {
            page.RemoveAt(take);
        }

        return TypedResults.Ok(new WebhookDeliveriesResponse(id, page.Select(WebhookDeliveryDto.From).ToList(), page.Count, next));
    }

    private static NotFoundProblem NotFound(int id) => new($"Webhook {id} does not exist.");

    private static BadRequestProblem BadRequest(string detail) => new(detail);
}
