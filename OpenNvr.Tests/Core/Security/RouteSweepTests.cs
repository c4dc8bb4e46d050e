using System.Net;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Core.Security;

/// <summary>
/// No route of Core is open by accident: every route of the running app (from its endpoint data source) answers
/// 401 to an anonymous caller unless it is on the explicit allowlist below; a viewer is refused every route that
/// changes state, except those on its own account.
/// </summary>
public sealed class CoreRouteSweepTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    /// <summary>Routes that answer without a user, and why. A route listed here that no longer exists fails the test.</summary>
    private static readonly Dictionary<string, string> AnonymousAllowlist = new()
    {
        ["POST /api/v1/auth/login"] = "exchanges a password for tokens",
        ["POST /api/v1/auth/refresh"] = "exchanges a refresh token for tokens",
        ["GET /health"] = "orchestrator probe",
        ["GET /alive"] = "orchestrator probe",
        ["GET /openapi/{documentName}.json"] = "API reference (tests run in Development)",
        ["GET /scalar/{documentName?}"] = "API reference (tests run in Development)",
        ["GET /scalar/scalar.js"] = "API reference script",
        ["GET /scalar/scalar.aspnetcore.js"] = "API reference script",
        ["GET /scalar/favicon.svg"] = "API reference icon",
        ["GET /login"] = "console page (static HTML; its data needs a token)",
        ["GET /cameras"] = "console page",
        ["GET /cameras/{id:int}"] = "console page",
        ["GET /events"] = "console page",
        ["GET /faces"] = "console page",
        ["GET /settings"] = "console page",
        ["GET /settings/{section}"] = "console page",
        ["GET /account"] = "console page",
    };

    /// <summary>
    /// Service-key routes whose key check is an endpoint filter, which runs after the body was bound: a caller
    /// without the key gets a 400 about the body before the 401. Still refused, but in the wrong order; to be
    /// fixed with the key check before binding (after issue 12 reshapes the internal API), then removed from here.
    /// </summary>
    private static bool KeyCheckedAfterBinding(SweptRoute route, HttpStatusCode status) =>
        route.Pattern.StartsWith("/api/v1/internal/", StringComparison.Ordinal) && status == HttpStatusCode.BadRequest;

    private static bool AllowedAnonymously(SweptRoute route) =>
        AnonymousAllowlist.ContainsKey(route.Key) || route.Method == "HEAD" && AnonymousAllowlist.ContainsKey("GET " + route.Pattern);

    /// <summary>State-changing routes a viewer may call on its own account.</summary>
    private static readonly HashSet<string> ViewerOwnAccount =
    [
        "POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/logout",
        "POST /api/v1/recordings/{cameraId:int}/media-token",
        "POST /api/v1/auth/mfa/setup", "POST /api/v1/auth/mfa/enable", "POST /api/v1/auth/mfa/disable",
        "POST /api/v1/auth/api-tokens/", "DELETE /api/v1/auth/api-tokens/{id:long}",
        // Issue 15: anyone who may watch a camera's recordings may export a clip of them (its own export job).
        "POST /api/v1/exports/",
    ];

    [Fact]
    public async Task Every_route_but_the_allowlist_answers_401_to_an_anonymous_caller()
    {
        var routes = RouteSweep.Routes(core.Factory.Services);
        Assert.True(routes.Count > 40, $"only {routes.Count} routes found");
        var stale = AnonymousAllowlist.Keys.Except(routes.Select(r => r.Key)).ToList();
        Assert.True(stale.Count == 0, "allowlisted routes that do not exist: " + string.Join(", ", stale));

        using var anonymous = core.Anonymous();
        var open = new List<string>();
        foreach (var route in routes.Where(r => !AllowedAnonymously(r)))
        {
            using var response = await anonymous.SendAsync(route.Request());
            if (response.StatusCode != HttpStatusCode.Unauthorized && !KeyCheckedAfterBinding(route, response.StatusCode))
            {
                open.Add($"{route.Key} ({route.Url}): {(int)response.StatusCode}");
            }
        }

        Assert.True(open.Count == 0, "routes that did not answer 401 to an anonymous caller:\n" + string.Join("\n", open));
    }

    [Fact]
    public async Task A_viewer_is_refused_every_state_changing_route()
    {
        var camera = await core.CreateCameraAsync("sweep-camera");
        var (_, viewer) = await core.CreateUserAsync("viewer", camera);
        var allowed = new List<string>();
        foreach (var route in RouteSweep.Routes(core.Factory.Services).Where(r => r.ChangesState && !ViewerOwnAccount.Contains(r.Key)))
        {
            using var response = await viewer.SendAsync(route.Request());
            // 403 (role), 404 (a camera it may not see, answered as missing), 401 (a service key it does not have).
            if (response.StatusCode is not (HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Unauthorized)
                && !KeyCheckedAfterBinding(route, response.StatusCode))
            {
                allowed.Add($"{route.Key} ({route.Url}): {(int)response.StatusCode}");
            }
        }

        Assert.True(allowed.Count == 0, "state-changing routes a viewer was not refused:\n" + string.Join("\n", allowed));
    }
}
