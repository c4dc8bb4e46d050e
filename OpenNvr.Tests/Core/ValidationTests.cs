using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OpenNvr.Tests.Core;

/// <summary>
/// Request shape is checked by the framework's validation (AddValidation, data annotations on parameters and request
/// records) before a handler runs: a 400 problem whose <c>errors</c> name the field and whose detail says what was wrong.
/// </summary>
public sealed class ValidationTests(CoreFixture core) : IClassFixture<CoreFixture>
{
    [Theory]
    [InlineData("/api/v1/events/latest?limit=0", "limit", "limit must be between 1 and 500.")]
    [InlineData("/api/v1/events?limit=501", "limit", "limit must be between 1 and 500.")]
    [InlineData("/api/v1/audit?limit=9999", "limit", "limit must be between 1 and 500.")]
    public async Task Out_of_range_query_values_are_validation_problems(string url, string field, string message)
    {
        using var admin = await core.AdminAsync();
        using var response = await admin.GetAsync(url);
        Assert.Equal(message, await HttpAssert.ProblemAsync(response, HttpStatusCode.BadRequest));
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Contains(errors, e => e.Key.Equals(field, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Too_long_filters_are_validation_problems_naming_the_filter()
    {
        using var admin = await core.AdminAsync();
        var detail = await HttpAssert.ProblemAsync(await admin.GetAsync("/api/v1/events?label=" + new string('x', 129)), HttpStatusCode.BadRequest);
        Assert.Contains("label", detail);
        Assert.Contains("128", detail);
    }

    [Fact]
    public async Task A_short_password_is_refused_before_any_user_is_created()
    {
        using var admin = await core.AdminAsync();
        var before = await core.ScalarAsync<long>("SELECT count(*) FROM users");
        var detail = await HttpAssert.ProblemAsync(
            await admin.PostAsJsonAsync("/api/v1/users", new { username = "shortpw", password = "short", role = "viewer" }), HttpStatusCode.BadRequest);
        Assert.Contains("at least 12 characters", detail);
        Assert.Equal(before, await core.ScalarAsync<long>("SELECT count(*) FROM users"));

        var (id, _) = await core.CreateUserAsync("viewer");
        detail = await HttpAssert.ProblemAsync(await admin.PutAsJsonAsync($"/api/v1/users/{id}", new { password = "tab\there-and-long-enough" }), HttpStatusCode.BadRequest);
        Assert.Contains("control characters", detail);
    }
}
