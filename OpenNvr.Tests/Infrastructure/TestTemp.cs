using System.Diagnostics;
using System.Globalization;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// Every temp file and folder of a test run lives under one folder, <c>&lt;temp&gt;/opennvr-tests-&lt;pid&gt;/</c>, and
/// that folder goes when the test host goes, however it goes. The test host's own exit hooks are not enough: VSTest
/// kills the host at the end of a run (no ProcessExit), and so does a kill -9. So the first use starts a watchdog
/// (<c>setsid sh</c>, outside the host's process group) that blocks reading a pipe from the host; the kernel closes
/// the pipe when the host dies, and the watchdog removes the folder (retrying while PostgreSQL, which dies with the
/// host too, finishes writing). Folders of earlier runs whose host is gone are swept as well, should a watchdog
/// ever have been killed itself. Tests read chunks after their Recorder stopped, so folders live until the run ends.
/// </summary>
public static class TestTemp
{
    private const string Prefix = "opennvr-tests-";

    private static readonly Lazy<string> RunRoot = new(CreateRunRoot);

    /// <summary>The watchdog; holding it holds the write end of its stdin open for the life of the host.</summary>
    internal static Process? Watchdog { get; private set; }

    /// <summary><c>&lt;temp&gt;/opennvr-tests-&lt;pid&gt;</c>: the parent of everything this run writes to the temp folder.</summary>
    public static string Root => RunRoot.Value;

    /// <summary>A new empty folder <c>&lt;prefix&gt;-&lt;8 hex&gt;</c> under <see cref="Root"/>.</summary>
    public static string NewFolder(string prefix)
    {
        var path = Path.Combine(Root, $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A path for a new file <c>&lt;prefix&gt;-&lt;8 hex&gt;&lt;extension&gt;</c> under <see cref="Root"/> (not created).</summary>
    public static string NewFilePath(string prefix, string extension) =>
        Path.Combine(Root, $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}{extension}");

    /// <summary>Deletes a folder now (a fixture that is done with it); what cannot go yet goes with the run's folder.</summary>
    public static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static string CreateRunRoot()
    {
        SweepRunsOfDeadHosts();
        var root = Path.Combine(Path.GetTempPath(), Prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        Watchdog = StartWatchdog(root);
        return root;
    }

    private static Process StartWatchdog(string root)
    {
        // stdin is a pipe whose only writer is this process: cat returns when the host has died (or closed it).
        const string script = """
            trap '' INT HUP
            cat > /dev/null
            n=0
            while [ -e "$1" ] && [ "$n" -lt 240 ]; do
              rm -rf -- "$1" 2>/dev/null || sleep 0.5
              n=$((n + 1))
            done
            """;
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "/bin/sh", "-c", script, "opennvr-tests-cleanup", root })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("The temp folder watchdog did not start.");
    }

    /// <summary>Run folders whose test host no longer exists (their watchdog was killed too): nobody else removes them.</summary>
    private static void SweepRunsOfDeadHosts()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(dir)[Prefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) &&
                pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                TryDelete(dir);
            }
        }
    }
}
