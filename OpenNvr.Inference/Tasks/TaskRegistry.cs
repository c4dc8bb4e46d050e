using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace OpenNvr.Inference.Tasks;

/// <summary>
/// Every registered <see cref="IInferenceTask"/>, built once at start-up (which loads their models). Only available
/// tasks are visible: a task whose model did not load is absent from every listing and unknown to <c>/infer</c>.
/// </summary>
public sealed partial class TaskRegistry
{
    private readonly FrozenDictionary<string, IInferenceTask> _available;
    private readonly FrozenDictionary<string, JsonNode> _schemas;

    public TaskRegistry(IEnumerable<IInferenceTask> tasks, ILogger<TaskRegistry> logger)
    {
        var all = tasks.ToList();
        var duplicate = all.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two inference tasks are registered with the name '{duplicate.Key}'.");
        }

        foreach (var task in all.Where(t => !t.IsAvailable))
        {
            LogTaskUnavailable(logger, task.Name, task.ModelInfo.Model);
        }

        var available = all.Where(t => t.IsAvailable).ToList();
        _available = available.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        _schemas = available.ToFrozenDictionary(t => t.Name, t => InferenceJson.SchemaOf(t.ResponseType), StringComparer.Ordinal);
        Names = [.. available.Select(t => t.Name).Order(StringComparer.Ordinal)];
        LogTasksLoaded(logger, Names.Count, string.Join(", ", Names));
    }

    /// <summary>Names of the available tasks, sorted.</summary>
    public IReadOnlyList<string> Names { get; }

    public IEnumerable<IInferenceTask> Tasks => Names.Select(n => _available[n]);

    public bool TryGet(string name, out IInferenceTask task) => _available.TryGetValue(name, out task!);

    /// <summary>The task's response schema (a fresh copy the caller may modify).</summary>
    public JsonNode Schema(string name) => _schemas[name].DeepClone();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inference task {Task} is not available (model {Model} not loaded); it is not offered")]
    private static partial void LogTaskUnavailable(ILogger logger, string task, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} inference tasks available: {Tasks}")]
    private static partial void LogTasksLoaded(ILogger logger, int count, string tasks);
}
