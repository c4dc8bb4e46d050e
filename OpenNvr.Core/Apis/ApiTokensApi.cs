using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Auth.ApiTokens;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Apis;

/// <summary><c>camera_ids</c> absent: every camera the creator may see.</summary>
public sealed record CreateApiTokenRequest(
    [property: Required, StringLength(ApiTokenService.NameMaxLength, MinimumLength = 1)] string Name,
    [property: Required, AllowedValues(Roles.Admin, Roles.Operator, Roles.Viewer, ErrorMessage = UsersApi.RoleMessage)] string Role,
    IReadOnlyList<int>? CameraIds = null,
    [property: Range(1, 3650)] int ExpiresInDays = 90);

/// <summary>A token as listed; <c>token</c> is only set in the answer to its creation.</summary>
public sealed record ApiTokenDto(
    long Id,
    string Name,
    string Role,
    IReadOnlyList<int>? CameraIds,
    string Prefix,
    int UserId,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    string? Token = null)
{
    public static ApiTokenDto From(ApiTokenInfo t, string? token = null) =>
        new(t.Id, t.Name, t.Role, t.CameraIds, t.Prefix, t.UserId, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt, token);
}

public sealed record ApiTokenListResponse(IReadOnlyList<ApiTokenDto> Tokens, int Total);

/// <summary>
/// API tokens for REST clients (<c>Authorization: Bearer onvr_…</c>): created after a password login, never with more
/// rights than the creator, listed with <c>last_used_at</c>, revoked at once. Every change is audited.
/// </summary>
public static class ApiTokensApi
{
    public static IEndpointRouteBuilder MapApiTokensApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/auth/api-tokens").WithTags("Auth").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        api.MapPost("/", CreateAsync).WithName("createApiToken")
            .WithSummary("Creates an API token (role and cameras at most the caller's); the token is in this answer only");
        api.MapGet("/", ListAsync).WithName("listApiTokens")
            .WithSummary("The caller's API tokens, newest first (admins: everyone's with all=true); never the tokens themselves");
        api.MapDelete("/{id:long}", RevokeAsync).WithName("revokeApiToken")
            .WithSummary("Revokes an API token of the caller (admins: anyone's); its next use is 401");
        return app;
    }

    private static async Task<Results<Created<ApiTokenDto>, BadRequestProblem>> CreateAsync(CreateApiTokenRequest request, HttpContext http, NvrDbContext db,
        ApiTokenService tokens, CancellationToken ct)
    {
        var creation = await tokens.CreateAsync(db, http.User, new ApiTokenSpec(request.Name, request.Role, request.CameraIds, request.ExpiresInDays), ct);
        if (creation is not ApiTokenCreation.Created created)
        {
            return new BadRequestProblem(((ApiTokenCreation.Refused)creation).Detail);
        }

        var info = created.Token.Info;
        db.Audit(http, "auth.api_token_created", "api_token", info.Id, new { info.Name, info.Role, camera_ids = info.CameraIds, expires_at = info.ExpiresAt });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/auth/api-tokens/{info.Id}", ApiTokenDto.From(info, created.Token.Token));
    }

    private static async Task<Ok<ApiTokenListResponse>> ListAsync(HttpContext http, NvrDbContext db, ApiTokenService tokens, bool? all, CancellationToken ct)
    {
        var list = await tokens.ListAsync(db, http.User, all == true, ct);
        return TypedResults.Ok(new ApiTokenListResponse(list.Select(t => ApiTokenDto.From(t)).ToList(), list.Count));
    }

    private static async Task<Results<NoContent, NotFoundProblem>> RevokeAsync(long id, HttpContext http, NvrDbContext db, ApiTokenService tokens, CancellationToken ct)
    {
        var revoked = await tokens.RevokeAsync(db, http.User, id, ct);
        if (revoked is null)
        {
            return new NotFoundProblem($"API token {id} does not exist.");
        }

        db.Audit(http, "auth.api_token_revoked", "api_token", id, new { revoked.Name, owner = revoked.UserId });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
