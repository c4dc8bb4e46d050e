using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;
using OpenNvr.Inference.Extensions;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Models;

/// <summary>A loaded ONNX model: one <see cref="InferenceSession"/> shared by all callers (its Run is thread-safe).</summary>
public sealed class OnnxModel(string name, string path, InferenceSession session, string device)
{
    /// <summary>File name, e.g. <c>centernet.onnx</c>.</summary>
    public string Name { get; } = name;

    public string Path { get; } = path;

    public InferenceSession Session { get; } = session;

    /// <summary><c>cpu</c> or <c>cuda:&lt;id&gt;</c>: where it actually runs.</summary>
    public string Device { get; } = device;

    public TaskModelInfo Info => new(Name, "onnxruntime", Device);
}

/// <summary>
/// Loads each ONNX model once (from <c>Models:Root</c> or an absolute path) and shares its session. Models are loaded
/// when a task or detector asks for them in its constructor, i.e. at start-up. A missing or broken model is logged
/// and reported as null, so the service still starts and offers the tasks whose models loaded.
/// </summary>
public sealed partial class OnnxModelRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<OnnxModel?>> _models = new(StringComparer.Ordinal);
    private readonly InferenceOptions _options;
    private readonly ILogger<OnnxModelRegistry> _logger;

    public OnnxModelRegistry(IOptions<InferenceOptions> options, IOptions<ModelsOptions> models, ILogger<OnnxModelRegistry> logger)
    {
        _options = options.Value;
        _logger = logger;
        Root = System.IO.Path.GetFullPath(string.IsNullOrWhiteSpace(models.Value.Root)
            ? System.IO.Path.Combine(AppContext.BaseDirectory, "models")
            : models.Value.Root);
    }

    /// <summary>The models folder (<c>Models:Root</c>).</summary>
    public string Root { get; }

    /// <summary>Every model that loaded, for <c>/health</c>.</summary>
    public IReadOnlyList<OnnxModel> Loaded => [.. _models.Values.Where(m => m.IsValueCreated && m.Value is not null).Select(m => m.Value!)];

    /// <summary>
    /// The model at <paramref name="path"/> (relative to <see cref="Root"/>, or absolute), loading it on first use;
    /// null when it is missing or cannot be loaded (the reason is logged).
    /// </summary>
    public OnnxModel? Get(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, path));
        return _models.GetOrAdd(fullPath, p => new Lazy<OnnxModel?>(() => Load(p))).Value;
    }

    public void Dispose()
    {
        foreach (var model in _models.Values.Where(m => m.IsValueCreated))
        {
            model.Value?.Session.Dispose();
        }
    }

    private OnnxModel? Load(string fullPath)
    {
        var name = System.IO.Path.GetFileName(fullPath);
        if (!File.Exists(fullPath))
        {
            LogModelMissing(_logger, name, fullPath);
            return null;
        }

        var (options, device) = CreateSessionOptions();
        try
        {
            var session = new InferenceSession(fullPath, options);
            LogModelLoaded(_logger, name, device,
                string.Join(", ", session.InputMetadata.Select(i => $"{i.Key} [{string.Join(",", i.Value.Dimensions)}]")),
                string.Join(", ", session.OutputMetadata.Select(o => $"{o.Key} [{string.Join(",", o.Value.Dimensions)}]")));
            return new OnnxModel(name, fullPath, session, device);
        }
        catch (OnnxRuntimeException ex)
        {
            LogModelFailed(_logger, ex, name, fullPath);
            return null;
        }
        finally
        {
            options.Dispose();
        }
    }

    private (SessionOptions Options, string Device) CreateSessionOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = _options.IntraOpThreads,
            InterOpNumThreads = 1,
            // The bundled age/gender exports keep their initializers as graph inputs; ORT warns once per initializer
            // at every load (about a hundred stderr lines) without consequence. Errors still show.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };

        if (!string.Equals(_options.ExecutionProvider, "cuda", StringComparison.OrdinalIgnoreCase))
        {
            return (options, "cpu");
        }

        try
        {
            options.AppendExecutionProvider_CUDA(_options.CudaDeviceId);
            return (options, $"cuda:{_options.CudaDeviceId}");
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            // The CPU package has no CUDA provider, and a GPU package without CUDA libraries fails here too:
            // serving on CPU is better than not serving.
            LogCudaUnavailable(_logger, ex.Message);
            return (options, "cpu");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded model {Model} on {Device}; inputs {Inputs}; outputs {Outputs}")]
    private static partial void LogModelLoaded(ILogger logger, string model, string device, string inputs, string outputs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model} not found at {Path}")]
    private static partial void LogModelMissing(ILogger logger, string model, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {Model} at {Path} could not be loaded")]
    private static partial void LogModelFailed(ILogger logger, Exception exception, string model, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CUDA execution provider requested but unavailable ({Reason}); running on CPU")]
    private static partial void LogCudaUnavailable(ILogger logger, string reason);
}
