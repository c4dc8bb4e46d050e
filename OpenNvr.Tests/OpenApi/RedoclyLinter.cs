using System.Diagnostics;
using System.Text.Json;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.OpenApi;

/// <summary>One problem redocly reported: rule, severity, message and where (a JSON pointer into the document).</summary>
public sealed record LintProblem(string RuleId, string Severity, string Message, string Pointer)
{
    public override string ToString() => $"{Severity} {RuleId} at {Pointer}: {Message}";
}

public sealed record LintReport(int Errors, int Warnings, IReadOnlyList<LintProblem> Problems)
{
    public string Describe(string severity) =>
        string.Join(Environment.NewLine, Problems.Where(p => p.Severity == severity).Select(p => p.ToString()));
}

/// <summary>
/// Runs <c>@redocly/cli lint</c> (recommended rules; pinned in eng/tools/package.json and installed by
/// eng/setup.sh) over an OpenAPI document and reads its JSON report.
/// </summary>
public static class RedoclyLinter
{
    public static string CliPath => Path.Combine(RepositoryPaths.Root, "eng", "tools", "node_modules", "@redocly", "cli", "bin", "cli.js");

    public static async Task<LintReport> LintAsync(string documentJson, string name)
    {
        Assert.True(File.Exists(CliPath), $"{CliPath} is missing: run 'bash eng/setup.sh' (it installs eng/tools with npm ci).");
        var folder = Directory.CreateTempSubdirectory("opennvr-lint-");
        try
        {
            var file = Path.Combine(folder.FullName, name + ".json");
            await File.WriteAllTextAsync(file, documentJson);
            var start = new ProcessStartInfo("node")
            {
                ArgumentList = { CliPath, "lint", file, "--format=json" },
                WorkingDirectory = folder.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                // Offline and quiet: no telemetry, no update check.
                Environment = { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true", ["NO_COLOR"] = "1" },
            };
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var output = await stdout;
            var json = output.IndexOf('{', StringComparison.Ordinal) is var at and >= 0 ? output[at..] : "";
            Assert.True(json.Length > 0, $"redocly printed no JSON report (exit {process.ExitCode}): {output}{await stderr}");
            using var report = JsonDocument.Parse(json);
            var totals = report.RootElement.GetProperty("totals");
            var problems = report.RootElement.GetProperty("problems").EnumerateArray()
                .Select(p => new LintProblem(
                    p.GetProperty("ruleId").GetString()!,
                    p.GetProperty("severity").GetString()!,
                    p.GetProperty("message").GetString()!,
                    p.GetProperty("location").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } location
                        ? location.GetProperty("pointer").GetString() ?? ""
                        : ""))
                .ToList();
            return new LintReport(totals.GetProperty("errors").GetInt32(), totals.GetProperty("warnings").GetInt32(), problems);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
