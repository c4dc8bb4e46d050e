using System.Globalization;
using System.Text.Json;

namespace OpenNvr.Core.Integrations;

/// <summary>
/// What the integrations read from a stored event in the REST API's JSON shape, by API.md's names: <c>event_type</c>
/// (<c>line.crossed</c>, <c>occupancy.changed</c>, <c>person.entered</c>, ...) and, for a line crossing, the line
/// (<c>line_name</c>, else <c>line_id</c>) and the <c>direction</c> (<c>in</c> or <c>out</c>). Issue 13 puts
/// <c>event_type</c> and <c>track_id</c> on the event itself and the line's details in its <c>payload</c>; each field is
/// looked up on the event first, then in its payload, so the integrations read the same events before and after it.
/// </summary>
public static class StoredEventFields
{
    public const string LineCrossed = "line.crossed";

    /// <summary>The event's type, or its task for events without one (a count, a detection): what webhooks filter on.</summary>
    public static string EventType(JsonElement stored) =>
        Text(stored, "event_type") ?? Text(stored, "task") ?? "";

    /// <summary>A crossing of a counting line, or null for any other event (or a crossing without a line or a direction).</summary>
    public static LineCrossing? LineCrossingOf(JsonElement stored)
    {
        if (Text(stored, "event_type") != LineCrossed
            || Text(stored, "camera_id") is not { } camera || !int.TryParse(camera, NumberStyles.None, CultureInfo.InvariantCulture, out var cameraId))
        {
            return null;
        }

        var line = Text(stored, "line_name") is { Length: > 0 } name ? name
            : Text(stored, "line_id") is { Length: > 0 } id ? "line_" + id
            : null;
        return (line, Text(stored, "direction")) switch
        {
            (null, _) => null,
            (_, "in") => new LineCrossing(cameraId, line, In: true),
            (_, "out") => new LineCrossing(cameraId, line, In: false),
            _ => null,
        };
    }

    /// <summary>A string or number field of the event, else of its payload; null when neither has it.</summary>
    private static string? Text(JsonElement stored, string name)
    {
        if (stored.ValueKind == JsonValueKind.Object)
        {
            if (Scalar(stored, name) is { } top)
            {
                return top;
            }

            if (stored.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object)
            {
                return Scalar(payload, name);
            }
        }

        return null;
    }

    private static string? Scalar(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;
}

/// <summary>One person crossing a counting line of a camera, one way.</summary>
public sealed record LineCrossing(int CameraId, string Line, bool In);
