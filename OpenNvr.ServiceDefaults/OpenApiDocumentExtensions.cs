using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The conventions every OpenNVR OpenAPI document follows, so that it lints clean (<c>@redocly/cli</c>, recommended
/// rules) and generated REST clients work: a fixed relative server, tag descriptions, and security declared per
/// operation from the endpoint's own metadata (shared-key filters, anonymous endpoints).
/// </summary>
public static class OpenApiDocumentExtensions
{
    /// <summary>
    /// Adds the OpenAPI document with the service's <paramref name="title"/>, <paramref name="description"/> and
    /// <paramref name="tags"/> (name → description).
    /// </summary>
    /// <param name="defaultScheme">
    /// The scheme every operation needs unless it is anonymous or wants a shared key: its name, declared by
    /// <paramref name="configure"/>'s transformers (Core: JWT bearer), or null when the shared key is the default.
    /// </param>
    public static IServiceCollection AddServiceOpenApi(this IServiceCollection services, string title, string description,
        IReadOnlyDictionary<string, string> tags, string? defaultScheme, Action<OpenApiOptions>? configure = null) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = title;
                document.Info.Description = description;
                // The document is served by the service itself: a relative server keeps it true behind any host name
                // (and the committed copy free of the test host's address).
                document.Servers = [new OpenApiServer { Url = "/", Description = "This service" }];
                document.Tags = new HashSet<OpenApiTag>(tags.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                var document = context.Document!;
                if (metadata.OfType<DocumentedRequestBody>().LastOrDefault() is { } body)
                {
                    var naming = context.ApplicationServices.GetService<IOptions<JsonOptions>>()?.Value.SerializerOptions.PropertyNamingPolicy;
                    var schema = await ComponentAsync(body.Type, context, naming, cancellationToken);
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Content = body.ContentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
                    };
                }

                if (metadata.OfType<SharedKeyRequirement>().LastOrDefault() is { } key)
                {
                    var scheme = SchemeName(key.Header);
                    document.Components ??= new OpenApiComponents();
                    document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                    document.Components.SecuritySchemes[scheme] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.ApiKey,
                        In = ParameterLocation.Header,
                        Name = key.Header,
                        Description = $"The key of {string.Join(" or ", key.Settings)}.",
                    };
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, document)] = [] }];
                    AddProblemResponse(operation, StatusCodes.Status401Unauthorized, $"{key.Header} missing or wrong");
                }
                else if (metadata.OfType<IAllowAnonymous>().Any() || defaultScheme is null)
                {
                    // An empty requirement: no credentials needed.
                    operation.Security = [new OpenApiSecurityRequirement()];
                }
                else
                {
                    operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(defaultScheme, document)] = [] }];
                }
            });
            configure?.Invoke(options);
        });

    /// <summary>
    /// Documents the body of an endpoint that reads it by hand (so that each malformed field gets a problem naming it).
    /// Unlike <c>Accepts&lt;T&gt;</c>, this adds no content-type constraint to routing: the handler keeps answering a
    /// wrong content type with its own 415 problem.
    /// </summary>
    public static TBuilder DocumentsRequestBody<TBody, TBuilder>(this TBuilder builder, params string[] contentTypes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new DocumentedRequestBody(typeof(TBody), contentTypes.Length == 0 ? ["application/json"] : contentTypes));

    /// <summary>
    /// The type's schema as a named component (a reference to it), and so are the records it holds, so that generated
    /// clients get one named model per record rather than one per place it appears.
    /// </summary>
    private static async Task<IOpenApiSchema> ComponentAsync(Type type, OpenApiOperationTransformerContext context, JsonNamingPolicy? naming,
        CancellationToken cancellationToken)
    {
        var document = context.Document!;
        if (document.Components?.Schemas?.ContainsKey(type.Name) != true)
        {
            var schema = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
            document.AddComponent(type.Name, schema);
            foreach (var property in type.GetProperties())
            {
                var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                var name = naming?.ConvertName(property.Name) ?? property.Name;
                if (propertyType.IsClass && propertyType.Assembly == type.Assembly && schema.Properties?.ContainsKey(name) == true)
                {
                    schema.Properties[name] = await ComponentAsync(propertyType, context, naming, cancellationToken);
                }
            }
        }

        return new OpenApiSchemaReference(type.Name, document);
    }

    /// <summary><c>X-Internal-Key</c> → <c>InternalKey</c>, <c>X-API-Key</c> → <c>ApiKey</c>.</summary>
    public static string SchemeName(string header) =>
        string.Concat(header.Split('-').Skip(header.StartsWith("X-", StringComparison.OrdinalIgnoreCase) ? 1 : 0)
            .Select(part => part.Length <= 3 ? part[..1].ToUpperInvariant() + part[1..].ToLowerInvariant() : part));

    private static void AddProblemResponse(OpenApiOperation operation, int status, string description)
    {
        operation.Responses ??= new OpenApiResponses();
        var code = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses.ContainsKey(code))
        {
            return;
        }

        operation.Responses[code] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails") },
            },
        };
    }
}

/// <summary>Endpoint metadata: the body's documented type and media types (see <c>DocumentsRequestBody</c>).</summary>
public sealed record DocumentedRequestBody(Type Type, IReadOnlyList<string> ContentTypes);
