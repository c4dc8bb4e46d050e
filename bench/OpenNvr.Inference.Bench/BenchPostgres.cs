using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using OpenNvr.AppHost;

namespace OpenNvr.Inference.Bench;

/// <summary>A throw-away PostgreSQL from the machine's server binaries (Inference migrates its database at start-up).</summary>
internal sealed class BenchPostgres : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _root;

    private BenchPostgres(Process process, string root, string connectionString)
    {
        _process = process;
        _root = root;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<BenchPostgres> StartAsync(string root)
    {
        var cluster = LocalPostgresCluster.Ensure(LocalPostgresCluster.FindBinDir(), root);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (command, args) = cluster.ServerCommand(port, "fsync=off");
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "postgres", Password = cluster.Password, Database = "inferencedb",
        }.ConnectionString;

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString.Replace("Database=inferencedb", "Database=postgres", StringComparison.Ordinal));
                await connection.OpenAsync();
                return new BenchPostgres(process, root, connectionString);
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
