using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using OpenNvr.Core.Auth;
using Scalar.AspNetCore;

namespace OpenNvr.Core.Extensions;

/// <summary>Core's OpenAPI document (<c>/openapi/v1.json</c>, committed as <c>docs/openapi/core.json</c>).</summary>
internal static class CoreOpenApi
{
    public const string BearerScheme = "Bearer";

    private static readonly Dictionary<string, string> Tags = new()
    {
        ["Auth"] = "Login, token refresh and logout; the current user",
        ["Users"] = "User administration and camera grants (admin)",
        ["Cameras"] = "Cameras, their AI policies, live frames and URL tests",
        ["Recordings"] = "The recordings timeline, chunk files, HLS playlists, media tokens and evidence flags",
        ["Events"] = "AI events, newest first, and their snapshots",
        ["Audit"] = "The audit log (admin)",
        ["Faces"] = "The face registry of Inference, through Core (admin, operator)",
        ["Internal"] = "Service-to-service routes of the Recorder (X-Internal-Key)",
    };

    public static IServiceCollection AddCoreOpenApi(this IServiceCollection services) => services.AddServiceOpenApi(
        "OpenNVR Core API",
        "Core NVR API: log in at POST /api/v1/auth/login, then send 'Authorization: Bearer <access_token>'. " +
        "Media routes (chunk files, HLS playlists, snapshots) also accept a media token in '?token='. " +
        "Internal routes take the service credential in 'X-Internal-Key'. Errors are RFC 7807 problem JSON.",
        Tags,
        BearerScheme,
        options => options.AddDocumentTransformer<BearerSecuritySchemeTransformer>());

    /// <summary>
    /// The document and the Scalar reference: anonymous in Development, admins only elsewhere (the document lists
    /// every route and parameter, which helps an attacker more than an operator who can log in).
    /// </summary>
    public static WebApplication MapCoreOpenApi(this WebApplication app)
    {
        IEndpointConventionBuilder[] endpoints = [app.MapOpenApi(), app.MapScalarApiReference()];
        foreach (var endpoint in endpoints)
        {
            if (app.Environment.IsDevelopment())
            {
                endpoint.AllowAnonymous();
            }
            else
            {
                endpoint.RequireAuthorization(AuthPolicies.Admin);
            }
        }

        return app;
    }

    /// <summary>Declares the JWT bearer scheme, so that the reference (Scalar) and generated clients send tokens.</summary>
    private sealed class BearerSecuritySchemeTransformer : IOpenApiDocumentTransformer
    {
        public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "Access token from POST /api/v1/auth/login",
            };
            return Task.CompletedTask;
        }
    }
}
