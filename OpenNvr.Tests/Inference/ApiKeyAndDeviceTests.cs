using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace OpenNvr.Tests.Inference;

/// <summary>The service with <c>Inference:ApiKey</c> set and the CUDA provider requested on a machine without CUDA.</summary>
public sealed class SecuredCudaFixture : InferenceServiceFixture
{
    public const string ApiKey = "test-inference-key-0123456789abcdef";

    /// <summary>What the service logged at Information and above (FakeLogger).</summary>
    public IReadOnlyList<FakeLogRecord> Logs => Factory.Services.GetFakeLogCollector().GetSnapshot();

    protected override IEnumerable<KeyValuePair<string, string?>> Settings =>
        [new("Inference:ApiKey", ApiKey), new("Inference:ExecutionProvider", "cuda")];

    protected override void ConfigureHost(IWebHostBuilder host) =>
        host.ConfigureServices(services => services.AddFakeLogging(options =>
        {
            options.FilteredLevels.UnionWith([LogLevel.Information, LogLevel.Warning, LogLevel.Error, LogLevel.Critical]);
            options.CollectRecordsForDisabledLogLevels = false;
        }));
}

public sealed class ApiKeyAndDeviceTests(SecuredCudaFixture fixture) : IClassFixture<SecuredCudaFixture>
{
    private static readonly object Body = InferenceServiceFixture.InferBody("person_counting", "opennvr://frames/persons/astronaut.jpg");

    [Theory]
    [InlineData(null, "is required")]
    [InlineData("", "is required")]
    [InlineData("wrong", "is not valid")]
    [InlineData(SecuredCudaFixture.ApiKey + "x", "is not valid")]
    public async Task Infer_without_the_right_key_is_401(string? key, string detail)
    {
        await InferErrorTests.AssertProblemAsync(await SendAsync(HttpMethod.Post, "/infer", key, Body), HttpStatusCode.Unauthorized, detail);
    }

    [Theory]
    [InlineData("/tasks")]
    [InlineData("/schema?task=person_counting")]
    public async Task Tasks_and_schema_require_the_key_too(string path)
    {
        await InferErrorTests.AssertProblemAsync(await SendAsync(HttpMethod.Get, path, null), HttpStatusCode.Unauthorized, "X-API-Key");
        using var ok = await SendAsync(HttpMethod.Get, path, SecuredCudaFixture.ApiKey);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Infer_with_the_key_runs()
    {
        using var response = await SendAsync(HttpMethod.Post, "/infer", SecuredCudaFixture.ApiKey, Body);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        Assert.Equal(1, JsonDocument.Parse(body).RootElement.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/capabilities")]
    public async Task Health_and_capabilities_stay_open(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Requested_cuda_falls_back_to_cpu_with_a_warning_when_unavailable()
    {
        using var response = await SendAsync(HttpMethod.Get, "/tasks", SecuredCudaFixture.ApiKey);
        var tasks = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("tasks");

        Assert.Equal("cpu", tasks.GetProperty("person_counting").GetProperty("model_info").GetProperty("device").GetString());
        Assert.Contains(fixture.Logs, log => log.Level == LogLevel.Warning && log.Message.Contains("CUDA execution provider requested but unavailable", StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Logs, log => log.Message.Contains(SecuredCudaFixture.ApiKey, StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return fixture.Client.SendAsync(request);
    }
}
