using System.Net.Http.Headers;
using System.Text;

namespace OpenNvr.Core.WebConsole;

/// <summary>An answer of Inference passed on to the browser as it came (status, content type, body).</summary>
public sealed record ProxiedAnswer(int StatusCode, string? ContentType, byte[] Body);

/// <summary>
/// The face registry lives on Inference (<c>/faces/...</c>, behind <c>X-API-Key</c>). Core calls it for the console
/// through service discovery (<c>http://inference</c>) with <c>Inference:ApiKey</c>, so the browser needs one port
/// and one login and never sees the key.
/// </summary>
public sealed class InferenceFacesClient(HttpClient http, IConfiguration configuration)
{
    public const string DefaultBaseUrl = "http://inference";
    private const int MaxAnswerBytes = 1024 * 1024;

    public Task<ProxiedAnswer> ListAsync(string? category, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, category is null ? "faces/list" : $"faces/list?category={Uri.EscapeDataString(category)}", null, ct);

    public Task<ProxiedAnswer> GetAsync(string personId, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, $"faces/{Uri.EscapeDataString(personId)}", null, ct);

    public Task<ProxiedAnswer> DeleteAsync(string personId, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, $"faces/{Uri.EscapeDataString(personId)}", null, ct);

    public Task<ProxiedAnswer> RegisterAsync(string jsonBody, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "faces/register", jsonBody, ct);

    private async Task<ProxiedAnswer> SendAsync(HttpMethod method, string path, string? jsonBody, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (configuration["Inference:ApiKey"] is { Length: > 0 } key)
        {
            request.Headers.Add("X-API-Key", key);
        }

        if (jsonBody is not null)
        {
            request.Content = new StringContent(jsonBody, Encoding.UTF8, "application/json");
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (body.Length > MaxAnswerBytes)
        {
            throw new HttpRequestException($"Inference answered more than {MaxAnswerBytes} bytes.");
        }

        return new ProxiedAnswer((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body);
    }
}
