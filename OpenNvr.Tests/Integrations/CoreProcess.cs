using System.Diagnostics;
using System.Runtime.InteropServices;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Integrations;

/// <summary>
/// Core as its own process (<c>dotnet OpenNvr.Core.dll</c> from its build output), so that a test can kill it the way
/// a crash or an OOM kill would. It dies with the test host (setpriv --pdeathsig, like every child of the tests).
/// </summary>
public sealed class CoreProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private CoreProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public static async Task<CoreProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        // The tests' own build output sits at <repo>/OpenNvr.Tests/bin/<configuration>/<tfm>/: Core's is beside it.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var dll = Path.Combine(RepositoryPaths.Root, "OpenNvr.Core", "bin", testOutput.Parent!.Name, testOutput.Name, "OpenNvr.Core.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build OpenNvr.Core (building the tests does).");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.WorkingDirectory = Path.GetDirectoryName(dll)!; // content root: wwwroot, appsettings.json
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = await TestProcesses.StartAsync(start);
        var core = new CoreProcess(process);
        process.OutputDataReceived += (_, e) => core.Append(e.Data);
        process.ErrorDataReceived += (_, e) => core.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return core;
    }

    /// <summary>Waits for the host's "Application started" (stopping a host that is still starting is another story).</summary>
    public Task WaitStartedAsync(TimeSpan timeout) => Wait.UntilAsync(() =>
        {
            Assert.False(_process.HasExited, $"Core exited with {(_process.HasExited ? _process.ExitCode : 0)}: {Output}");
            return Task.FromResult(Output.Contains("Application started", StringComparison.Ordinal));
        }, timeout, () => $"Core to start: {Output}", pollMs: 100);

    /// <summary>SIGKILL: no shutdown code runs, the kernel closes its sockets.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM: the host stops gracefully (what systemd, Docker and Aspire send).</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        Assert.Equal(0, Signal(_process.Id, 15));
        using var wait = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(wait.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);
}
