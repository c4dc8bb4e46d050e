using OpenNvr.Tests.Inference;

namespace OpenNvr.Tests.OpenApi;

/// <summary>Inference's document, fetched from a running Inference (real PostgreSQL, bundled models).</summary>
public sealed class InferenceOpenApiTests(InferenceServiceFixture inference) : IClassFixture<InferenceServiceFixture>
{
    private Task<string> ServedAsync() => inference.Client.GetStringAsync("/openapi/v1.json");

    [Fact]
    public async Task Document_lints_without_errors() => await OpenApiDocuments.AssertLintsWithoutErrorsAsync(await ServedAsync(), "inference");

    [Fact]
    public async Task Document_is_the_committed_one() => await OpenApiDocuments.AssertCommittedAsync(await ServedAsync(), "inference");
}
