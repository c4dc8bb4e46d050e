using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using OpenNvr.AppHost;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for the whole test run, made from the machine's server binaries the same way the app
/// host's local mode does (<see cref="LocalPostgresCluster"/>), over a throw-away cluster in the temp folder.
/// Each test class asks for its own database, so classes never see each other's rows.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Instance = new(StartAsync);

    private readonly LocalPostgresCluster _cluster;
    private readonly Process _process;

    private PostgresServer(LocalPostgresCluster cluster, Process process, int port)
    {
        _cluster = cluster;
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static Task<PostgresServer> SharedAsync() => Instance.Value;

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Password = _cluster.Password, Database = database,
    }.ConnectionString;

    /// <summary>Creates an empty database with a unique name that starts with <paramref name="prefix"/>.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "opennvr-test-pg-" + Guid.NewGuid().ToString("N")[..8]);
        var cluster = LocalPostgresCluster.Ensure(LocalPostgresCluster.FindBinDir(), root);
        var port = FreeTcpPort();
        // Durability is not under test here; speed is.
        var (command, args) = cluster.ServerCommand(port, "fsync=off", "synchronous_commit=off", "full_page_writes=off");
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new PostgresServer(cluster, process, port);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop(root);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
                await connection.OpenAsync();
                return server;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    private void Stop(string root)
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }

            Directory.Delete(root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // Best effort at process exit; the folder lives in the temp directory.
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
