using System.Net;

namespace OpenNvr.Tests.Cloud;

/// <summary>The service configured with a token that Hugging Face rejects, at the plain base URL (no router path).</summary>
public sealed class BadTokenCloudFixture : CloudFixture
{
    public const string WrongToken = "hf_WRONG_token_0d9c7e1f2a3b4c";

    public override string ConfiguredToken => WrongToken;

    protected override string BaseUrlPath => "";
}

public sealed class CloudBadTokenTests(BadTokenCloudFixture fixture) : IClassFixture<BadTokenCloudFixture>
{
    [Fact]
    public async Task A_rejected_token_is_a_502_configuration_error_that_names_the_setting_but_not_the_token()
    {
        var model = CloudFixture.UniqueModel("detr");

        using var response = await fixture.PostCloudAsync("object_detection_detr", "opennvr://frames/persons/astronaut.jpg", model);

        var problem = await CloudRoutingTests.ProblemAsync(response, HttpStatusCode.BadGateway);
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Equal("Cloud configuration error", problem.GetProperty("title").GetString());
        Assert.Contains("HuggingFace:Token", detail);
        Assert.Contains("401", detail);
        Assert.Contains(model, detail);
        Assert.DoesNotContain(BadTokenCloudFixture.WrongToken, detail);

        // Sent once, at /models/{model} of the plain base URL, with the configured (wrong) token: not retried.
        var request = Assert.Single(fixture.HuggingFace.RequestsFor(model));
        Assert.Equal($"/models/{model}", request.Path);
        Assert.Equal("Bearer " + BadTokenCloudFixture.WrongToken, request.Authorization);

        // The outcome is logged as the call ends, which may be just after the answer reached the client.
        await Wait.UntilAsync(() => fixture.Logs.Any(entry => entry.Contains("token_rejected", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the token_rejected log entry", pollMs: 20);
        CloudRoutingTests.AssertNotLogged(fixture, BadTokenCloudFixture.WrongToken);
        Assert.All(fixture.Activities, a => Assert.DoesNotContain(BadTokenCloudFixture.WrongToken, CloudRoutingTests.Describe(a), StringComparison.Ordinal));
    }
}
