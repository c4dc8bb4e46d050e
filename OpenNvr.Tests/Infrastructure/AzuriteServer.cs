using System.Diagnostics;
using System.Text.RegularExpressions;
using OpenNvr.Recorder.Recording;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// A real Azure Blob Storage server for tests: Azurite (eng/tools, installed by eng/setup.sh) on a free loopback
/// port over its own temp folder (<see cref="TestTemp"/>). It dies with the test host, however that dies: it is
/// started through <see cref="TestProcesses"/> like every test child process. <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> make
/// outages (same port, same data); disposing stops it and deletes its folder.
/// </summary>
public sealed partial class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account (public: it is in Azurite's documentation).</summary>
    public const string AccountName = "devstoreaccount1";

    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly Lazy<Task<AzuriteServer>> Shared = new(async () =>
    {
        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        return server;
    });

    private Process? _process;

    private AzuriteServer(string location) => Location = location;

    /// <summary>Azurite's data folder (removed on dispose).</summary>
    public string Location { get; }

    public int Port { get; private set; }

    public string BlobEndpoint => $"http://127.0.0.1:{Port}/{AccountName}";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>One server for the whole test run (test classes keep apart by container name).</summary>
    public static Task<AzuriteServer> SharedAsync() => Shared.Value;

    public static string Executable => Path.Combine(RepositoryPaths.Root, "eng", "tools", "node_modules", ".bin", "azurite-blob");

    /// <summary>Starts a private server (for tests that stop and restart it).</summary>
    public static async Task<AzuriteServer> StartAsync()
    {
        var server = new AzuriteServer(TestTemp.NewFolder("azurite"));
        try
        {
            await server.LaunchAsync(port: 0);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Stops the server: the store goes away (connections refused) and its data stays for <see cref="StartAgainAsync"/>.
    /// SIGTERM, not SIGKILL: Azurite keeps its metadata in memory and saves it on exit (a killed Azurite forgets
    /// recent containers and blobs, which no real outage of Azure does).
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                ChildProcesses.Signal(process, 15);
                using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await process.WaitForExitAsync(patience.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill();
                }
            }

            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Starts the server again on the same port over the same data.</summary>
    public Task StartAgainAsync() => LaunchAsync(Port);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Location, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private async Task LaunchAsync(int port)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"Azurite is not installed ({Executable} is missing): run eng/setup.sh.");
        }

        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--location", Location, "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--skipApiVersionCheck", "--loose", "--silent"])
        {
            start.ArgumentList.Add(arg);
        }

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = await TestProcesses.StartAsync(start);
        process.EnableRaisingEvents = true;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException(
            $"Azurite exited before listening: {string.Join(" | ", output)}"));

        if (process.HasExited)
        {
            listening.TrySetException(new InvalidOperationException($"Azurite exited at once with code {process.ExitCode}."));
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            // Node starts slowly on a loaded machine (measured here: 2 s idle, much longer at load 40+).
            Port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Azurite did not listen within 90 s: {string.Join(" | ", output)}");
        }
    }

    [GeneratedRegex(@"successfully listens on http://127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();
}
