using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace OpenNvr.AppHost;

/// <summary>
/// PostgreSQL in three modes, with identical service code in each (<c>ConnectionStrings:nvrdb</c> and
/// <c>ConnectionStrings:inferencedb</c>):
/// <list type="bullet">
/// <item><c>external</c>: both connection strings are configured; the app host starts no server.</item>
/// <item><c>container</c>: a container engine answers, or the app host publishes a manifest.</item>
/// <item><c>local</c>: otherwise; the machine's PostgreSQL server binaries run as an executable resource over a data
/// directory that survives restarts, so the recordings index and events outlive a run.</item>
/// </list>
/// <c>OpenNvr:PostgresMode</c> (auto, external, container, local) overrides the choice.
/// </summary>
internal static class PostgresModes
{
    public const string External = "external";
    public const string Container = "container";
    public const string Local = "local";

    public static NvrDatabases AddNvrDatabases(this IDistributedApplicationBuilder builder, string dataRoot)
    {
        var mode = ResolveMode(builder);
        return mode switch
        {
            External => new NvrDatabases(mode, builder.AddConnectionString("nvrdb"), builder.AddConnectionString("inferencedb"), null),
            Container => AddContainer(builder),
            Local => AddLocal(builder, dataRoot),
            _ => throw new InvalidOperationException($"OpenNvr:PostgresMode '{mode}' is not one of auto, external, container, local."),
        };
    }

    private static string ResolveMode(IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration["OpenNvr:PostgresMode"]?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(configured) && configured != "auto")
        {
            return configured;
        }

        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("nvrdb")))
        {
            return External;
        }

        return builder.ExecutionContext.IsPublishMode || ContainerEngineAnswers() ? Container : Local;
    }

    private static NvrDatabases AddContainer(IDistributedApplicationBuilder builder)
    {
        var postgres = builder.AddPostgres("postgres").WithDataVolume("opennvr-postgres");
        return new NvrDatabases(Container, postgres.AddDatabase("nvrdb"), postgres.AddDatabase("inferencedb"), postgres);
    }

    private static NvrDatabases AddLocal(IDistributedApplicationBuilder builder, string dataRoot)
    {
        var binDir = builder.Configuration["OpenNvr:PostgresBinDir"] ?? LocalPostgresCluster.FindBinDir();
        var cluster = LocalPostgresCluster.Ensure(binDir, Path.Combine(dataRoot, "postgres"));
        var port = builder.Configuration.GetValue<int?>("OpenNvr:PostgresPort") ?? FreeTcpPort();

        var password = builder.AddParameter("postgres-password", cluster.Password, secret: true);
        var (command, args) = cluster.ServerCommand(port);
        var healthCheckKey = "postgres-ready";
        var server = builder.AddExecutable("postgres", command, cluster.Root, args)
            .WithEndpoint(name: "tcp", port: port, targetPort: port, scheme: "tcp", isProxied: false)
            .WithHealthCheck(healthCheckKey);
        builder.Services.AddHealthChecks().AddCheck(
            healthCheckKey, new PostgresReadyCheck(ConnectionString(port, cluster.Password, "postgres")));

        IResourceBuilder<IResourceWithConnectionString> Database(string name) => builder.AddConnectionString(
            name, ReferenceExpression.Create($"Host=127.0.0.1;Port={port.ToString(System.Globalization.CultureInfo.InvariantCulture)};Username=postgres;Password={password};Database={name}"));

        return new NvrDatabases(Local, Database("nvrdb"), Database("inferencedb"), server);
    }

    private static string ConnectionString(int port, string password, string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = port, Username = "postgres", Password = password, Database = database, Timeout = 3,
        }.ConnectionString;

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool ContainerEngineAnswers()
    {
        var runtime = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME") ?? "docker";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return false;
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no such client on this machine
        }
    }

    private sealed class PostgresReadyCheck(string connectionString) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        }
    }
}
