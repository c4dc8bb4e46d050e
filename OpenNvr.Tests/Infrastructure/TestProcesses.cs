using System.Diagnostics;
using OpenNvr.Recorder.Recording;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// Every process a test starts (PostgreSQL, the RTSP test server, ffmpeg and ffprobe, a Recorder process, dotnet)
/// dies with the test host, however the host dies: it is started the way the Recorder starts ffmpeg
/// (<see cref="ChildProcesses.StartDyingWithUsAsync"/>: <c>setpriv --pdeathsig KILL</c>, from one long-lived thread,
/// because the parent-death signal follows the thread that forked). VSTest kills the host at the end of each run, so
/// exit hooks alone would leave them running.
/// </summary>
public static class TestProcesses
{
    public static async Task<Process> StartAsync(ProcessStartInfo start)
    {
        if (!string.IsNullOrEmpty(start.Arguments))
        {
            throw new ArgumentException("Give the arguments in ArgumentList: the launcher puts setpriv's in front of them.", nameof(start));
        }

        start.UseShellExecute = false;
        var process = new Process { StartInfo = start };
        await ChildProcesses.StartDyingWithUsAsync(process);
        return process;
    }

    /// <summary>Starts a short-lived tool and returns its exit code, stdout and stderr once it has ended.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = await StartAsync(start);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }
}
