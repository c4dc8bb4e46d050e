namespace OpenNvr.Inference.Faces;

/// <summary>The fixed set of identity categories and the person id rule of the contract.</summary>
public static class FaceCategories
{
    public const string Employee = "employee";
    public const string Visitor = "visitor";
    public const string Watchlist = "watchlist";
    public const string Vip = "vip";
    public const string Unknown = "unknown";

    /// <summary><c>employee</c>, <c>visitor</c>, <c>watchlist</c> (the only one <c>watchlist_check</c> matches), <c>vip</c>, <c>unknown</c> (the default).</summary>
    public static readonly IReadOnlyList<string> All = [Employee, Visitor, Watchlist, Vip, Unknown];

    public static bool IsKnown(string category) => All.Contains(category, StringComparer.Ordinal);

    /// <summary><c>^[A-Za-z0-9_-]{1,64}$</c> (<see cref="PersonIds"/>, the rule Core's console proxy checks too).</summary>
    public static bool IsValidPersonId(string personId) => PersonIds.IsValid(personId);
}
