using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// Adds <c>Authorization: Bearer &lt;HuggingFace:Token&gt;</c> to each attempt. The token is read from options on
/// every request (so a rotated secret applies without a restart) and is never logged: the client's logged headers
/// are redacted (see <see cref="HuggingFaceServiceCollectionExtensions"/>).
/// </summary>
internal sealed class HuggingFaceAuthHandler(IOptionsMonitor<HuggingFaceOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = options.CurrentValue.Token;
        if (!string.IsNullOrWhiteSpace(token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// Innermost handler, so it runs once per attempt: counts the attempt and classifies its reply into the call's
/// <see cref="HuggingFaceCall"/>, where the retry and circuit-breaker predicates read it.
/// </summary>
internal sealed class HuggingFaceAttemptHandler(TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var call = HuggingFaceCall.Of(request);
        call?.BeginAttempt();
        var response = await base.SendAsync(request, cancellationToken);
        if (call is not null)
        {
            await call.RecordAsync(response, time, cancellationToken);
        }

        return response;
    }
}
