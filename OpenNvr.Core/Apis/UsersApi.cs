using Microsoft.AspNetCore.Http.HttpResults;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using OpenNvr.Core.Audit;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Apis;

public sealed record CreateUserRequest(string Username, [ValidPassword] string Password,
    [property: AllowedValues(Roles.Admin, Roles.Operator, Roles.Viewer, ErrorMessage = UsersApi.RoleMessage)] string Role, IReadOnlyList<int>? CameraIds = null, bool IsActive = true);

/// <summary>Absent fields keep their values. A new password must follow the policy; changing it unlocks the account.</summary>
public sealed record UpdateUserRequest([ValidPassword] string? Password = null,
    [property: AllowedValues(Roles.Admin, Roles.Operator, Roles.Viewer, null, ErrorMessage = UsersApi.RoleMessage)] string? Role = null, bool? IsActive = null, IReadOnlyList<int>? CameraIds = null);

public sealed record GrantsRequest(IReadOnlyList<int> CameraIds);

public sealed record UserListResponse(IReadOnlyList<UserDto> Users, int Total);

/// <summary>User administration (admin only). Grants give operators and viewers their cameras.</summary>
public static class UsersApi
{
    public const string RoleMessage = "role must be one of admin, operator, viewer.";

    private const int MaxGrants = 10_000;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/users").WithTags("Users")
            .RequireAuthorization(AuthPolicies.Admin)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/", ListAsync).WithName("listUsers").WithSummary("Every user with role and grants");
        api.MapGet("/{id:int}", GetAsync).WithName("getUser").WithSummary("One user");
        api.MapPost("/", CreateAsync).WithName("createUser").WithSummary("Adds a user (password of at least 12 characters)");
        api.MapPut("/{id:int}", UpdateAsync).WithName("updateUser").WithSummary("Changes password, role, active flag or grants");
        api.MapPut("/{id:int}/grants", PutGrantsAsync).WithName("replaceUserGrants").WithSummary("Replaces the cameras the user may see");
        api.MapDelete("/{id:int}", DeleteAsync).WithName("deleteUser").WithSummary("Removes a user (never the last active admin)");
        return app;
    }

    private static async Task<Ok<UserListResponse>> ListAsync(NvrDbContext db, CancellationToken ct)
    {
        var users = await db.Users.AsNoTracking().Include(u => u.CameraGrants).OrderBy(u => u.Id).ToListAsync(ct);
        return TypedResults.Ok(new UserListResponse(users.Select(UserDto.From).ToList(), users.Count));
    }

    private static async Task<Results<Ok<UserDto>, NotFoundProblem>> GetAsync(int id, NvrDbContext db, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().Include(u => u.CameraGrants).SingleOrDefaultAsync(u => u.Id == id, ct);
        return user is null ? new NotFoundProblem($"User {id} does not exist.") : TypedResults.Ok(UserDto.From(user));
    }

    private static async Task<Results<Created<UserDto>, BadRequestProblem, ConflictProblem>> CreateAsync(CreateUserRequest request, HttpContext http, NvrDbContext db,
        IPasswordHasher<User> hasher, TimeProvider clock, CancellationToken ct)
    {
        var username = UsernamePolicy.Normalize(request.Username ?? "");
        if (UsernamePolicy.Check(username) is { } usernameProblem)
        {
            return new BadRequestProblem(usernameProblem);
        }

        if (await CheckCamerasAsync(db, request.CameraIds, ct) is { } grantProblem)
        {
            return grantProblem;
        }

        var user = new User
        {
            Username = username,
            Role = request.Role,
            IsActive = request.IsActive,
            PasswordHash = "",
            CreatedAt = clock.GetUtcNow(),
            CameraGrants = (request.CameraIds ?? []).Distinct().Select(c => new CameraGrant { CameraId = c }).ToList(),
        };
        user.PasswordHash = hasher.HashPassword(user, request.Password);
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return new ConflictProblem($"A user named '{username}' already exists.");
        }

        db.Audit(http, "user.create", "user", user.Id, new { username, role = user.Role, camera_ids = user.CameraGrants.Select(g => g.CameraId) });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/users/{user.Id}", UserDto.From(user));
    }

    private static async Task<Results<Ok<UserDto>, BadRequestProblem, NotFoundProblem, ConflictProblem>> UpdateAsync(int id, UpdateUserRequest request, HttpContext http, NvrDbContext db,
        IPasswordHasher<User> hasher, TimeProvider clock, CancellationToken ct)
    {
        var user = await db.Users.Include(u => u.CameraGrants).SingleOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return new NotFoundProblem($"User {id} does not exist.");
        }

        if (await CheckCamerasAsync(db, request.CameraIds, ct) is { } grantProblem)
        {
            return grantProblem;
        }

        var losesAdmin = user.Role == Roles.Admin && user.IsActive &&
                         (request.Role is not null && request.Role != Roles.Admin || request.IsActive == false);
        if (losesAdmin && !await db.Users.AnyAsync(u => u.Id != id && u.Role == Roles.Admin && u.IsActive, ct))
        {
            return new ConflictProblem("This is the last active admin; make another user admin first.");
        }

        if (request.Password is not null)
        {
            user.PasswordHash = hasher.HashPassword(user, request.Password);
            user.FailedLoginCount = 0;
            user.LockedUntil = null;
        }

        user.Role = request.Role ?? user.Role;
        user.IsActive = request.IsActive ?? user.IsActive;
        if (request.CameraIds is not null)
        {
            ReplaceGrants(user, request.CameraIds);
        }

        if (request.Password is not null || request.IsActive == false || losesAdmin)
        {
            // A changed password or a disabled account ends every session that could be refreshed.
            var now = clock.GetUtcNow();
            await db.RefreshTokens.Where(t => t.UserId == id && t.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        }

        db.Audit(http, "user.update", "user", id, new
        {
            password_changed = request.Password is not null,
            role = request.Role,
            is_active = request.IsActive,
            camera_ids = request.CameraIds,
        });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(UserDto.From(user));
    }

    private static async Task<Results<Ok<UserDto>, BadRequestProblem, NotFoundProblem>> PutGrantsAsync(int id, GrantsRequest request, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        if (request.CameraIds is null)
        {
            return new BadRequestProblem("camera_ids is required (an empty list removes every grant).");
        }

        var user = await db.Users.Include(u => u.CameraGrants).SingleOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return new NotFoundProblem($"User {id} does not exist.");
        }

        if (await CheckCamerasAsync(db, request.CameraIds, ct) is { } grantProblem)
        {
            return grantProblem;
        }

        ReplaceGrants(user, request.CameraIds);
        db.Audit(http, "user.grants", "user", id, new { camera_ids = request.CameraIds });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(UserDto.From(user));
    }

    private static void ReplaceGrants(User user, IReadOnlyList<int> cameraIds)
    {
        var wanted = cameraIds.ToHashSet();
        user.CameraGrants.RemoveAll(g => !wanted.Contains(g.CameraId));
        foreach (var cameraId in wanted.Where(c => user.CameraGrants.All(g => g.CameraId != c)))
        {
            user.CameraGrants.Add(new CameraGrant { UserId = user.Id, CameraId = cameraId });
        }
    }

    private static async Task<BadRequestProblem?> CheckCamerasAsync(NvrDbContext db, IReadOnlyList<int>? cameraIds, CancellationToken ct)
    {
        if (cameraIds is null || cameraIds.Count == 0)
        {
            return null;
        }

        if (cameraIds.Count > MaxGrants)
        {
            return new BadRequestProblem($"camera_ids may hold at most {MaxGrants} cameras.");
        }

        var ids = cameraIds.Distinct().ToArray();
        var known = await db.Cameras.Where(c => ids.Contains(c.Id)).Select(c => c.Id).ToListAsync(ct);
        return known.Count == ids.Length ? null : new BadRequestProblem($"camera_ids: camera {ids.Except(known).First()} does not exist.");
    }

    private static async Task<Results<NoContent, NotFoundProblem, ConflictProblem>> DeleteAsync(int id, HttpContext http, NvrDbContext db, CancellationToken ct)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return new NotFoundProblem($"User {id} does not exist.");
        }

        if (user.Role == Roles.Admin && user.IsActive && !await db.Users.AnyAsync(u => u.Id != id && u.Role == Roles.Admin && u.IsActive, ct))
        {
            return new ConflictProblem("This is the last active admin and cannot be deleted.");
        }

        db.Users.Remove(user);
        db.Audit(http, "user.delete", "user", id, new { user.Username });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }
}
