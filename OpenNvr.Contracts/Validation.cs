using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Contracts;

/// <summary>Checks shared by the batch requests.</summary>
public static class BatchValidation
{
    /// <summary>The first null item of <paramref name="items"/> (the JSON <c>null</c> in a list), as <c>field[i] is null.</c></summary>
    public static IEnumerable<ValidationResult> NoNullItems<T>(IReadOnlyList<T?> items, string field, string member) =>
        items.Select((item, i) => (item, i)).Where(x => x.item is null)
            .Select(x => new ValidationResult($"{field}[{x.i}] is null.", [member])).Take(1);
}

/// <summary>Text of at most <paramref name="maxLength"/> characters without control characters (null passes: add <see cref="RequiredAttribute"/>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class PrintableTextAttribute(int maxLength) : ValidationAttribute
{
    public int MaxLength => maxLength;

    public override bool IsValid(object? value) =>
        value is null || value is string text && text.Length <= maxLength && !text.Any(char.IsControl);
}

/// <summary>A finite number (no NaN or infinity) of at least <paramref name="minimum"/> (null passes).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class FiniteAttribute(double minimum = double.MinValue) : ValidationAttribute
{
    public override bool IsValid(object? value) => value is null || value is double d && double.IsFinite(d) && d >= minimum;
}

/// <summary>A path relative to the recordings root (<see cref="RecordingPaths"/>), named <paramref name="field"/> in the message (null passes).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class RecordingPathAttribute(string field) : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is null || RecordingPaths.Check(value as string, field) is not { } problem
            ? ValidationResult.Success
            : new ValidationResult(problem, validationContext.MemberName is { } member ? [member] : null);
}

/// <summary>An AI task name (<see cref="TaskNames"/>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class TaskNameAttribute : ValidationAttribute
{
    public TaskNameAttribute() : base("task " + TaskNames.Rule)
    {
    }

    public override bool IsValid(object? value) => TaskNames.IsValid(value as string);
}

/// <summary>Unix milliseconds between the years 2000 and 2200: anything else is a unit mistake (seconds or microseconds).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter | AttributeTargets.Field)]
public sealed class UnixMillisecondsAttribute : ValidationAttribute
{
    public const long Min = 946_684_800_000;
    public const long Max = 7_258_118_400_000;

    public override bool IsValid(object? value) => value is null || value is long ms && ms is >= Min and <= Max;
}
