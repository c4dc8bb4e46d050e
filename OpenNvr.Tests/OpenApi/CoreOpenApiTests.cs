using OpenNvr.Tests.Core;

namespace OpenNvr.Tests.OpenApi;

/// <summary>Core's document, fetched from a running Core (real PostgreSQL): it lints clean and is the committed one.</summary>
public sealed class CoreOpenApiTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    private async Task<string> ServedAsync()
    {
        using var client = core.Anonymous();
        return await client.GetStringAsync("/openapi/v1.json");
    }

    [Fact]
    public async Task Document_lints_without_errors() => await OpenApiDocuments.AssertLintsWithoutErrorsAsync(await ServedAsync(), "core");

    [Fact]
    public async Task Document_is_the_committed_one() => await OpenApiDocuments.AssertCommittedAsync(await ServedAsync(), "core");
}
