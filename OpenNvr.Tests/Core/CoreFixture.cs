using Microsoft.AspNetCore.Builder;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Core;

/// <summary>
/// Core hosted in-process over its own real PostgreSQL database, with known secrets and a throw-away recordings
/// root. One per test class (IClassFixture); subclasses change settings.
/// </summary>
public class CoreFixture : IAsyncLifetime
{
    public const string AdminPassword = "admin-password-for-tests";
    public const string InternalKey = "internal-key-for-tests-0123456789abcdef";
    /// <summary>The Core–Inference key of tests that run both (Inference shows it to Core's camera holder route).</summary>
    public const string CoreInferenceKey = "core-inference-key-for-tests-0123456789";
    /// <summary>The Recorder–Inference key of tests that run both (Inference shows it to the Recorder's frame route).</summary>
    public const string RecorderInferenceKey = "recorder-inference-key-for-tests-012345";
    public const string SigningKey = "signing-key-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz";
    public const string Issuer = "opennvr-core";
    public const string Audience = "opennvr";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string RecordingsRoot { get; } = TestTemp.NewFolder("core");

    public string ConnectionString { get; private set; } = "";

    public WebApplicationFactory<NvrDbContext> Factory { get; private set; } = null!;

    /// <summary>Core's clock (a fake one in <see cref="FakeClockCoreFixture"/>).</summary>
    public virtual TimeProvider Clock => TimeProvider.System;

    private string? _adminToken;
    private DateTimeOffset _adminTokenExpires;

    protected virtual void Configure(IWebHostBuilder host)
    {
    }

    /// <summary>Starts what a subclass's Core needs besides PostgreSQL (a blob store), before Core starts.</summary>
    protected virtual Task StartDependenciesAsync() => Task.CompletedTask;

    /// <summary>Stops what <see cref="StartDependenciesAsync"/> started, after Core stopped.</summary>
    protected virtual Task StopDependenciesAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(RecordingsRoot);
        await StartDependenciesAsync();
        ConnectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("core");
        Factory = new WebApplicationFactory<NvrDbContext>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:nvrdb", ConnectionString);
            host.UseSetting("Auth:AdminPassword", AdminPassword);
            host.UseSetting("Auth:JwtSigningKey", SigningKey);
            host.UseSetting("Auth:LoginPermitsPerMinute", "10000");
            host.UseSetting(ServiceKeys.RecorderCore, InternalKey);
            host.UseSetting(ServiceKeys.CoreInference, CoreInferenceKey);
            host.UseSetting("Recorder:RecordingsRoot", RecordingsRoot);
            Configure(host);
        });
        using var client = Factory.CreateClient();
        (await client.GetAsync("/health")).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await StopDependenciesAsync();
        TestTemp.TryDelete(RecordingsRoot);
    }

    public HttpClient Anonymous() => Factory.CreateClient();

    public HttpClient WithToken(string accessToken)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }

    public HttpClient Internal()
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Internal-Key", InternalKey);
        return client;
    }

    public async Task<JsonObject> LoginAsync(string username, string password)
    {
        using var client = Anonymous();
        using var response = await client.PostAsJsonAsync("/api/v1/auth/login", new { username, password });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"login of {username}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public async Task<HttpClient> AdminAsync()
    {
        // Logs in again when Core's clock has moved past the token's lifetime (a fake clock moves in leaps).
        if (_adminToken is null || Clock.GetUtcNow() > _adminTokenExpires - TimeSpan.FromMinutes(1))
        {
            var tokens = await LoginAsync("admin", AdminPassword);
            _adminToken = (string)tokens["access_token"]!;
            _adminTokenExpires = Clock.GetUtcNow() + TimeSpan.FromSeconds((int)tokens["expires_in"]!);
        }

        return WithToken(_adminToken);
    }

    public async Task<int> CreateCameraAsync(string name, object? extra = null)
    {
        using var admin = await AdminAsync();
        var body = JsonSerializer.SerializeToNode(extra ?? new { }, Json)!.AsObject();
        body["name"] = name;
        body["rtsp_url"] ??= $"rtsp://user:secret@cam-{Guid.NewGuid():N}.local:554/stream1";
        using var response = await admin.PostAsJsonAsync("/api/v1/cameras", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return (int)JsonNode.Parse(text)!["id"]!;
    }

    /// <summary>Creates a user with the role and grants and returns a client logged in as that user.</summary>
    public async Task<(int Id, HttpClient Client)> CreateUserAsync(string role, params int[] cameraIds)
    {
        using var admin = await AdminAsync();
        var username = $"{role}-{Guid.NewGuid():N}"[..24];
        const string password = "a-long-enough-password";
        using var response = await admin.PostAsJsonAsync("/api/v1/users", new { username, password, role, camera_ids = cameraIds });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var id = (int)JsonNode.Parse(text)!["id"]!;
        var tokens = await LoginAsync(username, password);
        return (id, WithToken((string)tokens["access_token"]!));
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        await command.ExecuteNonQueryAsync();
    }
}

public static class HttpAssert
{
    /// <summary>Asserts the status and that the body is problem JSON with a detail; returns the detail.</summary>
    public static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonNode.Parse(body)?["detail"]?.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(detail), body);
        return detail!;
    }

    public static async Task<JsonNode> OkJsonAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }
}
