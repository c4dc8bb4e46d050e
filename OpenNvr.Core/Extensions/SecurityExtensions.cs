using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Auth;
using OpenNvr.Core.Auth.ApiTokens;
using OpenNvr.Core.Auth.Lockout;
using OpenNvr.Core.Auth.Mfa;
using OpenNvr.Core.Auth.UserCheck;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Extensions;

/// <summary>
/// Account security on top of the JWT schemes: API tokens, two-factor login, the per-request user check, login
/// delays per user and address, and trusted proxies.
/// </summary>
internal static class SecurityExtensions
{
    /// <summary>The default scheme: an <c>onvr_</c> bearer credential goes to the API token handler, any other to JWT.</summary>
    public const string BearerOrApiTokenScheme = "BearerOrApiToken";

    public static void AddAccountSecurity(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<MfaOptions>(MfaOptions.Section);
        services.AddValidatedOptions<ApiTokenOptions>(ApiTokenOptions.Section);
        services.AddValidatedOptions<UserCheckOptions>(UserCheckOptions.Section);
        services.AddValidatedOptions<LoginThrottleOptions>(LoginThrottleOptions.Section);
        services.AddValidatedOptions<ProxyOptions>(ProxyOptions.Section);

        services.AddSingleton<SecretHasher>();
        services.AddSingleton<TotpService>();
        services.AddSingleton<ApiTokenService>();
        services.AddSingleton<UserStandingCache>();
        services.AddSingleton<UserCheck>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, UserCheckJwtEvents>();
        services.AddSingleton<UserStandingInterceptor>();
        services.ConfigureDbContext<NvrDbContext>((provider, options) => options.AddInterceptors(provider.GetRequiredService<UserStandingInterceptor>()));
        services.AddTransient<IStartupFilter, ForwardedHeadersStartupFilter>();

        // A route nobody marked is not public: the fallback policy asks for an authenticated user. Anonymous routes
        // say so (AllowAnonymous): login, refresh, the probes, the console's pages and, in Development, the API reference.
        services.AddAuthorizationBuilder().SetFallbackPolicy(new AuthorizationPolicyBuilder()
            .RequireAssertion(context => context.User.Identity?.IsAuthenticated == true || IsRoutingRefusal(context.Resource as HttpContext))
            .Build());
        services.AddSingleton<IHealthDetailsGate, AdminHealthDetailsGate>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = BearerOrApiTokenScheme;
                options.DefaultAuthenticateScheme = BearerOrApiTokenScheme;
                options.DefaultChallengeScheme = BearerOrApiTokenScheme;
                options.DefaultForbidScheme = BearerOrApiTokenScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, _ => { })
            .AddPolicyScheme(BearerOrApiTokenScheme, "JWT or API token", options => options.ForwardDefaultSelector = context =>
            {
                var header = context.Request.Headers.Authorization.ToString();
                return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && ApiTokenService.LooksLikeApiToken(header[7..].TrimStart())
                    ? ApiTokenAuthenticationHandler.SchemeName
                    : JwtBearerDefaults.AuthenticationScheme;
            });
    }

    /// <summary>Two-factor enrolment gate (<c>Auth:RequireMfaForAdmins</c>); after authentication and authorization.</summary>
    public static WebApplication UseMfaEnrolment(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (await MfaEnrolment.MustEnrolAsync(http))
            {
                http.Response.StatusCode = StatusCodes.Status403Forbidden;
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status403Forbidden,
                        Title = "Forbidden",
                        Detail = "Admins must enrol two-factor login first (Auth:RequireMfaForAdmins): POST /api/v1/auth/mfa/setup, then /enable.",
                        Extensions = { ["mfa_enrollment_required"] = true },
                    },
                });
                return;
            }

            await next(http);
        });
        return app;
    }

    /// <summary>
    /// No endpoint at all (a 404 follows) and the endpoints routing itself creates to answer 405 (no route for this method) and 415 (a route that does not
    /// accept this content type): they only set that status, so an anonymous caller may see it rather than a 401.
    /// </summary>
    private static bool IsRoutingRefusal(HttpContext? http) =>
        http is not null && (http.GetEndpoint() is null
            || http.GetEndpoint()!.DisplayName is "405 HTTP Method Not Supported" or "415 HTTP Unsupported Media Type");

    /// <summary>Core shows <c>/health</c> details to admins as well as to the internal network.</summary>
    private sealed class AdminHealthDetailsGate : IHealthDetailsGate
    {
        public bool Allows(HttpContext context) => context.User.IsAdmin();
    }
}
