using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// A real Mosquitto (Debian's <c>mosquitto</c>, installed by eng/setup.sh) on a free loopback port, with its own
/// config and password file in a temp folder, no persistence (a restart forgets retained messages, as a broker without
/// a persistence file does). It dies with the test host (<see cref="TestProcesses"/>); its folder is a
/// <see cref="TestTemp"/> folder. As root it keeps root (<c>user root</c>), because dropping privileges would clear the
/// parent-death signal. <see cref="StopAsync"/> / <see cref="StartAsync()"/> take it away and bring it back on the same port.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/mosquitto";

    private readonly string _folder;
    private readonly List<string> _log = [];
    private Process? _process;

    private readonly bool _persistence;

    private MosquittoBroker(string folder, int port, string username, string password, bool persistence)
    {
        _folder = folder;
        Port = port;
        Username = username;
        Password = password;
        _persistence = persistence;
    }

    public int Port { get; }

    public string Username { get; }

    public string Password { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary><c>mqtt://user:password@127.0.0.1:port</c>, as <c>Mqtt:Url</c> takes it.</summary>
    public string UrlWithCredentials => $"mqtt://{Uri.EscapeDataString(Username)}:{Uri.EscapeDataString(Password)}@127.0.0.1:{Port}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log);
            }
        }
    }

    /// <summary>
    /// Writes the config and password file and starts the broker on a free port. With <paramref name="persistence"/>,
    /// a graceful stop saves sessions and retained messages in the folder, and a restart brings them back.
    /// </summary>
    public static async Task<MosquittoBroker> StartAsync(string username = "opennvr", string? password = null, bool persistence = false)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} is missing: run eng/setup.sh (Debian package mosquitto).");
        }

        var folder = TestTemp.NewFolder("mosquitto");
        var broker = new MosquittoBroker(folder, FreePort.Tcp(), username, password ?? "mqtt-" + Guid.NewGuid().ToString("N")[..16], persistence);
        await broker.WriteConfigAsync();
        await broker.StartAsync();
        return broker;
    }

    /// <summary>Starts (again) on the same port and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Path.Combine(_folder, "mosquitto.conf"));
        var process = await TestProcesses.StartAsync(start);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;

        await Wait.UntilAsync(async () =>
        {
            Assert.False(process.HasExited, $"Mosquitto exited with {(process.HasExited ? process.ExitCode : 0)}: {Log}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), () => $"Mosquitto to listen on {Port}: {Log}", pollMs: 50);
    }

    /// <summary>
    /// The broker goes away: killed (as a crash would), or with <paramref name="graceful"/> stopped by SIGTERM, which
    /// lets it save its persistence file first. Every client connection drops either way.
    /// </summary>
    public async Task StopAsync(bool graceful = false)
    {
        if (Interlocked.Exchange(ref _process, null) is not { } process)
        {
            return;
        }

        if (!process.HasExited)
        {
            if (graceful && Signal(process.Id, 15) == 0)
            {
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await process.WaitForExitAsync(wait.Token);
            }
            else
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        TestTemp.TryDelete(_folder);
    }

    private async Task WriteConfigAsync()
    {
        var passwordFile = Path.Combine(_folder, "passwords");
        var (exitCode, _, errors) = await TestProcesses.RunAsync("mosquitto_passwd", "-b", "-c", passwordFile, Username, Password);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"mosquitto_passwd failed: {errors}");
        }

        var config = string.Join('\n',
            Environment.UserName == "root" ? "user root" : "# not root: mosquitto keeps the current user",
            string.Create(CultureInfo.InvariantCulture, $"listener {Port} 127.0.0.1"),
            "allow_anonymous false",
            $"password_file {passwordFile}",
            _persistence ? "persistence true" : "persistence false",
            $"persistence_location {_folder}/",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "");
        await File.WriteAllTextAsync(Path.Combine(_folder, "mosquitto.conf"), config);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Add(line);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);
}
