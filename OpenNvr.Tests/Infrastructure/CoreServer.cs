using Microsoft.AspNetCore.Builder;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Tests.Core;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// The real Core on Kestrel (127.0.0.1, a fixed free port so that it can go away and come back at the same
/// address) over its own real PostgreSQL database. The Recorder reaches it over HTTP as in production.
/// </summary>
public sealed class CoreServer : IAsyncDisposable
{
    private readonly Dictionary<string, string> _settings;
    private WebApplicationFactory<NvrDbContext>? _factory;
    private string? _adminToken;

    private CoreServer(string connectionString, int port, Dictionary<string, string> settings)
    {
        ConnectionString = connectionString;
        Port = port;
        _settings = settings;
    }

    public string ConnectionString { get; }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public bool IsRunning => _factory is not null;

    /// <summary>The running Core's services (its real clients, with its keys).</summary>
    public IServiceProvider Services => _factory?.Services ?? throw new InvalidOperationException("Core is not running.");

    public static async Task<CoreServer> StartAsync(int leaseSeconds = 30, IDictionary<string, string>? extraSettings = null)
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("rec_core");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:nvrdb"] = connectionString,
            ["Auth:AdminPassword"] = CoreFixture.AdminPassword,
            ["Auth:JwtSigningKey"] = CoreFixture.SigningKey,
            ["Auth:LoginPermitsPerMinute"] = "10000",
            [ServiceKeys.RecorderCore] = CoreFixture.InternalKey,
            [ServiceKeys.CoreInference] = CoreFixture.CoreInferenceKey,
            ["Internal:LeaseSeconds"] = leaseSeconds.ToString(CultureInfo.InvariantCulture),
            ["Cameras:AllowFileSources"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var server = new CoreServer(connectionString, FreePort.Tcp(), settings);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts Core (again) on the same port and database.</summary>
    public async Task StartAgainAsync()
    {
        var factory = new WebApplicationFactory<NvrDbContext>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in _settings)
            {
                host.UseSetting(key, value);
            }
        });
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, Port));
        factory.StartServer();
        _factory = factory;
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        (await http.GetAsync("/health")).EnsureSuccessStatusCode();
    }

    /// <summary>Core goes away: Kestrel stops listening (the database stays).</summary>
    public async Task StopAsync()
    {
        if (_factory is { } factory)
        {
            _factory = null;
            await factory.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    public HttpClient Http() => new() { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };

    public async Task<HttpClient> AdminAsync()
    {
        if (_adminToken is null)
        {
            using var anonymous = Http();
            using var response = await anonymous.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = CoreFixture.AdminPassword });
            _adminToken = (string)(await HttpAssert.OkJsonAsync(response))["access_token"]!;
        }

        var client = Http();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _adminToken);
        return client;
    }

    public HttpClient Internal()
    {
        var client = Http();
        client.DefaultRequestHeaders.Add("X-Internal-Key", CoreFixture.InternalKey);
        return client;
    }

    public async Task<int> CreateCameraAsync(string name, string url, object? extra = null)
    {
        using var admin = await AdminAsync();
        var body = JsonSerializer.SerializeToNode(extra ?? new { }, CoreFixture.Json)!.AsObject();
        body["name"] = name;
        body["rtsp_url"] = url;
        using var response = await admin.PostAsJsonAsync("/api/v1/cameras", body);
        return (int)(await HttpAssert.OkJsonAsync(response, HttpStatusCode.Created))["id"]!;
    }

    public async Task UpdateCameraAsync(int id, object changes)
    {
        using var admin = await AdminAsync();
        using var response = await admin.PutAsJsonAsync($"/api/v1/cameras/{id}", changes);
        await HttpAssert.OkJsonAsync(response);
    }

    public async Task<JsonNode> CameraAsync(int id)
    {
        using var admin = await AdminAsync();
        return await HttpAssert.OkJsonAsync(await admin.GetAsync($"/api/v1/cameras/{id}"));
    }

    /// <summary>The public window query (recordings and gaps).</summary>
    public async Task<JsonNode> WindowAsync(int cameraId, double start, double end)
    {
        using var admin = await AdminAsync();
        return await HttpAssert.OkJsonAsync(await admin.GetAsync(
            $"/api/v1/recordings/{cameraId}?start_unix={start.ToString(CultureInfo.InvariantCulture)}&end_unix={end.ToString(CultureInfo.InvariantCulture)}"));
    }

    /// <summary>Every index row of a camera, straight from PostgreSQL, oldest first.</summary>
    public async Task<List<IndexRow>> RowsAsync(int cameraId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT id, path, extract(epoch FROM start_at)::float8, extract(epoch FROM end_at)::float8, duration_s, size_bytes, codec, width, height, is_evidence " +
            "FROM recordings WHERE camera_id = $1 ORDER BY start_at", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = cameraId });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<IndexRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new IndexRow(reader.GetInt64(0), reader.GetString(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetDouble(4),
                reader.GetInt64(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetInt32(7),
                reader.IsDBNull(8) ? null : reader.GetInt32(8), reader.GetBoolean(9)));
        }

        return rows;
    }

    public async Task FlagEvidenceAsync(int cameraId, long recordingId)
    {
        using var admin = await AdminAsync();
        using var response = await admin.PutAsJsonAsync($"/api/v1/recordings/{cameraId}/{recordingId}/evidence", new { is_evidence = true });
        await HttpAssert.OkJsonAsync(response);
    }
}

public sealed record IndexRow(long Id, string Path, double StartUnix, double EndUnix, double DurationS, long SizeBytes, string? Codec, int? Width, int? Height, bool IsEvidence);
