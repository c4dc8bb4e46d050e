using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OpenNvr.Tests.Docs;

/// <summary>One command block of the README's first five minutes and the answer it shows.</summary>
public sealed record ReadmeStep(string Commands, JsonNode Expected);

/// <summary>
/// The README's "First five minutes", read from the README itself (never copied into a test): the first bash block sets
/// the variables (<c>PASSWORD</c>, <c>API_KEY</c>, <c>FRAMES</c>), then each bash block is followed by a json block
/// showing its answer.
/// </summary>
public sealed partial class ReadmeSteps
{
    public const string Heading = "## First five minutes";

    private ReadmeSteps(string setup, IReadOnlyList<ReadmeStep> steps)
    {
        Setup = setup;
        Steps = steps;
    }

    public string Setup { get; }

    public IReadOnlyList<ReadmeStep> Steps { get; }

    public static ReadmeSteps Load() => Parse(File.ReadAllText(Path.Combine(Infrastructure.RepositoryPaths.Root, "README.md")));

    public static ReadmeSteps Parse(string readme)
    {
        var start = readme.IndexOf(Heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"the README has no '{Heading}' section");
        var end = readme.IndexOf("\n## ", start + Heading.Length, StringComparison.Ordinal);
        var section = end < 0 ? readme[start..] : readme[start..end];
        var blocks = FencedBlock().Matches(section).Select(m => (Language: m.Groups["lang"].Value, Text: m.Groups["body"].Value)).ToList();
        Assert.True(blocks.Count >= 3 && blocks[0].Language == "bash", "the section starts with the bash block that sets the variables");

        var steps = new List<ReadmeStep>();
        for (var i = 1; i < blocks.Count; i++)
        {
            Assert.True(blocks[i].Language == "bash", $"block {i + 1} of '{Heading}' should be a bash block, is '{blocks[i].Language}'");
            Assert.True(i + 1 < blocks.Count && blocks[i + 1].Language == "json", $"the bash block {i + 1} of '{Heading}' is not followed by the json answer to expect");
            steps.Add(new ReadmeStep(blocks[i].Text, JsonNode.Parse(blocks[i + 1].Text) ?? throw new InvalidOperationException("empty answer")));
            i++;
        }

        return new ReadmeSteps(blocks[0].Text, steps);
    }

    /// <summary>
    /// Why <paramref name="actual"/> is not the answer the README shows, or null when it is: every key shown is there;
    /// strings and booleans are equal (a string ending in <c>…</c> is a prefix); numbers are numbers; <c>null</c> shown
    /// matches anything (e.g. <c>track_id</c>, which tracking fills); a non-empty array shown is non-empty, its first
    /// item matching the first item shown.
    /// </summary>
    public static string? Mismatch(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        switch (expected)
        {
            case null:
                return null;
            case JsonObject shown:
                if (actual is not JsonObject got)
                {
                    return $"{path}: expected an object, got {actual?.ToJsonString() ?? "null"}";
                }

                foreach (var (key, value) in shown)
                {
                    if (!got.ContainsKey(key))
                    {
                        return $"{path}.{key} is missing";
                    }

                    if (Mismatch(value, got[key], $"{path}.{key}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonArray shownItems:
                if (actual is not JsonArray items)
                {
                    return $"{path}: expected an array, got {actual?.ToJsonString() ?? "null"}";
                }

                return shownItems.Count == 0 ? null
                    : items.Count == 0 ? $"{path}: expected at least one item, got []"
                    : Mismatch(shownItems[0], items[0], $"{path}[0]");
            case JsonValue value when value.TryGetValue<string>(out var text):
                var actualText = actual is JsonValue a && a.TryGetValue<string>(out var s) ? s : null;
                var matches = actualText is not null && (text.EndsWith('…')
                    ? actualText.StartsWith(text[..^1], StringComparison.Ordinal)
                    : actualText == text);
                return matches ? null : $"{path}: expected \"{text}\", got {actual?.ToJsonString() ?? "null"}";
            case JsonValue value when value.TryGetValue<bool>(out var flag):
                return actual is JsonValue b && b.TryGetValue<bool>(out var got2) && got2 == flag ? null : $"{path}: expected {flag}, got {actual?.ToJsonString() ?? "null"}";
            default:
                return actual is JsonValue n && n.GetValueKind() == System.Text.Json.JsonValueKind.Number ? null : $"{path}: expected a number, got {actual?.ToJsonString() ?? "null"}";
        }
    }

    [GeneratedRegex(@"^```(?<lang>[a-z]+)\n(?<body>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
