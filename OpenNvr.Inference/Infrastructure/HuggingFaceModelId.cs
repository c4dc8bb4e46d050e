using System.Text.RegularExpressions;

namespace OpenNvr.Inference.Infrastructure;

/// <summary>
/// A Hugging Face model id as it may appear in <c>/models/{model}</c>: <c>^[A-Za-z0-9_.\-/]{1,200}$</c>, and every
/// <c>/</c>-separated segment a plain name. The segment rule matters because the id becomes part of the URL path:
/// <c>..</c> or <c>.</c> would be collapsed by URI normalisation (<c>models/../api/whoami</c> calls another endpoint
/// with our token), and a leading, trailing or doubled <c>/</c> names no model.
/// </summary>
public static partial class HuggingFaceModelId
{
    public const int MaxLength = 200;

    /// <summary>Null when <paramref name="model"/> is a valid id, otherwise what is wrong with it.</summary>
    public static string? Check(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            return "the model id is empty.";
        }

        if (model.Length > MaxLength)
        {
            return $"the model id is {model.Length} characters long; at most {MaxLength} are accepted.";
        }

        if (!Pattern().IsMatch(model))
        {
            return "a model id may only contain letters, digits, '_', '.', '-' and '/'.";
        }

        foreach (var segment in model.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "a model id must not start or end with '/' or contain '//'.";
            }

            if (segment is "." or "..")
            {
                return "a model id must not contain '.' or '..' segments.";
            }
        }

        return null;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.\-/]{1,200}\z")]
    private static partial Regex Pattern();
}
