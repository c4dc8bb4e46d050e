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

/// <summary>
/// One task of <c>GET /tasks</c>: <c>schema</c> is the JSON Schema of its <c>/infer</c> response; <c>available</c> is
/// false for a known task that cannot run here (no Hugging Face token), and <c>unavailable_reason</c> says what to set.
/// </summary>
public sealed record TaskDescription(string Name, string Description, JsonNode Schema, TaskModelInfo ModelInfo, bool Available = true, string? UnavailableReason = null);

/// <summary>Every known task by name (<c>GET /tasks</c>), available or not; <c>count</c> is the number listed.</summary>
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

    // /capabilities lists what runs here ("the loaded task plugins"): clients and Core's AI policies choose from it.
    // /tasks also lists the known tasks that cannot run, with the reason, so that a newcomer learns what to configure.
    private static Ok<TasksResponse> GetTasks(TaskRegistry tasks)
    {
        var listed = tasks.Tasks.Select(t => new TaskDescription(t.Name, t.Description, tasks.Schema(t.Name), t.ModelInfo))
            .Concat(tasks.Unavailable.Select(t => new TaskDescription(t.Name, t.Description, tasks.Schema(t.Name), t.ModelInfo, false, t.UnavailableReason)))
            .ToDictionary(t => t.Name, StringComparer.Ordinal);
        return TypedResults.Ok(new TasksResponse(listed, listed.Count));
    }

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

        return tasks.TryGet(task, out _) || tasks.TryGetUnavailable(task, out _)
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
            if (tasks.TryGetUnavailable(request.Task, out var reason))
            {
                throw new InferenceProblemException(StatusCodes.Status503ServiceUnavailable, "Task unavailable",
                    $"The task '{request.Task}' is known but not available here: {reason}");
            }

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
