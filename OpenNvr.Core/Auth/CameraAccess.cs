using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Auth;

/// <summary>
/// Per-camera visibility: admins see every camera; operators and viewers only the cameras granted to them; a media
/// token only its one camera; an API token limited to some cameras only those (within what its creator sees).
/// Callers answer 404 (never 403) for a camera the user cannot see, so that its existence does not leak. A deleted
/// camera (soft delete) loses its grants: only admins still see its history.
/// </summary>
public static class CameraAccess
{
    public static async Task<bool> CanSeeCameraAsync(this NvrDbContext db, ClaimsPrincipal user, int cameraId, CancellationToken ct)
    {
        if (user.MediaCamera() is { } mediaCamera && mediaCamera != cameraId)
        {
            return false;
        }

        if (user.TokenCameraScope() is { } scope && !scope.Contains(cameraId))
        {
            return false;
        }

        if (user.IsAdmin())
        {
            // Admins keep reading a deleted camera's history (recordings window, playlist, files); its grants are gone.
            return await db.CamerasWithDeleted.AnyAsync(c => c.Id == cameraId, ct);
        }

        var userId = user.UserId();
        return await db.CameraGrants.AnyAsync(g => g.UserId == userId && g.CameraId == cameraId, ct);
    }

    /// <summary>The ids a non-admin may see (as a sub-query), or null for an admin (no filter).</summary>
    public static IQueryable<int>? VisibleCameraIds(this NvrDbContext db, ClaimsPrincipal user)
    {
        var scope = user.TokenCameraScope()?.ToArray();
        if (user.IsAdmin())
        {
            return scope is null ? null : db.Cameras.Where(c => scope.Contains(c.Id)).Select(c => c.Id);
        }

        var userId = user.UserId();
        var granted = db.CameraGrants.Where(g => g.UserId == userId).Select(g => g.CameraId);
        return scope is null ? granted : granted.Where(id => scope.Contains(id));
    }
}
