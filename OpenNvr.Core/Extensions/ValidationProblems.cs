using System.Text;
using System.Text.Json;

namespace OpenNvr.Core.Extensions;

/// <summary>
/// The detail of an endpoint validation problem: each error's message qualified by where it stands in the body, in the
/// body's own names (<c>events[3].confidence must be between 0 and 1.</c>), so a client reads what to fix from the
/// detail as it always could. Messages name their field; the path of its parent object is put in front.
/// </summary>
public static class ValidationProblems
{
    public static string Detail(IDictionary<string, string[]> errors) =>
        string.Join(" ", errors.SelectMany(error => error.Value.Select(message => Qualify(error.Key, message))).Distinct());

    private static string Qualify(string key, string message)
    {
        var dot = key.LastIndexOf('.');
        return dot <= 0 ? message : $"{JsonPath(key[..dot])}.{message}";
    }

    /// <summary><c>Events[3]</c> → <c>events[3]</c>: each member name as the JSON body spells it.</summary>
    private static string JsonPath(string path)
    {
        var result = new StringBuilder(path.Length + 8);
        foreach (var segment in path.Split('.'))
        {
            if (result.Length > 0)
            {
                result.Append('.');
            }

            var bracket = segment.IndexOf('[');
            var name = bracket < 0 ? segment : segment[..bracket];
            result.Append(JsonNamingPolicy.SnakeCaseLower.ConvertName(name));
            if (bracket >= 0)
            {
                result.Append(segment[bracket..]);
            }
        }

        return result.ToString();
    }
}
