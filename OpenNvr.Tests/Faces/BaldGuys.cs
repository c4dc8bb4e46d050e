using OpenCvSharp;

namespace OpenNvr.Tests.Faces;

/// <summary>
/// testdata/faces/bald_guys.jpg (1986x1545) is a collage of 24 photos of four men, six each, in an irregular layout
/// (not a grid): photos of different sizes in rows that do not line up, so no position rule sorts them. The boxes
/// below are the ones the bundled detector found, each checked by eye on a rendering of the collage with the boxes
/// drawn; the identities were assigned by eye, photo by photo, not by the models under test. The tests cut each
/// photo out around its face and use the cut-outs as frames.
/// </summary>
public static class BaldGuys
{
    public const string Vin = "vin";
    public const string Jason = "jason";
    public const string Bruce = "bruce";
    public const string Dwayne = "dwayne";

    public static readonly string[] People = [Vin, Jason, Bruce, Dwayne];

    /// <summary>(person, face box x1, y1, x2, y2 in collage pixels), six per person.</summary>
    public static readonly (string Person, int X1, int Y1, int X2, int Y2)[] Faces =
    [
        (Vin, 71, 40, 225, 249),
        (Vin, 551, 65, 719, 317),
        (Vin, 334, 220, 441, 375),
        (Vin, 63, 339, 225, 562),
        (Vin, 564, 377, 727, 623),
        (Vin, 71, 1265, 224, 1485),
        (Jason, 340, 23, 450, 178),
        (Jason, 882, 62, 1025, 299),
        (Jason, 889, 355, 1028, 592),
        (Jason, 333, 417, 452, 604),
        (Jason, 72, 662, 215, 869),
        (Jason, 396, 741, 604, 1084),
        (Bruce, 1072, 718, 1236, 967),
        (Bruce, 778, 774, 940, 1010),
        (Bruce, 55, 946, 192, 1138),
        (Bruce, 1125, 1037, 1255, 1229),
        (Bruce, 370, 1187, 551, 1475),
        (Bruce, 773, 1191, 933, 1423),
        (Dwayne, 1468, 64, 1733, 414),
        (Dwayne, 1830, 410, 1929, 552),
        (Dwayne, 1648, 687, 1738, 806),
        (Dwayne, 1083, 1270, 1240, 1490),
        (Dwayne, 1802, 1280, 1939, 1475),
        (Dwayne, 1458, 1309, 1576, 1475),
    ];

    /// <summary>The frame file of face <paramref name="index"/>, e.g. <c>vin_0.jpg</c> (numbered per person).</summary>
    public static string FileOf(int index)
    {
        var person = Faces[index].Person;
        var number = Faces.Take(index).Count(f => f.Person == person);
        return $"{person}_{number}.jpg";
    }

    /// <summary>Where the cut-out of face <paramref name="index"/> starts in the collage.</summary>
    public static (int Left, int Top) CropOrigin(int index)
    {
        var (_, x1, y1, x2, y2) = Faces[index];
        return (Math.Max(0, x1 - (x2 - x1) / 4), Math.Max(0, y1 - (y2 - y1) / 4));
    }

    /// <summary>
    /// Cuts each face out with a margin of a quarter of its size on every side (clipped to the collage). Such a
    /// margin takes in parts of neighbouring photos, so every other annotated face is painted black first: each
    /// cut-out then shows exactly one face (a tighter cut loses faces the detector needs context for).
    /// </summary>
    public static void WriteCrops(string collagePath, string folder)
    {
        Directory.CreateDirectory(folder);
        using var collage = Cv2.ImRead(collagePath);
        for (var i = 0; i < Faces.Length; i++)
        {
            var (_, x1, y1, x2, y2) = Faces[i];
            var marginX = (x2 - x1) / 4;
            var marginY = (y2 - y1) / 4;
            var left = Math.Max(0, x1 - marginX);
            var top = Math.Max(0, y1 - marginY);
            var right = Math.Min(collage.Width, x2 + marginX);
            var bottom = Math.Min(collage.Height, y2 + marginY);
            using var masked = collage.Clone();
            for (var j = 0; j < Faces.Length; j++)
            {
                if (j != i)
                {
                    var other = Faces[j];
                    masked.Rectangle(new Rect(other.X1, other.Y1, other.X2 - other.X1, other.Y2 - other.Y1), Scalar.Black, -1);
                }
            }

            using var crop = new Mat(masked, new Rect(left, top, right - left, bottom - top));
            Cv2.ImWrite(Path.Combine(folder, FileOf(i)), crop, [(int)ImwriteFlags.JpegQuality, 95]);
        }
    }
}
