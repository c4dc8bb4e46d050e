using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using OpenNvr.Tests.Core;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Docs;

/// <summary>The README's first five minutes, read from the README: its shape, and its commands run against the app host.</summary>
public sealed class ReadmeShapeTests
{
    [Fact]
    public void The_section_reads_both_secrets_and_uses_the_references_requests_verbatim()
    {
        var readme = ReadmeSteps.Load();

        // How to read the secrets: from the app host's user secrets.
        Assert.Contains("PASSWORD=$(dotnet user-secrets list --project OpenNvr.AppHost", readme.Setup);
        Assert.Contains("API_KEY=$(dotnet user-secrets list --project OpenNvr.AppHost", readme.Setup);
        Assert.Contains("Parameters:inference-api-key", readme.Setup);
        Assert.Contains("FRAMES=", readme.Setup);

        // The reference's bodies (API.md), verbatim apart from the camera number, each sent with X-API-Key.
        var commands = string.Join("\n", readme.Steps.Select(s => s.Commands));
        foreach (var body in new[]
                 {
                     """{"task":"person_counting","input":{"frame":{"uri":"opennvr://frames/camera_1/latest.jpg"}}}""",
                     """{"task":"object_detection_detr","input_data":{"model_name":"facebook/detr-resnet-50","inputs":{"image":"opennvr://frames/camera_1/latest.jpg"},"parameters":{}}}""",
                     """{"frame":{"uri":"opennvr://frames/camera_0/latest.jpg"},"person_id":"john_doe","name":"John Doe","category":"employee"}""",
                 })
        {
            Assert.Contains($"-d '{body}'", commands);
        }

        Assert.All(readme.Steps.Where(s => s.Commands.Contains("localhost:9100", StringComparison.Ordinal)),
            s => Assert.Contains("-H \"X-API-Key: $API_KEY\"", s.Commands));
        Assert.Contains(readme.Steps, s => s.Commands.Contains("/api/v1/auth/login", StringComparison.Ordinal));
        Assert.Contains(readme.Steps, s => s.Commands.Contains("/api/v1/cameras", StringComparison.Ordinal));
        Assert.Contains(readme.Steps, s => s.Commands.Contains("/api/v1/recordings/1?", StringComparison.Ordinal));
        Assert.Contains(readme.Steps, s => s.Commands.Contains("/api/v1/events/latest", StringComparison.Ordinal));
        Assert.Contains(readme.Steps, s => s.Commands.Contains("/faces/list?category=employee", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"a":"x","b":true,"c":1}""", """{"a":"x","b":true,"c":7,"d":"more"}""", null)]
    [InlineData("""{"a":"x"}""", """{"a":"y"}""", "$.a: expected \"x\"")]
    [InlineData("""{"a":"ab…"}""", """{"a":"abc"}""", null)]
    [InlineData("""{"a":"ab…"}""", """{"a":"xbc"}""", "$.a")]
    [InlineData("""{"a":[{"k":"v"}]}""", """{"a":[]}""", "at least one item")]
    [InlineData("""{"a":[{"k":"v"}]}""", """{"a":[{"k":"v","z":1},{"k":"w"}]}""", null)]
    [InlineData("""{"a":null}""", """{"a":5}""", null)]
    [InlineData("""{"a":1}""", """{"a":"1"}""", "expected a number")]
    [InlineData("""{"a":1}""", """{}""", "$.a is missing")]
    public void Answers_are_compared_by_the_rules_the_readme_states(string shown, string actual, string? problem)
    {
        var mismatch = ReadmeSteps.Mismatch(JsonNode.Parse(shown), JsonNode.Parse(actual));
        if (problem is null)
        {
            Assert.Null(mismatch);
        }
        else
        {
            Assert.Contains(problem, mismatch);
        }
    }
}

/// <summary>
/// Runs the README's first-five-minutes commands with bash against the app host of the collection (local PostgreSQL,
/// the demo camera recorded and analysed), after the demo camera has a published frame, a chunk and an event, and checks
/// each answer against the one the README shows. The variables of the setup block come from the app host (its
/// parameters and data root) and <c>http://localhost:8000</c> / <c>:9100</c> become its real endpoints.
/// </summary>
[Collection(AppHostCollection.Name)]
[Trait(TestTraits.Category, TestTraits.Slow)]
public sealed class ReadmeCommandsTests(AppHostFixture host)
{
    private const string Separator = "@@readme-step@@";
    private static readonly TimeSpan PipelineWait = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Every_first_five_minutes_command_gives_the_answer_the_readme_shows()
    {
        var readme = ReadmeSteps.Load();
        var core = host.App.GetEndpoint("core", "http").ToString().TrimEnd('/');
        var inference = host.App.GetEndpoint("inference", "http").ToString().TrimEnd('/');
        var password = await host.ParameterValueAsync("admin-password");
        var frames = Path.Combine(host.DataRoot, "frames");
        await WaitForTheDemoCameraAsync(core, password, frames);

        var script = "set -euo pipefail\n" + string.Join($"\necho '{Separator}'\n", readme.Steps.Select(s => s.Commands
            .Replace("http://localhost:8000", core, StringComparison.Ordinal)
            .Replace("http://localhost:9100", inference, StringComparison.Ordinal)));
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryPaths.Root,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["PASSWORD"] = password;
        start.Environment["API_KEY"] = await host.ParameterValueAsync("inference-api-key");
        start.Environment["FRAMES"] = frames;
        using var bash = await TestProcesses.StartAsync(start);
        var output = bash.StandardOutput.ReadToEndAsync();
        var errors = bash.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(RunTimeout))
        {
            try
            {
                await bash.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                bash.Kill(entireProcessTree: true);
                Assert.Fail($"the README's commands did not finish within {RunTimeout}: {await output}");
            }
        }

        Assert.True(bash.ExitCode == 0, $"bash exited with {bash.ExitCode}: {await errors}\n{await output}");
        var answers = (await output).Split(Separator + "\n");
        Assert.Equal(readme.Steps.Count, answers.Length);
        for (var i = 0; i < answers.Length; i++)
        {
            JsonNode? actual;
            try
            {
                actual = JsonNode.Parse(answers[i]);
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new Xunit.Sdk.XunitException($"step {i + 1} ({readme.Steps[i].Commands.Trim()}) answered no JSON ({ex.Message}): {answers[i]}");
            }

            Assert.True(ReadmeSteps.Mismatch(readme.Steps[i].Expected, actual) is not { } mismatch, $"step {i + 1} ({readme.Steps[i].Commands.Trim()}): {ReadmeSteps.Mismatch(readme.Steps[i].Expected, actual)}\nanswer: {answers[i]}");
        }

        // The registration of step "faces/register" really happened: john_doe is listed.
        Assert.Contains("\"person_id\":\"john_doe\"", answers[^1]);
        TestTemp.TryDelete(Path.Combine(frames, "camera_0"));
    }

    /// <summary>The demo camera (id 1) has published a frame under camera_1/, and Core indexed a chunk and an event of it.</summary>
    private static async Task WaitForTheDemoCameraAsync(string core, string password, string frames)
    {
        await Wait.UntilAsync(() => File.Exists(Path.Combine(frames, "camera_1", "latest.jpg")), PipelineWait, "the demo camera's frame under frames/camera_1/", pollMs: 1000);
        using var admin = new HttpClient { BaseAddress = new Uri(core) };
        using (var login = await admin.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password }))
        {
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)(await HttpAssert.OkJsonAsync(login))["access_token"]!);
        }

        await Wait.UntilAsync(async () =>
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var window = await admin.GetFromJsonAsync<JsonObject>($"/api/v1/recordings/1?start_unix={now - 600}&end_unix={now}");
            var events = await admin.GetFromJsonAsync<JsonObject>("/api/v1/events/latest?camera_id=1&limit=1");
            return window!["recordings"]!.AsArray().Count > 0 && events!["count"]!.GetValue<int>() > 0;
        }, PipelineWait, "a chunk and an event of the demo camera", pollMs: 2000);
    }
}
