using System.Text.RegularExpressions;

namespace OpenNvr.Contracts;

/// <summary>An AI task's name as policies, events and <c>/infer</c> carry it.</summary>
public static partial class TaskNames
{
    /// <summary>The rule as a regular expression, for data annotations on request records.</summary>
    public const string PatternText = @"^[A-Za-z0-9_.-]{1,64}\z";

    public const string Rule = "must be 1-64 characters of A-Z, a-z, 0-9, '_', '-' or '.'.";

    public static bool IsValid(string? task) => task is not null && Pattern().IsMatch(task);

    /// <summary>Null when acceptable, else what is wrong (to follow the field's name).</summary>
    public static string? Check(string? task) => IsValid(task) ? null : Rule;

    [GeneratedRegex(PatternText)]
    private static partial Regex Pattern();
}
