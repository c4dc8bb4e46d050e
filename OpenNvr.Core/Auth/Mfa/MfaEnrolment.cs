using Microsoft.Extensions.Options;
using OpenNvr.Core.Auth.UserCheck;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Auth.Mfa;

/// <summary>
/// <c>Auth:RequireMfaForAdmins</c>: an admin without two-factor login may only enrol (and see who they are, refresh,
/// log out) until they have; every other route answers 403 with <c>"mfa_enrollment_required": true</c>. Routes
/// carrying <see cref="AllowedBeforeEnrolment"/> stay open. The standing comes from the per-request user check's
/// cache, so the gate adds no database read.
/// </summary>
public sealed class MfaEnrolment
{
    public static readonly MfaEnrolment AllowedBeforeEnrolment = new();

    private MfaEnrolment()
    {
    }

    internal static async Task<bool> MustEnrolAsync(HttpContext http)
    {
        var user = http.User;
        if (user.Identity?.IsAuthenticated != true || !user.IsAdmin()
            || http.GetEndpoint()?.Metadata.GetMetadata<MfaEnrolment>() is not null
            || !http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.RequireMfaForAdmins
            || !int.TryParse(user.FindFirst(TokenClaims.Subject)?.Value, out var userId))
        {
            return false;
        }

        var (standing, _) = await http.RequestServices.GetRequiredService<UserStandingCache>()
            .GetAsync(userId, http.RequestServices.GetRequiredService<NvrDbContext>(), http.RequestAborted);
        return standing is { MfaEnabled: false };
    }
}
