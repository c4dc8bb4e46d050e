using System.Text.Json;
using System.Text.Json.Nodes;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.OpenApi;

/// <summary>
/// The services' OpenAPI documents are committed under <c>docs/openapi/</c> (for users, and for the clients the
/// test-support project generates from them at build). Set <c>OPENNVR_WRITE_OPENAPI=1</c> to refresh them from the
/// running services instead of comparing.
/// </summary>
public static class OpenApiDocuments
{
    public const string RefreshVariable = "OPENNVR_WRITE_OPENAPI";

    public static string CommittedPath(string name) => Path.Combine(RepositoryPaths.Root, "docs", "openapi", name + ".json");

    public static async Task AssertLintsWithoutErrorsAsync(string served, string name)
    {
        var report = await RedoclyLinter.LintAsync(served, name);
        Assert.True(report.Errors == 0, $"{name}.json: {report.Errors} redocly error(s):{Environment.NewLine}{report.Describe("error")}");
    }

    public static async Task AssertCommittedAsync(string served, string name)
    {
        var path = CommittedPath(name);
        var pretty = JsonNode.Parse(served)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (Environment.GetEnvironmentVariable(RefreshVariable) == "1")
        {
            await File.WriteAllTextAsync(path, pretty);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing: run the OpenApi tests with {RefreshVariable}=1 to write it.");
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(path));
        Assert.True(JsonNode.DeepEquals(committed, JsonNode.Parse(served)),
            $"docs/openapi/{name}.json differs from the document the service serves. If the API change is intended, refresh it: " +
            $"{RefreshVariable}=1 dotnet test OpenNvr.Tests --filter \"FullyQualifiedName~OpenNvr.Tests.OpenApi\", then rebuild (the generated clients come from it).");
    }
}
