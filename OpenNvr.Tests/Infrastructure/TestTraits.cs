namespace OpenNvr.Tests.Infrastructure;

/// <summary>
/// Slow tests (app host, real streams, outages) carry <c>[Trait(TestTraits.Category, TestTraits.Slow)]</c>;
/// the inner loop runs <c>dotnet test --filter Category!=Slow</c>, CI runs everything.
/// </summary>
public static class TestTraits
{
    public const string Category = "Category";
    public const string Slow = "Slow";
}
