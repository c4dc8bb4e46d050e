using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using OpenNvr.AppHost;

namespace OpenNvr.Bench;

/// <summary>What every bench command needs: the repository, free ports, child processes, a throw-away PostgreSQL.</summary>
public static class BenchHost
{
    /// <summary>The repository root: the first folder above the bench binaries that holds OpenNvr.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>A service's built assembly, from the same configuration (Debug/Release) as the running bench.</summary>
    public static string ServiceDll(string project)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = Path.Combine(RepositoryRoot, project, "bin", configuration, "net10.0", project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build {project} ({configuration}) first.", dll);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A PostgreSQL server over a new cluster in <paramref name="root"/>.</summary>
    public static Task<LocalPostgresServer> StartPostgresAsync(string root, params string[] settings) =>
        LocalPostgresServer.StartAsync(LocalPostgresCluster.Ensure(LocalPostgresCluster.FindBinDir(), root), settings);

    /// <summary>Starts a child process; its standard output goes to stderr prefixed with <paramref name="label"/>.</summary>
    public static Process StartProcess(string command, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string label)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  {label}| {e.Data}"); };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Calls <paramref name="probe"/> until it stops throwing, or rethrows after the timeout (default 30 s).</summary>
    public static async Task WaitForAsync(Func<Task> probe, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                await probe();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Azurite (eng/tools, installed by eng/setup.sh) on a free loopback port over <paramref name="location"/>, and its connection string.</summary>
    public static async Task<(Process Process, string ConnectionString)> StartAzuriteAsync(string location)
    {
        var executable = Path.Combine(BenchHost.RepositoryRoot, "eng", "tools", "node_modules", ".bin", "azurite-blob");
        var process = Process.Start(new ProcessStartInfo(executable,
            ["--location", location, "--blobHost", "127.0.0.1", "--blobPort", "0", "--skipApiVersionCheck", "--loose", "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("Azurite did not start: run eng/setup.sh.");
        var listening = new TaskCompletionSource<int>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && Regex.Match(e.Data, @"listens on http://127\.0\.0\.1:(\d+)") is { Success: true } match)
            {
                listening.TrySetResult(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(90));
        const string key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
        return (process, $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;");
    }

    public static string? ArgValue(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    public static int ArgInt(string[] args, string name, int fallback) =>
        ArgValue(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpenNvr.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("OpenNvr.sln not found above the bench binaries.");
    }
}
