using System.Net;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Recorder;

/// <summary>
/// No route of the Recorder is open by accident: every route of the running app (from its endpoint data source,
/// so routes added later are swept too) answers 401 without <c>X-Internal-Key</c>, except the explicit allowlist.
/// </summary>
public sealed class RecorderRouteSweepTests
{
    private static readonly Dictionary<string, string> AnonymousAllowlist = new()
    {
        ["GET /health"] = "orchestrator probe",
        ["GET /alive"] = "orchestrator probe",
        ["GET /openapi/{documentName}.json"] = "API reference (tests run in Development)",
    };

    [Fact]
    public async Task Every_route_but_the_allowlist_answers_401_without_the_internal_key()
    {
        await using var core = await CoreServer.StartAsync();
        await using var recorder = RecorderInstance.Start(core);
        var routes = RouteSweep.Routes(recorder.Services);
        Assert.Contains(routes, r => r.Key == "GET /frames/{camera}/{file}");
        var stale = AnonymousAllowlist.Keys.Except(routes.Select(r => r.Key)).ToList();
        Assert.True(stale.Count == 0, "allowlisted routes that do not exist: " + string.Join(", ", stale));

        using var anonymous = recorder.CreateClient();
        var open = new List<string>();
        foreach (var route in routes.Where(r => !AnonymousAllowlist.ContainsKey(r.Key) && !(r.Method == "HEAD" && AnonymousAllowlist.ContainsKey("GET " + r.Pattern))))
        {
            using var response = await anonymous.SendAsync(route.Request());
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                open.Add($"{route.Key} ({route.Url}): {(int)response.StatusCode}");
            }
        }

        Assert.True(open.Count == 0, "routes that did not answer 401 without the key:\n" + string.Join("\n", open));
    }
}
