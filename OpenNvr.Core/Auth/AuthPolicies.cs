namespace OpenNvr.Core.Auth;

/// <summary>Names of Core's authorization policies, authentication schemes and rate-limit policies.</summary>
public static class AuthPolicies
{
    /// <summary>Admins only (users, cameras, audit).</summary>
    public const string Admin = "admin";

    /// <summary>Admins and operators (AI policies, evidence, faces).</summary>
    public const string Operator = "operator";

    /// <summary>Media routes: an access token in the header or a media token in <c>?token=</c>.</summary>
    public const string Media = "media";

    /// <summary>The scheme that reads a media token from the query string.</summary>
    public const string MediaTokenScheme = "MediaToken";

    /// <summary>The per-client rate limit of login and refresh.</summary>
    public const string LoginRateLimit = "login";
}
