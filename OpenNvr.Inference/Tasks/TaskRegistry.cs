using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace OpenNvr.Inference.Tasks;

/// <summary>
/// Every registered <see cref="IInferenceTask"/>, built once at start-up (which loads their models). Available tasks
/// are offered (<see cref="Names"/>); a task unavailable for a reason the operator can fix (<see cref="IInferenceTask.UnavailableReason"/>:
/// a cloud token not set) stays known (<see cref="Unavailable"/>); a task whose model did not load is absent.
/// </summary>
public sealed partial class TaskRegistry
{
    private readonly FrozenDictionary<string, IInferenceTask> _available;
    private readonly FrozenDictionary<string, JsonNode> _schemas;
    private readonly FrozenDictionary<string, IInferenceTask> _unavailable;

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
        _unavailable = all.Where(t => !t.IsAvailable && t.UnavailableReason is not null).ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        _schemas = available.Concat(_unavailable.Values)
            .ToFrozenDictionary(t => t.Name, t => InferenceJson.SchemaOf(t.ResponseType), StringComparer.Ordinal);
        Names = [.. available.Select(t => t.Name).Order(StringComparer.Ordinal)];
        LogTasksLoaded(logger, Names.Count, string.Join(", ", Names));
    }

    /// <summary>Names of the available tasks, sorted.</summary>
    public IReadOnlyList<string> Names { get; }

    public IEnumerable<IInferenceTask> Tasks => Names.Select(n => _available[n]);

    /// <summary>Known tasks that cannot run here, each with <see cref="IInferenceTask.UnavailableReason"/>, sorted by name.</summary>
    public IEnumerable<IInferenceTask> Unavailable => _unavailable.Values.OrderBy(t => t.Name, StringComparer.Ordinal);

    public bool TryGet(string name, out IInferenceTask task) => _available.TryGetValue(name, out task!);

    /// <summary>A known task that cannot run here, and why (with what to set).</summary>
    public bool TryGetUnavailable(string name, out string reason)
    {
        reason = _unavailable.TryGetValue(name, out var task) ? task.UnavailableReason! : "";
        return reason.Length > 0;
    }

    /// <summary>The response schema of an available or known-unavailable task (a fresh copy the caller may modify).</summary>
    public JsonNode Schema(string name) => _schemas[name].DeepClone();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inference task {Task} is not available (model {Model} not loaded); it is not offered")]
    private static partial void LogTaskUnavailable(ILogger logger, string task, string model);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} inference tasks available: {Tasks}")]
    private static partial void LogTasksLoaded(ILogger logger, int count, string tasks);
}
