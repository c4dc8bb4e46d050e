using OpenNvr.AppHost;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for the whole test run, made from the machine's server binaries the same way the app
/// host's local mode does (<see cref="LocalPostgresCluster"/>), over a throw-away cluster in the run's temp folder.
/// It dies with the test host (<see cref="TestProcesses"/>) and its folder goes with the run's (<see cref="TestTemp"/>).
/// Each test class asks for its own database, so classes never see each other's rows.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Instance = new(StartAsync);

    private readonly LocalPostgresServer _server;

    private PostgresServer(LocalPostgresServer server) => _server = server;

    public int Port => _server.Port;

    public static Task<PostgresServer> SharedAsync() => Instance.Value;

    public string ConnectionString(string database) => _server.ConnectionString(database);

    /// <summary>Creates an empty database with a unique name that starts with <paramref name="prefix"/>.</summary>
    public Task<string> CreateDatabaseAsync(string prefix) =>
        _server.CreateDatabaseAsync($"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant());

    private static async Task<PostgresServer> StartAsync()
    {
        var cluster = LocalPostgresCluster.Ensure(LocalPostgresCluster.FindBinDir(), TestTemp.NewFolder("pg"));
        // Durability is not under test here; speed is. One server serves every fixture of the run, and each fixture's
        // hosts keep their own connection pools until the run ends: 200 connections ran out once the suite passed
        // ~650 tests ("53300: too many clients").
        var server = await LocalPostgresServer.StartAsync(cluster,
            ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=800"], TestProcesses.StartAsync);
        return new PostgresServer(server);
    }
}
