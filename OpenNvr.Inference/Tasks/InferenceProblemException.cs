namespace OpenNvr.Inference.Tasks;

/// <summary>
/// A request that cannot be served because of what the client sent (or what it points at): becomes an RFC 7807
/// problem with <see cref="StatusCode"/>, <see cref="Title"/> and <see cref="Detail"/>.
/// </summary>
public class InferenceProblemException(int statusCode, string title, string detail) : Exception(detail)
{
    public int StatusCode { get; } = statusCode;

    public string Title { get; } = title;

    public string Detail { get; } = detail;

    /// <summary>When set, the problem response carries <c>Retry-After</c> (whole seconds, rounded up): e.g. a cloud model's open circuit.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static InferenceProblemException BadRequest(string detail) =>
        new(StatusCodes.Status400BadRequest, "Invalid inference request", detail);
}
