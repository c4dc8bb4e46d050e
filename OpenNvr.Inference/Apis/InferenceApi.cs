using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Security;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Apis;

/// <summary>The AI adapter routes of the contract: <c>/capabilities</c>, <c>/tasks</c>, <c>/schema</c>, <c>/infer</c>.</summary>
public static partial class InferenceApi
{
    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder app)
    {
        // Open, like /health: clients discover what the adapter offers before they hold a key.
        app.MapGet("/capabilities", (TaskRegistry tasks) => TypedResults.Ok(new CapabilitiesResponse(tasks.Names)));

        var secured = app.MapGroup("").RequireInferenceApiKey();
        secured.MapGet("/tasks", GetTasks);
        secured.MapGet("/schema", GetSchema);
        secured.MapPost("/infer", InferAsync);
        return app;
    }

    private static IResult GetTasks(TaskRegistry tasks)
    {
        var byName = new JsonObject();
        foreach (var task in tasks.Tasks)
        {
            byName[task.Name] = new JsonObject
            {
                ["name"] = task.Name,
                ["description"] = task.Description,
                ["schema"] = tasks.Schema(task.Name),
                ["model_info"] = new JsonObject
                {
                    ["model"] = task.ModelInfo.Model,
                    ["framework"] = task.ModelInfo.Framework,
                    ["device"] = task.ModelInfo.Device,
                },
            };
        }

        return TypedResults.Ok(new JsonObject { ["tasks"] = byName, ["count"] = tasks.Names.Count });
    }

    private static IResult GetSchema(string? task, TaskRegistry tasks)
    {
        if (task is null)
        {
            var schemas = new JsonObject();
            foreach (var name in tasks.Names)
            {
                schemas[name] = tasks.Schema(name);
            }

            return TypedResults.Ok(new JsonObject { ["schemas"] = schemas });
        }

        return tasks.TryGet(task, out _)
            ? TypedResults.Ok(tasks.Schema(task))
            : TypedResults.Problem($"Unknown task '{Shorten(task)}'. Available tasks: {string.Join(", ", tasks.Names)}.",
                statusCode: StatusCodes.Status404NotFound, title: "Unknown task");
    }

    private static async Task<IResult> InferAsync(
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
            return Results.Json(response, InferenceJson.Options);
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

            return TypedResults.Problem(problem.Detail, statusCode: problem.StatusCode, title: problem.Title);
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
