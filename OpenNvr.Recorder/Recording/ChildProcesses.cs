using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace OpenNvr.Recorder.Recording;

/// <summary>
/// Every ffmpeg this host starts, so that none outlives it. An orphaned ffmpeg does NOT end on its own: it ignores
/// SIGPIPE and treats end of file on stdin as no key, so with its pipes closed it records on forever (measured with
/// ffmpeg 5.1). Orphans are prevented in four layers: (1) each supervisor stops its ffmpeg when stopped or disposed
/// (host shutdown stops them all); (2) on process exit (SIGTERM, Ctrl+C, an unhandled exception) whatever is still
/// tracked is killed; (3) a crash (kill -9 of the host, OOM kill) kills them through the kernel: on Linux each child
/// is started as <c>setpriv --pdeathsig KILL -- ffmpeg ...</c> (setpriv sets PR_SET_PDEATHSIG and execs ffmpeg in
/// place, same pid) from one dedicated thread that lives as long as the process, because the parent-death signal
/// fires when the forking THREAD exits and thread-pool threads come and go; (4) where setpriv is missing, a crash
/// leaves a pid file <c>&lt;RecordingsRoot&gt;/.recorder/children-&lt;machine&gt;-&lt;pid&gt;.txt</c>, and the next start on the same
/// machine kills the children of dead hosts that are still ffmpeg processes writing under this root.
/// </summary>
public sealed class ChildProcesses : IDisposable
{
    private readonly ConcurrentDictionary<int, Process> _children = new();
    private readonly string _pidFile;
    private readonly string _root;
    private readonly object _fileGate = new();

    public ChildProcesses(string recordingsRoot)
    {
        _root = recordingsRoot;
        var dir = Path.Combine(recordingsRoot, ".recorder");
        Directory.CreateDirectory(dir);
        _pidFile = Path.Combine(dir, $"children-{Environment.MachineName}-{Environment.ProcessId}.txt");
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public int Count => _children.Count;

    public IReadOnlyCollection<int> Pids => _children.Keys.ToList();

    public void Track(Process process)
    {
        _children[process.Id] = process;
        WritePidFile();
    }

    public void Untrack(Process process)
    {
        _children.TryRemove(process.Id, out _);
        WritePidFile();
    }

    /// <summary>Kills ffmpeg children left behind by crashed hosts on this machine (layer 3). Returns how many.</summary>
    public int SweepOrphans()
    {
        var killed = 0;
        var dir = Path.GetDirectoryName(_pidFile)!;
        foreach (var file in Directory.EnumerateFiles(dir, $"children-{Environment.MachineName}-*.txt"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (!int.TryParse(name[(name.LastIndexOf('-') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var ownerPid) ||
                ownerPid == Environment.ProcessId || IsAlive(ownerPid))
            {
                continue;
            }

            foreach (var line in File.ReadAllLines(file))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && IsOurFfmpeg(pid))
                {
                    _ = Kill(pid, 9);
                    killed++;
                }
            }

            File.Delete(file);
        }

        return killed;
    }

    public void KillAll()
    {
        foreach (var process in _children.Values)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }

        _children.Clear();
        WritePidFile();
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        KillAll();
        try
        {
            File.Delete(_pidFile);
        }
        catch (IOException)
        {
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => KillAll();

    private void WritePidFile()
    {
        lock (_fileGate)
        {
            try
            {
                File.WriteAllLines(_pidFile, _children.Keys.Select(k => k.ToString(CultureInfo.InvariantCulture)));
            }
            catch (IOException)
            {
                // Best effort: the pid file only serves the sweep after a crash.
            }
        }
    }

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

    private bool IsOurFfmpeg(int pid)
    {
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            return cmdline.Contains("ffmpeg", StringComparison.Ordinal) && cmdline.Contains(_root, StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private const string SetprivPath = "/usr/bin/setpriv";

    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Launches = [];

    private static readonly Lazy<Thread> Launcher = new(() =>
    {
        var thread = new Thread(() =>
        {
            foreach (var (process, started) in Launches.GetConsumingEnumerable())
            {
                try
                {
                    process.Start();
                    started.SetResult();
                }
                catch (Exception ex)
                {
                    started.SetException(ex);
                }
            }
        })
        {
            IsBackground = true,
            Name = "ffmpeg launcher",
        };
        thread.Start();
        return thread;
    });

    /// <summary>
    /// Starts a child process that the kernel kills (SIGKILL) when this process dies, however it dies (layer 3).
    /// Falls back to a plain start where setpriv is missing or the executable cannot be found (so that the usual
    /// "cannot start" error surfaces).
    /// </summary>
    public static async Task StartDyingWithUsAsync(Process process)
    {
        var start = process.StartInfo;
        if (OperatingSystem.IsLinux() && File.Exists(SetprivPath) && ResolveExecutable(start.FileName) is { } executable)
        {
            start.ArgumentList.Insert(0, executable);
            start.ArgumentList.Insert(0, "--");
            start.ArgumentList.Insert(0, "KILL");
            start.ArgumentList.Insert(0, "--pdeathsig");
            start.FileName = SetprivPath;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Launcher.Value;
        Launches.Add((process, started));
        await started.Task;
    }

    private static string? ResolveExecutable(string file)
    {
        if (file.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(file) ? Path.GetFullPath(file) : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, file))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Sends a POSIX signal (SIGINT = 2 lets ffmpeg close its files).</summary>
    public static bool Signal(Process process, int signal)
    {
        try
        {
            return !process.HasExited && Kill(process.Id, signal) == 0;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
