using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Http.Logging;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// HttpClient's per-attempt logging for the Hugging Face client, in place of the default one: the same events
/// (request sent, response received, failure; headers at Trace), but the Authorization header is redacted in the
/// structured state as well as in the message. The default header log redacts only its formatted text and carries
/// the raw headers as state, so any provider that records state (OpenTelemetry's exporter does) would export the
/// token as soon as Trace logging is on (found by the tests' FakeLogger, which records state).
/// </summary>
public sealed partial class HuggingFaceHttpLogger(ILogger<HuggingFaceHttpLogger> logger) : IHttpClientLogger
{
    public object? LogRequestStart(HttpRequestMessage request)
    {
        LogSending(logger, request.Method, WithoutQuery(request.RequestUri));
        if (logger.IsEnabled(LogLevel.Trace))
        {
            LogRequestHeaders(logger, Format(request.Headers, request.Content?.Headers));
        }

        return null;
    }

    public void LogRequestStop(object? context, HttpRequestMessage request, HttpResponseMessage response, TimeSpan elapsed)
    {
        LogReceived(logger, elapsed.TotalMilliseconds, (int)response.StatusCode);
        if (logger.IsEnabled(LogLevel.Trace))
        {
            LogResponseHeaders(logger, Format(response.Headers, response.Content.Headers));
        }
    }

    public void LogRequestFailed(object? context, HttpRequestMessage request, HttpResponseMessage? response, Exception exception, TimeSpan elapsed) =>
        LogFailed(logger, request.Method, WithoutQuery(request.RequestUri), elapsed.TotalMilliseconds, exception);

    /// <summary>Header lines as HttpClient prints them, with the values of Authorization replaced by <c>*</c>.</summary>
    private static string Format(HttpHeaders headers, HttpHeaders? contentHeaders)
    {
        var text = new StringBuilder();
        foreach (var (name, values) in contentHeaders is null ? headers : headers.Concat(contentHeaders))
        {
            var value = string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase) ? "*" : string.Join(", ", values);
            text.Append(CultureInfo.InvariantCulture, $"{name}: {value}").Append('\n');
        }

        return text.ToString();
    }

    private static string? WithoutQuery(Uri? uri) =>
        uri is { IsAbsoluteUri: true } ? uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.Query, UriFormat.UriEscaped) : uri?.ToString();

    [LoggerMessage(Level = LogLevel.Information, Message = "Sending HTTP request {HttpMethod} {Uri}")]
    private static partial void LogSending(ILogger logger, HttpMethod httpMethod, string? uri);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Request Headers:\n{Headers}")]
    private static partial void LogRequestHeaders(ILogger logger, string headers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Received HTTP response headers after {ElapsedMilliseconds}ms - {StatusCode}")]
    private static partial void LogReceived(ILogger logger, double elapsedMilliseconds, int statusCode);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Response Headers:\n{Headers}")]
    private static partial void LogResponseHeaders(ILogger logger, string headers);

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP request {HttpMethod} {Uri} failed after {ElapsedMilliseconds}ms")]
    private static partial void LogFailed(ILogger logger, HttpMethod httpMethod, string? uri, double elapsedMilliseconds, Exception exception);
}
