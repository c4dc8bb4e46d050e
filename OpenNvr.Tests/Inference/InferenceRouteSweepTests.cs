using System.Net;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Inference;

/// <summary>Inference with its client key set, as the app host runs it.</summary>
public sealed class SecuredInferenceFixture : InferenceServiceFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings => [new("Inference:ApiKey", "sweep-inference-key-0123456789abcdef")];
}

/// <summary>
/// No route of Inference is open by accident: every route of the running app (from its endpoint data source)
/// answers 401 without <c>X-API-Key</c> unless it is on the explicit allowlist below.
/// </summary>
public sealed class InferenceRouteSweepTests(SecuredInferenceFixture inference) : IClassFixture<SecuredInferenceFixture>
{
    private static readonly Dictionary<string, string> AnonymousAllowlist = new()
    {
        ["GET /health"] = "orchestrator probe (API.md: open)",
        ["GET /alive"] = "orchestrator probe",
        ["GET /capabilities"] = "API.md: open",
        ["GET /openapi/{documentName}.json"] = "API reference (tests run in Development)",
    };

    [Fact]
    public async Task Every_route_but_the_allowlist_answers_401_without_the_key()
    {
        var routes = RouteSweep.Routes(inference.Factory.Services);
        Assert.Contains(routes, r => r.Key == "POST /infer");
        var stale = AnonymousAllowlist.Keys.Except(routes.Select(r => r.Key)).ToList();
        Assert.True(stale.Count == 0, "allowlisted routes that do not exist: " + string.Join(", ", stale));

        using var anonymous = inference.Factory.CreateClient();
        var open = new List<string>();
        foreach (var route in routes.Where(r => !AnonymousAllowlist.ContainsKey(r.Key) && !(r.Method == "HEAD" && AnonymousAllowlist.ContainsKey("GET " + r.Pattern))))
        {
            using var response = await anonymous.SendAsync(route.Request());
            if (response.StatusCode != HttpStatusCode.Unauthorized && !KeyCheckedAfterBinding(route, response.StatusCode))
            {
                open.Add($"{route.Key} ({route.Url}): {(int)response.StatusCode}");
            }
        }

        Assert.True(open.Count == 0, "routes that did not answer 401 without the key:\n" + string.Join("\n", open));
    }

    /// <summary>The key check is an endpoint filter, after body binding: a malformed body is a 400 before the 401 (see Core's sweep).</summary>
    private static bool KeyCheckedAfterBinding(SweptRoute route, HttpStatusCode status) =>
        route.Method is "POST" or "PUT" && status == HttpStatusCode.BadRequest;
}
