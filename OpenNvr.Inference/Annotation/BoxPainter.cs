using System.Globalization;
using OpenCvSharp;

namespace OpenNvr.Inference.Annotation;

/// <summary>
/// Draws boxes and their labels on a BGR frame with OpenCV. Line width and text size follow the frame's size, so a
/// 4K frame and a 640x480 one read alike. A label sits above its box (inside it when the box touches the top edge),
/// on a filled strip of the box's colour; the Hershey fonts have ASCII glyphs only, so other characters show as '?'.
/// </summary>
internal static class BoxPainter
{
    private const HersheyFonts Font = HersheyFonts.HersheySimplex;

    public static void Draw(Mat image, IReadOnlyList<AnnotationBox> boxes)
    {
        var shortSide = Math.Min(image.Width, image.Height);
        var thickness = Math.Max(2, (int)Math.Round(shortSide / 360.0));
        var fontScale = Math.Clamp(shortSide / 1000.0, 0.4, 1.5);
        var textThickness = Math.Max(1, thickness / 2);
        foreach (var box in boxes)
        {
            var x1 = Math.Clamp(box.X1, 0, image.Width - 1);
            var y1 = Math.Clamp(box.Y1, 0, image.Height - 1);
            var x2 = Math.Clamp(box.X2, 0, image.Width - 1);
            var y2 = Math.Clamp(box.Y2, 0, image.Height - 1);
            if (x2 <= x1 || y2 <= y1)
            {
                continue;
            }

            var colour = ColourOf(box.Style);
            var lineThickness = box.Style == BoxStyle.WatchlistHit ? thickness * 2 : thickness;
            if (box.Style == BoxStyle.FusedFromFace)
            {
                DashedRectangle(image, x1, y1, x2, y2, colour, lineThickness);
            }
            else
            {
                Cv2.Rectangle(image, new Point(x1, y1), new Point(x2, y2), colour, lineThickness, LineTypes.AntiAlias);
            }

            DrawLabel(image, Ascii(box.Label), x1, y1, colour, fontScale, textThickness, lineThickness);
        }
    }

    private static void DrawLabel(Mat image, string text, int x1, int y1, Scalar colour, double fontScale, int textThickness, int lineThickness)
    {
        if (text.Length == 0)
        {
            return;
        }

        var size = Cv2.GetTextSize(text, Font, fontScale, textThickness, out var baseline);
        var pad = Math.Max(2, lineThickness);
        var height = size.Height + baseline + 2 * pad;
        var width = size.Width + 2 * pad;
        // Above the box when it fits, else just inside its top edge.
        var top = y1 - height >= 0 ? y1 - height : y1;
        var left = Math.Min(x1, Math.Max(0, image.Width - width));
        Cv2.Rectangle(image, new Rect(left, top, Math.Min(width, image.Width - left), Math.Min(height, image.Height - top)), colour, -1);
        Cv2.PutText(image, text, new Point(left + pad, top + pad + size.Height), Font, fontScale, TextColourOn(colour), textThickness, LineTypes.AntiAlias);
    }

    private static void DashedRectangle(Mat image, int x1, int y1, int x2, int y2, Scalar colour, int thickness)
    {
        var dash = 4 * thickness;
        DashedLine(image, x1, y1, x2, y1, colour, thickness, dash);
        DashedLine(image, x2, y1, x2, y2, colour, thickness, dash);
        DashedLine(image, x2, y2, x1, y2, colour, thickness, dash);
        DashedLine(image, x1, y2, x1, y1, colour, thickness, dash);
    }

    private static void DashedLine(Mat image, int xa, int ya, int xb, int yb, Scalar colour, int thickness, int dash)
    {
        var length = Math.Max(Math.Abs(xb - xa), Math.Abs(yb - ya));
        for (var at = 0; at < length; at += 2 * dash)
        {
            var end = Math.Min(length, at + dash);
            Cv2.Line(image, Along(xa, ya, xb, yb, at, length), Along(xa, ya, xb, yb, end, length), colour, thickness, LineTypes.AntiAlias);
        }
    }

    private static Point Along(int xa, int ya, int xb, int yb, int at, int length) =>
        new(xa + (xb - xa) * at / length, ya + (yb - ya) * at / length);

    // BGR.
    private static Scalar ColourOf(BoxStyle style) => style switch
    {
        BoxStyle.Body => new Scalar(0, 200, 0),
        BoxStyle.FusedFromFace => new Scalar(255, 0, 255),
        BoxStyle.Object => new Scalar(255, 128, 0),
        BoxStyle.Face => new Scalar(0, 220, 255),
        BoxStyle.KnownFace => new Scalar(255, 255, 0),
        BoxStyle.WatchlistHit => new Scalar(0, 0, 255),
        _ => new Scalar(255, 255, 255),
    };

    private static Scalar TextColourOn(Scalar background) =>
        0.114 * background.Val0 + 0.587 * background.Val1 + 0.299 * background.Val2 > 140 ? Scalar.Black : Scalar.White;

    private static string Ascii(string text)
    {
        var chars = text.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray();
        return new string(chars, 0, Math.Min(chars.Length, 80));
    }

    /// <summary>A confidence as a label shows it: two decimals, invariant.</summary>
    public static string Score(double confidence) => confidence.ToString("0.00", CultureInfo.InvariantCulture);
}
