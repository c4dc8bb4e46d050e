using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Inference.Extensions;

/// <summary>Configuration section <c>Inference</c>.</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>When set, every route but <c>/health</c> and <c>/capabilities</c> requires header <c>X-API-Key</c> with this value.</summary>
    public string? ApiKey { get; set; }

    /// <summary><c>cpu</c> (default) or <c>cuda</c>: CUDA is tried and, when unavailable, CPU is used with a warning.</summary>
    [Required, RegularExpression("(?i)^(cpu|cuda)$", ErrorMessage = "must be cpu or cuda.")]
    public string ExecutionProvider { get; set; } = "cpu";

    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>
    /// ONNX Runtime intra-op threads per model run. 1 (default) lets concurrent requests use the cores in parallel,
    /// which gives the best throughput under load; raise it for lower single-request latency on an idle host.
    /// </summary>
    [Range(1, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>How many model runs may execute at once per detector; further requests wait (0: number of cores).</summary>
    [Range(0, 1024)]
    public int MaxConcurrentRuns { get; set; }

    /// <summary>Largest image accepted, in pixels (width x height), checked from the header before decoding.</summary>
    [Range(1, 1L << 30)]
    public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>Largest frame file accepted, in bytes.</summary>
    [Range(1, 1L << 31)]
    public long MaxFrameBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Largest <c>/infer</c> request body, in bytes (a request names frames by URI; it is small).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 64 * 1024;
}

/// <summary>Configuration section <c>Models</c>.</summary>
public sealed class ModelsOptions
{
    public const string Section = "Models";

    /// <summary>Folder of ONNX models; relative model paths resolve against it. Default: <c>models/</c> next to the binaries.</summary>
    public string? Root { get; set; }
}
