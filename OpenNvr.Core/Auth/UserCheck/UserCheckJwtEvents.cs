using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Auth.UserCheck;

/// <summary>
/// Adds the per-request user check to every JWT scheme (access and media tokens) after the signature and lifetime
/// were validated, and answers its refusals with a 401 problem that says why.
/// </summary>
internal sealed class UserCheckJwtEvents : IPostConfigureOptions<JwtBearerOptions>
{
    public void PostConfigure(string? name, JwtBearerOptions options)
    {
        var events = options.Events ??= new JwtBearerEvents();
        var validated = events.OnTokenValidated;
        events.OnTokenValidated = async context =>
        {
            await validated(context);
            if (context.Result is not null || context.Principal is null)
            {
                return;
            }

            var services = context.HttpContext.RequestServices;
            var refusal = await services.GetRequiredService<UserCheck>()
                .CheckAsync(context.Principal, services.GetRequiredService<NvrDbContext>(), context.HttpContext.RequestAborted);
            if (refusal is not null)
            {
                context.Fail(refusal);
            }
        };

        var challenge = events.OnChallenge;
        events.OnChallenge = async context =>
        {
            if (context.AuthenticateFailure is UserStandingChangedException refusal)
            {
                context.HandleResponse();
                await AuthProblems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, refusal.Message);
                return;
            }

            await challenge(context);
        };
    }
}
