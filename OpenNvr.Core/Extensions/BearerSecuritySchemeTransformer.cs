using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace OpenNvr.Core.Extensions;

/// <summary>Describes the JWT bearer scheme (and the internal key) so that Scalar can send tokens.</summary>
internal sealed class BearerSecuritySchemeTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "OpenNVR Core API";
        document.Info.Description =
            "Core NVR API: log in at POST /api/v1/auth/login, then send 'Authorization: Bearer <access_token>'. " +
            "Media routes (chunk files, HLS playlists, snapshots) also accept a media token in '?token='. " +
            "Internal routes take the service credential in 'X-Internal-Key'. Errors are RFC 7807 problem JSON.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "Access token from POST /api/v1/auth/login",
        };
        document.Components.SecuritySchemes["InternalKey"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "X-Internal-Key",
            Description = "Service credential (Internal:ApiKey) of /api/v1/internal routes",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] });
        return Task.CompletedTask;
    }
}
