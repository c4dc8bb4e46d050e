using System.Diagnostics;
using System.Globalization;
using OpenNvr.Tests.Core;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// The Recorder as its own process (<c>dotnet OpenNvr.Recorder.dll</c>, the build of the same configuration as the
/// tests), configured through environment variables as the app host does, so that it can be killed with SIGKILL.
/// Disposing kills it and any ffmpeg listed in its pid file; it dies with the test host too (<see cref="TestProcesses"/>).
/// </summary>
public sealed class RecorderProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private RecorderProcess(Process process, string root)
    {
        _process = process;
        RecordingsRoot = root;
    }

    public int Pid => _process.Id;

    public string RecordingsRoot { get; }

    public bool HasExited => _process.HasExited;

    /// <summary><c>&lt;root&gt;/.recorder/children-&lt;machine&gt;-&lt;pid&gt;.txt</c>: the ffmpeg pids the Recorder tracks.</summary>
    public string ChildrenFile => Path.Combine(RecordingsRoot, ".recorder", $"children-{Environment.MachineName}-{Pid}.txt");

    public IReadOnlyList<int> ChildPids() =>
        File.Exists(ChildrenFile)
            ? File.ReadAllLines(ChildrenFile).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToList()
            : [];

    /// <summary>The last lines the Recorder wrote (for assertion messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output.TakeLast(30));
            }
        }
    }

    public static string DllPath
    {
        get
        {
            // .../OpenNvr.Tests/bin/<configuration>/<tfm>/: the Recorder's own output of the same configuration.
            var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = tfmDir.Parent!.Name;
            return Path.Combine(RepositoryPaths.Root, "OpenNvr.Recorder", "bin", configuration, tfmDir.Name, "OpenNvr.Recorder.dll");
        }
    }

    public static async Task<RecorderProcess> StartAsync(CoreServer core, string recordingsRoot, string recorderId, IDictionary<string, string>? settings = null)
    {
        Assert.True(File.Exists(DllPath), $"{DllPath} is missing: build OpenNvr.Recorder first.");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(DllPath)!,
        };
        start.ArgumentList.Add(DllPath);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        var environment = new Dictionary<string, string>
        {
            ["services__core__http__0"] = core.BaseUrl,
            ["ServiceKeys__RecorderCore"] = CoreFixture.InternalKey,
            ["Recorder__RecordingsRoot"] = recordingsRoot,
            ["Frames__Root"] = TestTemp.NewFolder("frames"),
            ["Recorder__RecorderId"] = recorderId,
            ["Recorder__HeartbeatSeconds"] = "1",
            ["Recorder__ChunkSeconds"] = "4",
            ["Recorder__StallSeconds"] = "12",
            ["Recorder__RetentionIntervalSeconds"] = "3600",
            ["Recorder__MinFreePercent"] = "0",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = await TestProcesses.StartAsync(start);
        var host = new RecorderProcess(process, recordingsRoot);
        process.OutputDataReceived += (_, e) => host.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => host.Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public void KillHard() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        var children = ChildPids();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        // Whatever it left behind (the test asserts separately whether they died on their own).
        foreach (var pid in children)
        {
            try
            {
                using var child = Process.GetProcessById(pid);
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains("ffmpeg", StringComparison.Ordinal))
                {
                    child.Kill();
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
            {
            }
        }

        _process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > 500)
            {
                _output.RemoveAt(0);
            }
        }
    }
}
