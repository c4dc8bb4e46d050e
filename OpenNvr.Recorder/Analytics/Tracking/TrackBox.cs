using OpenNvr.Contracts.People;

namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>An axis-aligned box in pixels of the analysed frame, by its corners.</summary>
public readonly record struct TrackBox(double X1, double Y1, double X2, double Y2)
{
    public double Width => X2 - X1;

    public double Height => Y2 - Y1;

    public double CenterX => (X1 + X2) / 2;

    public double CenterY => (Y1 + Y2) / 2;

    public double Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>
    /// Where a person touches the ground: the middle of the bottom edge. Zones and lines are drawn on the ground, so
    /// a walker's feet (not the centre of the box, which sits at belt height) decide which side of a line they are on.
    /// </summary>
    public PlanePoint BottomCenter => new(CenterX, Y2);

    public static TrackBox FromCenter(double centerX, double centerY, double width, double height) =>
        new(centerX - width / 2, centerY - height / 2, centerX + width / 2, centerY + height / 2);

    /// <summary>The contract's <c>[left, top, width, height]</c>.</summary>
    public static TrackBox FromLtwh(double left, double top, double width, double height) => new(left, top, left + width, top + height);

    public double IntersectionArea(in TrackBox other)
    {
        var w = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        var h = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        return w <= 0 || h <= 0 ? 0 : w * h;
    }

    public double IntersectionOverUnion(in TrackBox other)
    {
        var intersection = IntersectionArea(other);
        return intersection <= 0 ? 0 : intersection / (Area + other.Area - intersection);
    }

    /// <summary>The point normalised by the frame size (0..1 inside the frame).</summary>
    public PlanePoint NormalizedBottomCenter(int frameWidth, int frameHeight) =>
        new(CenterX / frameWidth, Y2 / frameHeight);
}
