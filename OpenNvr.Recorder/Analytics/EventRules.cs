using System.Text.Json;
using OpenNvr.Recorder.Infrastructure;

namespace OpenNvr.Recorder.Analytics;

/// <summary>What an inference result says, after the policy's minimum confidence and region of interest.</summary>
public sealed record Finding(string? Label, int? Count, double? Confidence, IReadOnlyList<double[]> Boxes, string StateKey);

/// <summary>
/// Turns inference results into events only when they say something new: a count that changed (or the first
/// result), a person or face appearing, a recognised identity different from the last one, a watchlist hit, a changed
/// set of object labels. Detections below the policy's <c>min_confidence</c> or whose box centre lies outside its
/// <c>roi</c> are ignored. One instance per camera and policy (the "last" state lives here).
/// </summary>
public sealed class EventRules(CameraAiPolicy policy)
{
    private string? _last;

    public CameraAiPolicy Policy => policy;

    /// <summary>The finding when it is worth an event, else null. Updates the state either way.</summary>
    public Finding? Evaluate(JsonElement result, int frameWidth, int frameHeight)
    {
        var finding = Read(policy.Task, result, frameWidth, frameHeight);
        if (finding is null)
        {
            return null;
        }

        var previous = _last;
        _last = finding.StateKey;
        return IsNews(policy.Task, previous, finding) ? finding : null;
    }

    private static bool IsNews(string task, string? previous, Finding finding) => task switch
    {
        // Count tasks: the first result, then every change (to zero too: people left).
        "person_counting" => previous != finding.StateKey,
        // Appearances: something is there now that was not there in the last result.
        "person_detection" or "face_detection" => finding.StateKey != "none" && previous != finding.StateKey && (previous is null or "none"),
        // Identities and hits: a recognised identity or watchlist match set that differs from the last result.
        "face_recognition" or "watchlist_check" => finding.StateKey != "none" && previous != finding.StateKey,
        // Object detection (local and cloud): the set of labels changed.
        _ => previous != finding.StateKey && !(previous is null && finding.StateKey == "none"),
    };

    private Finding? Read(string task, JsonElement r, int width, int height)
    {
        switch (task)
        {
            case "person_counting":
            {
                var boxes = Detections(r, "detections", null, width, height, xyxy: false);
                var count = boxes.Count;
                return new Finding("person", count, Mean(boxes), boxes.Select(b => b.Box).ToList(), count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            case "person_detection":
            {
                var confidence = Number(r, "confidence") ?? 0;
                var box = Box(r, "bbox");
                var present = confidence > 0 && confidence >= policy.MinConfidence && box is not null && box[2] > 0 && InRoi(box, width, height, xyxy: false);
                return present
                    ? new Finding("person", 1, confidence, [box!], "present")
                    : new Finding("person", 0, null, [], "none");
            }

            case "face_detection":
            {
                var faces = Detections(r, "faces", null, width, height, xyxy: true);
                return new Finding("face", faces.Count, Mean(faces), faces.Select(f => f.Box).ToList(), faces.Count > 0 ? "present" : "none");
            }

            case "face_recognition":
            {
                var recognised = r.TryGetProperty("recognized", out var rec) && rec.ValueKind == JsonValueKind.True;
                var box = Box(r, "face_bbox");
                var similarity = Number(r, "similarity");
                if (!recognised || (similarity is { } s && s < policy.MinConfidence) || (box is not null && !InRoi(box, width, height, xyxy: true)))
                {
                    return new Finding(null, 0, null, [], "none");
                }

                var person = Text(r, "person_id") ?? "";
                return new Finding(Text(r, "name") ?? person, 1, similarity, box is null ? [] : [box], "id:" + person);
            }

            case "watchlist_check":
            {
                var hit = r.TryGetProperty("is_on_watchlist", out var w) && w.ValueKind == JsonValueKind.True;
                var box = Box(r, "face_bbox");
                var matches = r.TryGetProperty("matches", out var m) && m.ValueKind == JsonValueKind.Array
                    ? m.EnumerateArray().Where(x => (Number(x, "similarity") ?? 1) >= policy.MinConfidence).ToList()
                    : [];
                if (!hit || matches.Count == 0 || (box is not null && !InRoi(box, width, height, xyxy: true)))
                {
                    return new Finding(null, 0, null, [], "none");
                }

                var ids = matches.Select(x => Text(x, "person_id") ?? "").Order(StringComparer.Ordinal).ToList();
                return new Finding(Text(matches[0], "name") ?? ids[0], matches.Count, Number(matches[0], "similarity"),
                    box is null ? [] : [box], "hit:" + string.Join(',', ids));
            }

            default:
            {
                if (r.TryGetProperty("detections", out var d) && d.ValueKind == JsonValueKind.Array)
                {
                    var found = Detections(r, "detections", null, width, height, xyxy: false);
                    var labels = found.Select(f => f.Label ?? "object").Distinct().Order(StringComparer.Ordinal).ToList();
                    var best = found.OrderByDescending(f => f.Confidence).FirstOrDefault();
                    return new Finding(labels.Count == 1 ? labels[0] : best?.Label, found.Count, best?.Confidence,
                        found.Select(f => f.Box).ToList(), labels.Count == 0 ? "none" : "labels:" + string.Join(',', labels));
                }

                if (Number(r, "count") is { } n)
                {
                    return new Finding(null, (int)n, Number(r, "confidence"), [], "count:" + n.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                return null; // a task whose result this pipeline cannot judge: no events
            }
        }
    }

    private sealed record Detection(string? Label, double Confidence, double[] Box);

    private List<Detection> Detections(JsonElement r, string property, string? label, int width, int height, bool xyxy)
    {
        var list = new List<Detection>();
        if (!r.TryGetProperty(property, out var items) || items.ValueKind != JsonValueKind.Array)
        {
            return list;
        }

        foreach (var item in items.EnumerateArray())
        {
            var confidence = Number(item, "confidence") ?? 0;
            var box = Box(item, "bbox");
            if (confidence < policy.MinConfidence || box is null || !InRoi(box, width, height, xyxy))
            {
                continue;
            }

            list.Add(new Detection(Text(item, "label") ?? label, confidence, box));
        }

        return list;
    }

    /// <summary>Whether the box centre lies in the policy's polygon (no roi: everywhere).</summary>
    private bool InRoi(double[] box, int width, int height, bool xyxy)
    {
        if (policy.Roi is not { Length: >= 3 } roi || width <= 0 || height <= 0)
        {
            return true;
        }

        var cx = (xyxy ? (box[0] + box[2]) / 2 : box[0] + box[2] / 2) / width;
        var cy = (xyxy ? (box[1] + box[3]) / 2 : box[1] + box[3] / 2) / height;
        return PointInPolygon(cx, cy, roi);
    }

    /// <summary>Even-odd rule (ray casting).</summary>
    public static bool PointInPolygon(double x, double y, double[][] polygon)
    {
        var inside = false;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
        {
            var (xi, yi, xj, yj) = (polygon[i][0], polygon[i][1], polygon[j][0], polygon[j][1]);
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
            {
                inside = !inside;
            }
        }

        return inside;
    }

    private static double? Mean(List<Detection> items) => items.Count == 0 ? null : Math.Round(items.Average(i => i.Confidence), 4);

    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : null;

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double[]? Box(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 4)
        {
            return null;
        }

        var box = new double[4];
        var i = 0;
        foreach (var n in v.EnumerateArray())
        {
            if (n.ValueKind != JsonValueKind.Number || !double.IsFinite(n.GetDouble()))
            {
                return null;
            }

            box[i++] = n.GetDouble();
        }

        return box;
    }
}
