using System.Diagnostics;
using System.Globalization;

namespace OpenNvr.Bench;

/// <summary>
/// Process helpers the bench commands that run real services share: percentiles, CPU and memory of a process tree from
/// /proc, running a tool, and the RTSP test camera (its READY line says where it listens).
/// </summary>
public static class BenchProcesses
{
    public static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Max(0, Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1))];

    /// <summary>
    /// CPU seconds (utime+stime), RSS and PSS bytes of a process and all its descendants. RSS counts a shared library's
    /// pages once per process that maps it (50 ffmpeg processes count libavcodec 50 times); PSS divides shared pages
    /// among the processes that share them, so the tree's PSS is the memory it really takes.
    /// </summary>
    public static (double CpuSeconds, long RssBytes, long PssBytes) Tree(int pid)
    {
        double cpu = 0;
        long rss = 0;
        long pss = 0;
        foreach (var p in Descendants(pid).Append(pid))
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{p}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // Fields after the command: state(3) ppid(4) ... utime(14) stime(15) ... rss(24), counted from 1.
                cpu += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
                rss += long.Parse(fields[21], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
                pss += ProportionalSetSize(p);
            }
            catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException)
            {
            }
        }

        return (cpu, rss, pss);
    }

    // "Pss:   68594 kB" in /proc/<pid>/smaps_rollup.
    private static long ProportionalSetSize(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith("Pss:", StringComparison.Ordinal))
            {
                return long.Parse(line[4..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public static List<int> Descendants(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var p))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                (children.TryGetValue(ppid, out var list) ? list : children[ppid] = []).Add(p);
            }
            catch (Exception ex) when (ex is IOException or FormatException)
            {
            }
        }

        var result = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.TryDequeue(out var p))
        {
            foreach (var child in children.GetValueOrDefault(p, []))
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }

        return result;
    }

    public static void Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed: {err}");
        }
    }

    public static Process Started(List<Process> all, Process process)
    {
        all.Add(process);
        return process;
    }

    // The RTSP server's stdout carries its READY line, read by ReadyLineAsync; nothing else reads it.
    public static Process StartRtspServer(string script, string clip, List<Process> all)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { script, "--port", "0", "--file", "/cam=" + clip })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Started(all, Process.Start(start)!);
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task<string> ReadyLineAsync(Process rtsp)
    {
        var line = await rtsp.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        if (line is null || !line.StartsWith("READY ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("RTSP test server did not start: " + line);
        }

        return line["READY ".Length..].Trim();
    }
}
