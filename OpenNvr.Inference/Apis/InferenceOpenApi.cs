using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Apis;

/// <summary>Inference's OpenAPI document (<c>/openapi/v1.json</c>, committed as <c>docs/openapi/inference.json</c>).</summary>
internal static class InferenceOpenApi
{
    private static readonly Dictionary<string, string> Tags = new()
    {
        ["Tasks"] = "What the adapter offers: task names, descriptions, response schemas and models",
        ["Inference"] = "Running a task on a frame",
        ["Faces"] = "The face registry used by face_recognition and watchlist_check",
    };

    public static IServiceCollection AddInferenceOpenApi(this IServiceCollection services) => services.AddServiceOpenApi(
        "OpenNVR AI Adapter API",
        "Stateless AI adapter: name a task and a frame URI (opennvr://frames/<camera>/<file>), get the task's JSON. " +
        "Every route but /health and /capabilities takes 'X-API-Key': the key of a calling OpenNVR service or Inference:ApiKey. " +
        "Errors are RFC 7807 problem JSON.",
        Tags,
        defaultScheme: null,
        options => options.AddOperationTransformer<InferResponsesTransformer>());

    /// <summary>
    /// <c>/infer</c> answers with the response type of the task named in the request: the 200 response is a
    /// <c>oneOf</c> of every task's response schema, generated from the same CLR types as <c>/schema</c>.
    /// </summary>
    private sealed class InferResponsesTransformer(IEnumerable<IInferenceTask> tasks) : IOpenApiOperationTransformer
    {
        public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
        {
            if (operation.OperationId != "infer")
            {
                return;
            }

            var document = context.Document!;
            var byType = tasks.GroupBy(t => t.ResponseType).OrderBy(g => g.Key.Name, StringComparer.Ordinal).ToList();
            var choices = new List<IOpenApiSchema>();
            foreach (var group in byType)
            {
                var schema = await context.GetOrCreateSchemaAsync(group.Key, null, cancellationToken);
                schema.Description ??= "Response of " + string.Join(", ", group.Select(t => t.Name).Order(StringComparer.Ordinal)) + ".";
                // Closed, as /schema says: the members of the oneOf are then mutually exclusive.
                schema.AdditionalPropertiesAllowed = false;
                document.AddComponent(group.Key.Name, schema);
                choices.Add(new OpenApiSchemaReference(group.Key.Name, document));
            }

            operation.Responses ??= new OpenApiResponses();
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "The task's response: " + string.Join("; ", byType.Select(g =>
                    string.Join(", ", g.Select(t => t.Name).Order(StringComparer.Ordinal)) + " → " + g.Key.Name)) + ".",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchema { OneOf = choices } },
                },
            };
        }
    }
}
