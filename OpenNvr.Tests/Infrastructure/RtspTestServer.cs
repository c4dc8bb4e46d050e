using System.Diagnostics;
using System.Runtime.InteropServices;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// A real RTSP test camera server (eng/rtsp-test-server.py on Debian's python3 with GStreamer's RTSP server) on
/// 127.0.0.1. <see cref="StopAsync"/> and <see cref="RestartAsync"/> simulate a camera going away and coming back on
/// the same port; disposing kills it. Mounts are the script's arguments, e.g. <c>--pattern /pattern</c> or
/// <c>--file /cam=testdata/video/vtest.mp4</c>. <see cref="Freeze"/> and <see cref="Thaw"/> (SIGSTOP, SIGCONT) simulate a
/// camera that hangs without closing its connections: TCP stays open, no bytes arrive.
/// </summary>
public sealed class RtspTestServer : IAsyncDisposable
{
    /// <summary>Overrides the script path (e.g. to try a newer copy of the script).</summary>
    public const string ScriptVariable = "OPENNVR_RTSP_TEST_SERVER";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    private readonly string[] _mountArguments;
    private Process? _process;
    private readonly List<string> _stderr = [];

    private RtspTestServer(string[] mountArguments) => _mountArguments = mountArguments;

    public int Port { get; private set; }

    /// <summary><c>rtsp://127.0.0.1:PORT</c>.</summary>
    public string BaseUrl => $"rtsp://127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    public string Url(string mount) => BaseUrl + (mount.StartsWith('/') ? mount : "/" + mount);

    public static string ScriptPath =>
        Environment.GetEnvironmentVariable(ScriptVariable) is { Length: > 0 } custom ? custom : Path.Combine(RepositoryPaths.Root, "eng", "rtsp-test-server.py");

    /// <summary>Starts the server on a free port and waits for its READY line.</summary>
    public static async Task<RtspTestServer> StartAsync(params string[] mountArguments)
    {
        var server = new RtspTestServer(mountArguments);
        await server.LaunchAsync(0);
        return server;
    }

    /// <summary>The camera goes away: SIGTERM, then kill if it lingers. The port stays reserved for a restart.</summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        if (!process.HasExited)
        {
            _ = SendSignal(process.Id, SigTerm);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }

    /// <summary>
    /// The camera hangs: the server process is stopped (SIGSTOP), so its connections stay open and silent, and new
    /// ones are accepted by the kernel but never answered. Always <see cref="Thaw"/> (or dispose) afterwards.
    /// </summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>The hung camera carries on (SIGCONT).</summary>
    public void Thaw() => Signal(SigCont);

    private void Signal(int signal)
    {
        var process = _process ?? throw new InvalidOperationException("The RTSP test server is not running.");
        if (SendSignal(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>The camera comes back on the same port (retrying briefly while the old socket is released).</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        string? lastFailure = null;
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await LaunchAsync(Port);
                return true;
            }
            catch (InvalidOperationException ex)
            {
                lastFailure = ex.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(15), () => $"the RTSP test server to listen on port {Port} again ({lastFailure})");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            try
            {
                if (!process.HasExited)
                {
                    // SIGKILL ends a frozen (SIGSTOP) server as well; SIGCONT first anyway so nothing lingers stopped.
                    _ = SendSignal(process.Id, SigCont);
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }
    }

    private async Task LaunchAsync(int port)
    {
        var script = ScriptPath;
        if (!File.Exists(script))
        {
            throw new FileNotFoundException($"The RTSP test server script is missing: {script} (set {ScriptVariable} to override).", script);
        }

        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var argument in _mountArguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = await TestProcesses.StartAsync(start);
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("READY ", StringComparison.Ordinal) &&
                Uri.TryCreate(line["READY ".Length..].Trim(), UriKind.Absolute, out var uri))
            {
                ready.TrySetResult(uri.Port);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (_stderr)
                {
                    if (_stderr.Count < 200)
                    {
                        _stderr.Add(line);
                    }
                }
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException(
            $"The RTSP test server exited before READY (port {port}): {string.Join(" | ", Stderr.TakeLast(5))}"));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            Port = await ready.Task.WaitAsync(ReadyTimeout);
            _process = process;
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
            throw new InvalidOperationException($"The RTSP test server did not become ready on port {port}: {ex.Message}", ex);
        }
    }

    /// <summary>What the server wrote to stderr (first 200 lines), for assertion messages.</summary>
    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (_stderr)
            {
                return [.. _stderr];
            }
        }
    }

    private const int SigTerm = 15;
    private const int SigCont = 18;
    private const int SigStop = 19;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
