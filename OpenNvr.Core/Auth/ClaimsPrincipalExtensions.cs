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
}
