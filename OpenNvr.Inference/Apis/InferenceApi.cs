using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Security;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Apis;

/// <summary>The loaded task plugins (<c>GET /capabilities</c>).</summary>
public sealed record CapabilitiesResponse(IReadOnlyList<string> Tasks);

/// <summary>One task of <c>GET /tasks</c>: <c>schema</c> is the JSON Schema of its <c>/infer</c> response.</summary>
public sealed record TaskDescription(string Name, string Description, JsonNode Schema, TaskModelInfo ModelInfo);

/// <summary>Every available task by name (<c>GET /tasks</c>).</summary>
public sealed record TasksResponse(IReadOnlyDictionary<string, TaskDescription> Tasks, int Count);

/// <summary>The AI adapter routes of the contract: <c>/capabilities</c>, <c>/tasks</c>, <c>/schema</c>, <c>/infer</c>.</summary>
public static partial class InferenceApi
{
    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder app)
    {
        // Open, like /health: clients discover what the adapter offers before they hold a key.
        app.MapGet("/capabilities", GetCapabilities).WithName("getCapabilities").WithTags("Tasks").AllowAnonymous()
            .WithSummary("Names of the loaded task plugins (open: no API key needed)");

        var secured = app.MapGroup("").RequireInferenceApiKey();
        secured.MapGet("/tasks", GetTasks).WithName("listTasks").WithTags("Tasks")
            .WithSummary("Every available task with its description, response schema and model (model, framework, device)");
        secured.MapGet("/schema", GetSchema).WithName("getTaskSchema").WithTags("Tasks")
            .WithSummary("The JSON Schema of one task's response, or of every task's under 'schemas' when no task is named");
        // The body is read by hand (InferenceRequestReader) so that every malformed field gets a problem naming it;
        // the request and response schemas are written by InferDocumentTransformer from the task plugins.
        secured.MapPost("/infer", InferAsync).WithName("infer").WithTags("Inference")
            .DocumentsRequestBody<InferenceRequestBody, RouteHandlerBuilder>()
            .WithSummary("Runs a task on a frame URI (local tasks: input; cloud tasks: input_data)");
        return app;
    }

    private static Ok<CapabilitiesResponse> GetCapabilities(TaskRegistry tasks) => TypedResults.Ok(new CapabilitiesResponse(tasks.Names));

    private static Ok<TasksResponse> GetTasks(TaskRegistry tasks) => TypedResults.Ok(new TasksResponse(
        tasks.Tasks.ToDictionary(t => t.Name, t => new TaskDescription(t.Name, t.Description, tasks.Schema(t.Name), t.ModelInfo), StringComparer.Ordinal),
        tasks.Names.Count));

    private static Results<Ok<JsonNode>, NotFoundProblem> GetSchema(string? task, TaskRegistry tasks)
    {
        if (task is null)
        {
            var schemas = new JsonObject();
            foreach (var name in tasks.Names)
            {
                schemas[name] = tasks.Schema(name);
            }

            return TypedResults.Ok<JsonNode>(new JsonObject { ["schemas"] = schemas });
        }

        return tasks.TryGet(task, out _)
            ? TypedResults.Ok(tasks.Schema(task))
            : new NotFoundProblem($"Unknown task '{Shorten(task)}'. Available tasks: {string.Join(", ", tasks.Names)}.", "Unknown task");
    }

    private static async Task<Results<Ok<object>, InferenceProblem>> InferAsync(
        HttpContext http,
        TaskRegistry tasks,
        InferenceTelemetry telemetry,
        IOptions<InferenceOptions> options,
        ILogger<InferenceRequest> logger)
    {
        var cancellationToken = http.RequestAborted;
        IInferenceTask? task = null;
        Activity? activity = null;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var request = await InferenceRequestReader.ReadAsync(http.Request, options.Value.MaxRequestBytes, cancellationToken);
            if (!tasks.TryGet(request.Task, out task))
            {
                throw InferenceProblemException.BadRequest(
                    $"Unknown task '{Shorten(request.Task)}'. Available tasks: {string.Join(", ", tasks.Names)}.");
            }

            activity = telemetry.StartInfer(task.Name);
            var response = await task.RunAsync(request, cancellationToken);
            telemetry.Record("total", Stopwatch.GetElapsedTime(started).TotalMilliseconds, task.Name);
            return TypedResults.Ok(response);
        }
        catch (InferenceProblemException problem)
        {
            activity?.SetStatus(ActivityStatusCode.Error, problem.Title);
            activity?.SetTag("error.type", problem.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
            LogRejected(logger, task?.Name ?? "(none)", problem.StatusCode, problem.Detail);
            if (problem.RetryAfter is { } retryAfter)
            {
                http.Response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return new InferenceProblem(problem);
        }
        finally
        {
            activity?.Dispose();
        }
    }

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";

    [LoggerMessage(Level = LogLevel.Information, Message = "Inference request for task {Task} rejected with {Status}: {Detail}")]
    private static partial void LogRejected(ILogger logger, string task, int status, string detail);
}
