using Microsoft.AspNetCore.Authentication;
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
        services.AddOptions<MfaOptions>().BindConfiguration(MfaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiTokenOptions>().BindConfiguration(ApiTokenOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<UserCheckOptions>().BindConfiguration(UserCheckOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LoginThrottleOptions>().BindConfiguration(LoginThrottleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section).ValidateDataAnnotations().ValidateOnStart();

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
}
