using OpenNvr.Inference.Faces;

namespace OpenNvr.Inference.Detection;

/// <summary>Which detector found a person.</summary>
public enum PersonSource
{
    /// <summary>The object detector's person box (the face, if one was found, is in <see cref="FusedPerson.Face"/>).</summary>
    Body,

    /// <summary>A face that lies in no person box: someone the body detector missed (cut off by the frame, crowded, sitting behind a table).</summary>
    Face,
}

/// <summary>A person counted from every cue: a body box (with its face when one was found) or a face alone.</summary>
/// <param name="Box">Corners in original-frame pixels: the body box, or the face box for <see cref="PersonSource.Face"/>.</param>
/// <param name="Confidence">The body detector's score, or the face detector's for a face alone.</param>
public sealed record FusedPerson(float X1, float Y1, float X2, float Y2, float Confidence, PersonSource Source, DetectedFace? Face)
{
    public int[] ToLtwh()
    {
        var left = (int)MathF.Round(X1);
        var top = (int)MathF.Round(Y1);
        return [left, top, (int)MathF.Round(X2) - left, (int)MathF.Round(Y2) - top];
    }
}

/// <summary>
/// Counts people from body and face detections together. A person detector misses people whose bodies are cut off
/// by the frame or hidden behind others (group photos, a table, a crowd) although their faces are plainly visible;
/// a face detector finds those faces. Each face is matched to at most one body box and each body box takes at most
/// one face; a face matched to no box is a person of its own.
/// <para>
/// A face belongs to a box when its centre lies within the box's width (10 % slack on each side), no more than half
/// a face above the box's top and no lower than 60 % of the box's height below it (a head is in the upper part of
/// a person, standing, sitting or cut off at the waist), and the face is no wider than 1.2 times the box. Among the
/// possible pairs, the face sitting nearest the top centre of its box is matched first. So two faces in one box (two
/// people the detector merged, or someone behind a seated person) count two people, and a face inside a much larger
/// box high up still pairs with it.
/// </para>
/// Pure and cheap (a few dozen comparisons); the face detector's run is the only added cost.
/// </summary>
public static class FaceBodyFusion
{
    private const float SideSlack = 0.1f;
    private const float AboveTop = 0.5f;   // of the face's height
    private const float HeadBand = 0.6f;   // of the box's height
    private const float MaxFaceToBoxWidth = 1.2f;

    /// <summary>
    /// People from <paramref name="bodies"/> (person boxes, highest confidence first) and <paramref name="faces"/>
    /// (already filtered by score and size). Body people come first, in their order, then faces alone by score.
    /// </summary>
    public static IReadOnlyList<FusedPerson> Fuse(IReadOnlyList<DetectedObject> bodies, IReadOnlyList<DetectedFace> faces)
    {
        var pairs = new List<(float Cost, int Face, int Body)>();
        for (var f = 0; f < faces.Count; f++)
        {
            var face = faces[f];
            var fx = (face.X1 + face.X2) / 2;
            var fy = (face.Y1 + face.Y2) / 2;
            for (var b = 0; b < bodies.Count; b++)
            {
                var body = bodies[b];
                var width = body.Width;
                var height = body.Height;
                if (width <= 0 || height <= 0
                    || fx < body.X1 - SideSlack * width || fx > body.X2 + SideSlack * width
                    || fy < body.Y1 - AboveTop * face.Height || fy > body.Y1 + HeadBand * height
                    || face.Width > MaxFaceToBoxWidth * width)
                {
                    continue;
                }

                // How far the face is from where a head would be: horizontally from the centre, vertically from the top.
                var cost = MathF.Abs(fx - (body.X1 + body.X2) / 2) / width + MathF.Abs(face.Y1 - body.Y1) / height;
                pairs.Add((cost, f, b));
            }
        }

        pairs.Sort(static (a, b) => a.Cost.CompareTo(b.Cost));
        var faceOf = new int[bodies.Count];
        Array.Fill(faceOf, -1);
        var matched = new bool[faces.Count];
        foreach (var (_, f, b) in pairs)
        {
            if (!matched[f] && faceOf[b] < 0)
            {
                matched[f] = true;
                faceOf[b] = f;
            }
        }

        var people = new List<FusedPerson>(bodies.Count + faces.Count);
        for (var b = 0; b < bodies.Count; b++)
        {
            var body = bodies[b];
            people.Add(new FusedPerson(body.X1, body.Y1, body.X2, body.Y2, body.Confidence, PersonSource.Body, faceOf[b] >= 0 ? faces[faceOf[b]] : null));
        }

        foreach (var face in faces.Where((_, f) => !matched[f]).OrderByDescending(f => f.Score))
        {
            people.Add(new FusedPerson(face.X1, face.Y1, face.X2, face.Y2, face.Score, PersonSource.Face, face));
        }

        return people;
    }
}
