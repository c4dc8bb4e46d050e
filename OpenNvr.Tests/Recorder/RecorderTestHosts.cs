using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Recorder.Frames;
using OpenNvr.Recorder.Leases;
using OpenNvr.Recorder.Recording;
using OpenNvr.Recorder.Registration;
using OpenNvr.Recorder.Retention;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

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

    public static async Task<CoreServer> StartAsync(int leaseSeconds = 30, IDictionary<string, string>? extraSettings = null)
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("rec_core");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:nvrdb"] = connectionString,
            ["Auth:AdminPassword"] = CoreFixture.AdminPassword,
            ["Auth:JwtSigningKey"] = CoreFixture.SigningKey,
            ["Auth:LoginPermitsPerMinute"] = "10000",
            ["Internal:ApiKey"] = CoreFixture.InternalKey,
            ["Internal:LeaseSeconds"] = leaseSeconds.ToString(CultureInfo.InvariantCulture),
            ["Cameras:AllowFileSources"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var server = new CoreServer(connectionString, RtspTestServer.FreeTcpPort(), settings);
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

/// <summary>The Recorder hosted in-process (TestServer), pointed at a <see cref="CoreServer"/> by service discovery.</summary>
public sealed class RecorderInstance : IAsyncDisposable
{
    private readonly WebApplicationFactory<RecordingCoordinator> _factory;

    private RecorderInstance(WebApplicationFactory<RecordingCoordinator> factory, string root, string framesRoot)
    {
        _factory = factory;
        RecordingsRoot = root;
        FramesRoot = framesRoot;
    }

    public string RecordingsRoot { get; }

    public string FramesRoot { get; }

    public IServiceProvider Services => _factory.Services;

    public RecordingCoordinator Coordinator => Services.GetRequiredService<RecordingCoordinator>();

    public ChunkOutbox Outbox => Services.GetRequiredService<ChunkOutbox>();

    public CameraStateReporter States => Services.GetRequiredService<CameraStateReporter>();

    public RetentionService Retention => Services.GetRequiredService<RetentionService>();

    public FramePublisher Frames => Services.GetRequiredService<FramePublisher>();

    public ChildProcesses Children => Services.GetRequiredService<ChildProcesses>();

    public string Id => Services.GetRequiredService<RecorderIdentity>().Id;

    public HttpClient CreateClient() => _factory.CreateClient();

    /// <summary>Starts a Recorder. <paramref name="settings"/> override the test defaults (Recorder:* keys etc.).</summary>
    public static RecorderInstance Start(CoreServer core, string? recordingsRoot = null, IDictionary<string, string>? settings = null)
    {
        var root = recordingsRoot ?? NewTempFolder("opennvr-rec");
        var frames = NewTempFolder("opennvr-frames");
        var all = new Dictionary<string, string>
        {
            ["services:core:http:0"] = core.BaseUrl,
            ["Internal:ApiKey"] = CoreFixture.InternalKey,
            ["Recorder:RecordingsRoot"] = root,
            ["Frames:Root"] = frames,
            ["Recorder:HeartbeatSeconds"] = "1",
            ["Recorder:ChunkSeconds"] = "4",
            ["Recorder:StallSeconds"] = "12",
            ["Recorder:RetentionIntervalSeconds"] = "3600",
            ["Recorder:MinFreePercent"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        var factory = new WebApplicationFactory<RecordingCoordinator>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in all)
            {
                host.UseSetting(key, value);
            }
        });
        _ = factory.Server; // starts the host and its background services
        return new RecorderInstance(factory, root, frames);
    }

    /// <summary>Stops the host (every ffmpeg stopped cleanly, like SIGTERM in production).</summary>
    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>
    /// A throw-away folder under <c>&lt;temp&gt;/opennvr-recorder-tests/</c>. Tests read chunks after their Recorder
    /// stopped, so folders live until the run ends (deleted at exit when the test host exits normally) and folders
    /// of earlier runs older than two hours are removed when the first one is made.
    /// </summary>
    public static string NewTempFolder(string prefix)
    {
        var path = Path.Combine(TempParent.Value, $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(path);
        TempFolders.Add(path);
        return path;
    }

    private static readonly System.Collections.Concurrent.ConcurrentBag<string> TempFolders = [];

    private static readonly Lazy<string> TempParent = new(() =>
    {
        var parent = Path.Combine(Path.GetTempPath(), "opennvr-recorder-tests");
        Directory.CreateDirectory(parent);
        foreach (var old in new DirectoryInfo(parent).EnumerateDirectories().Where(d => d.LastWriteTimeUtc < DateTime.UtcNow.AddHours(-2)))
        {
            TryDelete(old.FullName);
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var folder in TempFolders)
            {
                TryDelete(folder);
            }
        };
        return parent;
    });

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Chunk files of a camera on disk, relative to the recordings root.</summary>
    public List<string> ChunkFiles(int cameraId)
    {
        var dir = Path.Combine(RecordingsRoot, cameraId.ToString(CultureInfo.InvariantCulture));
        return Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*.mp4", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(RecordingsRoot, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal).ToList()
            : [];
    }
}

public static class Wait
{
    /// <summary>Polls until the condition holds; fails with the message when the timeout passes.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, int pollMs = 250)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:F0} s waiting for {what}.");
            }

            await Task.Delay(pollMs);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, int pollMs = 250) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, pollMs);
}

/// <summary>ffprobe as the judge of a chunk: every frame decodes, no error is printed.</summary>
public static class Ffprobe
{
    public sealed record Report(int Frames, double DurationSeconds, string Codec, int Width, int Height, string Errors);

    public static async Task<Report> ReadAllFramesAsync(string file)
    {
        var start = new ProcessStartInfo("ffprobe")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                     "stream=codec_name,width,height,nb_read_frames:format=duration", "-of", "json", file })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ffprobe failed on {file}: {await stderr}");
        var json = JsonNode.Parse(await stdout)!;
        var stream = json["streams"]![0]!;
        return new Report(
            int.Parse((string)stream["nb_read_frames"]!, CultureInfo.InvariantCulture),
            double.Parse((string)json["format"]!["duration"]!, CultureInfo.InvariantCulture),
            (string)stream["codec_name"]!,
            (int)stream["width"]!,
            (int)stream["height"]!,
            (await stderr).Trim());
    }
}

/// <summary>
/// The Recorder as its own process (<c>dotnet OpenNvr.Recorder.dll</c>, the build of the same configuration as the
/// tests), configured through environment variables as the app host does, so that it can be killed with SIGKILL.
/// Disposing kills it and any ffmpeg listed in its pid file.
/// </summary>
public sealed class RecorderProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private RecorderProcess(Process process, string root)
    {
        _process = process;
        RecordingsRoot = root;
    }

    public int Pid => _process.Id;

    public string RecordingsRoot { get; }

    public bool HasExited => _process.HasExited;

    /// <summary><c>&lt;root&gt;/.recorder/children-&lt;machine&gt;-&lt;pid&gt;.txt</c>: the ffmpeg pids the Recorder tracks.</summary>
    public string ChildrenFile => Path.Combine(RecordingsRoot, ".recorder", $"children-{Environment.MachineName}-{Pid}.txt");

    public IReadOnlyList<int> ChildPids() =>
        File.Exists(ChildrenFile)
            ? File.ReadAllLines(ChildrenFile).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList()
            : [];

    /// <summary>The last lines the Recorder wrote (for assertion messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output.TakeLast(30));
            }
        }
    }

    public static string DllPath
    {
        get
        {
            // .../OpenNvr.Tests/bin/<configuration>/<tfm>/: the Recorder's own output of the same configuration.
            var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = tfmDir.Parent!.Name;
            return Path.Combine(RepositoryPaths.Root, "OpenNvr.Recorder", "bin", configuration, tfmDir.Name, "OpenNvr.Recorder.dll");
        }
    }

    public static RecorderProcess Start(CoreServer core, string recordingsRoot, string recorderId, IDictionary<string, string>? settings = null)
    {
        Assert.True(File.Exists(DllPath), $"{DllPath} is missing: build OpenNvr.Recorder first.");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(DllPath)!,
        };
        start.ArgumentList.Add(DllPath);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        var environment = new Dictionary<string, string>
        {
            ["services__core__http__0"] = core.BaseUrl,
            ["Internal__ApiKey"] = CoreFixture.InternalKey,
            ["Recorder__RecordingsRoot"] = recordingsRoot,
            ["Frames__Root"] = RecorderInstance.NewTempFolder("opennvr-frames"),
            ["Recorder__RecorderId"] = recorderId,
            ["Recorder__HeartbeatSeconds"] = "1",
            ["Recorder__ChunkSeconds"] = "4",
            ["Recorder__StallSeconds"] = "12",
            ["Recorder__RetentionIntervalSeconds"] = "3600",
            ["Recorder__MinFreePercent"] = "0",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var host = new RecorderProcess(process, recordingsRoot);
        process.OutputDataReceived += (_, e) => host.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => host.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void KillHard() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        var children = ChildPids();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        // Whatever it left behind (the test asserts separately whether they died on their own).
        foreach (var pid in children)
        {
            try
            {
                using var child = Process.GetProcessById(pid);
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains("ffmpeg", StringComparison.Ordinal))
                {
                    child.Kill();
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
            {
            }
        }

        _process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > 500)
            {
                _output.RemoveAt(0);
            }
        }
    }
}
