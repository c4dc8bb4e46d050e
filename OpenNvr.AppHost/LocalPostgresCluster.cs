using System.Diagnostics;
using System.Security.Cryptography;

namespace OpenNvr.AppHost;

/// <summary>
/// A PostgreSQL cluster owned by the app host: <c>&lt;root&gt;/data</c> made once by initdb, its generated
/// superuser password in <c>&lt;root&gt;/password</c>. PostgreSQL refuses to run as root, so as root the files belong
/// to the <c>postgres</c> user and the server is started through <c>setpriv</c>, which execs (the server stays the
/// direct child, so the orchestrator's SIGTERM reaches it).
/// </summary>
public sealed class LocalPostgresCluster
{
    private const string ServiceUser = "postgres";

    private LocalPostgresCluster(string binDir, string root, string password)
    {
        BinDir = binDir;
        Root = root;
        Password = password;
    }

    public string BinDir { get; }
    public string Root { get; }
    public string DataDir => Path.Combine(Root, "data");
    public string Password { get; }

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>The newest PostgreSQL server binaries of the machine (Debian: /usr/lib/postgresql/&lt;version&gt;/bin).</summary>
    public static string FindBinDir()
    {
        const string root = "/usr/lib/postgresql";
        var candidates = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var v) ? v : -1))
                .Where(c => c.version > 0 && File.Exists(Path.Combine(c.dir, "bin", "postgres")))
                .OrderByDescending(c => c.version)
                .Select(c => Path.Combine(c.dir, "bin"))
                .ToList()
            : [];
        return candidates.FirstOrDefault() ?? throw new InvalidOperationException(
            "No PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin. Run eng/setup.sh, set " +
            "OpenNvr:PostgresBinDir, or configure ConnectionStrings:nvrdb and ConnectionStrings:inferencedb.");
    }

    public static LocalPostgresCluster Ensure(string binDir, string root)
    {
        Directory.CreateDirectory(root);
        var passwordFile = Path.Combine(root, "password");
        var dataDir = Path.Combine(root, "data");

        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
            File.WriteAllText(passwordFile, password);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true); // a half-made cluster from an interrupted first run
            }

            OwnByServiceUser(root);
            Run(binDir, "initdb", ["-D", dataDir, "-U", "postgres", $"--pwfile={passwordFile}", "-A", "scram-sha-256", "-E", "UTF8", "--no-instructions"]);
        }

        if (!File.Exists(passwordFile))
        {
            throw new InvalidOperationException($"PostgreSQL data exists in {dataDir} but its password file {passwordFile} is missing.");
        }

        return new LocalPostgresCluster(binDir, root, File.ReadAllText(passwordFile).Trim());
    }

    /// <summary>
    /// The server's command line; <paramref name="extraSettings"/> are more <c>-c name=value</c> settings. With
    /// <paramref name="dieWithParent"/> the kernel kills the server (SIGKILL) when the process that started it dies,
    /// through setpriv's parent-death signal, set after setpriv changed user (a change of user clears it). The signal
    /// follows the starting thread: start such a server from a thread that lives as long as the program.
    /// </summary>
    public (string Command, string[] Args) ServerCommand(int port, IEnumerable<string>? extraSettings = null, bool dieWithParent = false)
    {
        string[] serverArgs =
        [
            "-D", DataDir,
            "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
            .. (extraSettings ?? []).SelectMany(setting => new[] { "-c", setting }),
        ];
        return AsServiceUser(Path.Combine(BinDir, "postgres"), serverArgs, dieWithParent);
    }

    private static (string Command, string[] Args) AsServiceUser(string program, string[] args, bool dieWithParent = false)
    {
        string[] parentDeath = dieWithParent ? ["--pdeathsig", "KILL"] : [];
        return IsRoot
            ? ("setpriv", ["--reuid=" + ServiceUser, "--regid=" + ServiceUser, "--init-groups", .. parentDeath, "--", program, .. args])
            : dieWithParent ? ("setpriv", [.. parentDeath, "--", program, .. args]) : (program, args);
    }

    private static void OwnByServiceUser(string root)
    {
        if (IsRoot)
        {
            Run(null, "chown", ["-R", $"{ServiceUser}:{ServiceUser}", root]);
        }
    }

    private static void Run(string? binDir, string program, string[] args)
    {
        var (command, commandArgs) = binDir is null ? (program, args) : AsServiceUser(Path.Combine(binDir, program), args);
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in commandArgs)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{program}' failed with exit code {process.ExitCode}: {stderr.Result.Trim()}" +
                (IsRoot ? " (as root, every folder above the data root must be reachable by the postgres user)" : ""));
        }
    }
}

/// <summary>
/// A running server over a <see cref="LocalPostgresCluster"/>, for programs that start one themselves (tests and
/// benches; the app host lets its orchestrator run the same command instead). Disposing stops it.
/// </summary>
public sealed class LocalPostgresServer : IAsyncDisposable
{
    private readonly LocalPostgresCluster _cluster;
    private readonly Process _process;

    private LocalPostgresServer(LocalPostgresCluster cluster, Process process, int port)
    {
        _cluster = cluster;
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>
    /// Starts the server on a free loopback port and waits until it accepts connections. <paramref name="launch"/>,
    /// when given, starts the process instead of <see cref="Process.Start()"/>, and the server then dies with this
    /// program (see <see cref="LocalPostgresCluster.ServerCommand"/>): tests pass a launcher that starts it from a
    /// long-lived thread.
    /// </summary>
    public static async Task<LocalPostgresServer> StartAsync(LocalPostgresCluster cluster, IEnumerable<string> settings,
        Func<ProcessStartInfo, Task<Process>>? launch = null)
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var (command, args) = cluster.ServerCommand(port, settings, dieWithParent: launch is not null);
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = launch is not null
            ? await launch(start)
            : Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new LocalPostgresServer(cluster, process, port);

        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                await using var connection = new Npgsql.NpgsqlConnection(server.ConnectionString("postgres"));
                await connection.OpenAsync();
                return server;
            }
            catch (Npgsql.NpgsqlException) when (Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(30) && !process.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    public string ConnectionString(string database) => new Npgsql.NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Password = _cluster.Password, Database = database,
    }.ConnectionString;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Stops the server (its data stays in the cluster's folder).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private int _disposed;
}
