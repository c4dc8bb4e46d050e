using System.Globalization;
using System.Text.Json;

namespace OpenNvr.Inference.Tasks;

/// <summary>
/// A parsed <c>POST /infer</c> body. Local tasks read <see cref="Input"/> (<c>{"task","input":{...}}</c>); cloud tasks
/// read <see cref="InputData"/> (<c>{"task","input_data":{...}}</c>). The helpers turn missing or mistyped fields into
/// 400 problems whose detail names the field.
/// </summary>
public sealed class InferenceRequest
{
    private readonly TimeProvider _clock;
    private readonly long _startTimestamp;

    public InferenceRequest(string task, JsonElement? input, JsonElement? inputData, TimeProvider clock)
    {
        Task = task;
        Input = input;
        InputData = inputData;
        _clock = clock;
        _startTimestamp = clock.GetTimestamp();
        ExecutedAtUnixMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
    }

    public string Task { get; }

    /// <summary>The <c>input</c> object, when present (always an object when not null).</summary>
    public JsonElement? Input { get; }

    /// <summary>The <c>input_data</c> object, when present (always an object when not null).</summary>
    public JsonElement? InputData { get; }

    /// <summary>When the request was accepted: the contract's <c>executed_at</c> (unix ms).</summary>
    public long ExecutedAtUnixMs { get; }

    /// <summary>Milliseconds since the request was accepted: the contract's <c>latency_ms</c>.</summary>
    public double ElapsedMilliseconds => Math.Round(_clock.GetElapsedTime(_startTimestamp).TotalMilliseconds, 2);

    /// <summary><c>input.&lt;name&gt;.uri</c> (e.g. <c>input.frame.uri</c>, <c>input.frame1.uri</c>); 400 when absent or not a string.</summary>
    public string GetFrameUri(string name = "frame")
    {
        var frame = GetInputProperty(name)
            ?? throw InferenceProblemException.BadRequest($"input.{name} is required: {{\"input\":{{\"{name}\":{{\"uri\":\"opennvr://frames/<camera>/<file>\"}}}}}}.");
        if (frame.ValueKind != JsonValueKind.Object)
        {
            throw InferenceProblemException.BadRequest($"input.{name} must be an object with a \"uri\" string, not {Describe(frame)}.");
        }

        if (!frame.TryGetProperty("uri", out var uri) || uri.ValueKind == JsonValueKind.Null)
        {
            throw InferenceProblemException.BadRequest($"input.{name}.uri is required.");
        }

        if (uri.ValueKind != JsonValueKind.String)
        {
            throw InferenceProblemException.BadRequest($"input.{name}.uri must be a string, not {Describe(uri)}.");
        }

        return uri.GetString()!;
    }

    /// <summary>An optional number <c>input.&lt;name&gt;</c> within [<paramref name="min"/>, <paramref name="max"/>]; 400 otherwise.</summary>
    public double? GetOptionalNumber(string name, double min, double max)
    {
        var value = GetInputProperty(name);
        if (value is null || value.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.Value.ValueKind != JsonValueKind.Number || !value.Value.TryGetDouble(out var number) || !double.IsFinite(number))
        {
            throw InferenceProblemException.BadRequest($"input.{name} must be a number, not {Describe(value.Value)}.");
        }

        if (number < min || number > max)
        {
            throw InferenceProblemException.BadRequest(
                $"input.{name} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, not {number.ToString(CultureInfo.InvariantCulture)}.");
        }

        return number;
    }

    /// <summary><c>input.&lt;name&gt;</c> as it was sent, or null when <c>input</c> or the property is absent.</summary>
    public JsonElement? GetInputProperty(string name) =>
        Input is { } input && input.TryGetProperty(name, out var value) ? value : null;

    internal static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
