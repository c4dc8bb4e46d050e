using System.Security.Claims;
using OpenNvr.Core.Model;

namespace OpenNvr.Core.Auth;

public static class TokenClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
    public const string Role = "role";

    /// <summary>On media tokens: the one camera whose media the token opens.</summary>
    public const string Camera = "cam";

    /// <summary>The user's security stamp when the token was issued (see <see cref="User.SecurityStamp"/>).</summary>
    public const string SecurityStamp = "sst";

    /// <summary>On API token principals: the token's id.</summary>
    public const string ApiToken = "tok";

    /// <summary>On API token principals limited to some cameras: one claim per camera id.</summary>
    public const string TokenCamera = "tcam";
}

public static class ClaimsPrincipalExtensions
{
    public static int UserId(this ClaimsPrincipal user) =>
        int.TryParse(user.FindFirstValue(TokenClaims.Subject), out var id) ? id : throw new InvalidOperationException("The principal has no numeric subject.");

    public static string UserName(this ClaimsPrincipal user) => user.FindFirstValue(TokenClaims.Name) ?? "";

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(Roles.Admin);

    /// <summary>The camera a media token is limited to, or null when the caller used a full access token.</summary>
    public static int? MediaCamera(this ClaimsPrincipal user) =>
        int.TryParse(user.FindFirstValue(TokenClaims.Camera), out var id) ? id : null;

    public static string? Role(this ClaimsPrincipal user) => user.FindFirstValue(TokenClaims.Role);

    public static string? SecurityStamp(this ClaimsPrincipal user) => user.FindFirstValue(TokenClaims.SecurityStamp);

    /// <summary>The API token the caller authenticated with, or null for a login's access or media token.</summary>
    public static long? ApiTokenId(this ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(TokenClaims.ApiToken), out var id) ? id : null;

    /// <summary>The cameras an API token is limited to, or null when it is not limited (grants still apply).</summary>
    public static IReadOnlySet<int>? TokenCameraScope(this ClaimsPrincipal user)
    {
        var claims = user.FindAll(TokenClaims.TokenCamera).ToList();
        return claims.Count == 0 ? null : claims.Select(c => int.TryParse(c.Value, out var id) ? id : -1).ToHashSet();
    }
}
