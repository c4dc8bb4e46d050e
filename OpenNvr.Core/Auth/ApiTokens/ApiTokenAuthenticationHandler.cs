using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Auth.ApiTokens;

/// <summary>Accepts <c>Authorization: Bearer onvr_…</c>; refusals are 401 problems that say why.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var token = header[bearer.Length..].Trim();
        if (!ApiTokenService.LooksLikeApiToken(token))
        {
            return AuthenticateResult.NoResult();
        }

        if (token.Length > 128)
        {
            return AuthenticateResult.Fail("The API token is malformed.");
        }

        var db = Context.RequestServices.GetRequiredService<NvrDbContext>();
        var (principal, refusal) = await tokens.AuthenticateAsync(db, token, SchemeName, Context.RequestAborted);
        return principal is null
            ? AuthenticateResult.Fail(refusal ?? "The API token is invalid.")
            : AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await AuthProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized,
            result.Failure?.Message ?? "Authentication required: send 'Authorization: Bearer <token>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        AuthProblems.WriteAsync(Context, StatusCodes.Status403Forbidden, "The API token's role does not allow this operation.");
}
