namespace OpenNvr.Inference.Detection;

/// <summary>One detected object, its box in pixels of the original frame (corners, clipped to the frame).</summary>
public readonly record struct DetectedObject(int ClassId, string Label, float Confidence, float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;

    public float Height => Y2 - Y1;

    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>The contract's <c>[left, top, width, height]</c> in whole pixels.</summary>
    public int[] ToLtwh()
    {
        var left = (int)MathF.Round(X1);
        var top = (int)MathF.Round(Y1);
        return [left, top, (int)MathF.Round(X2) - left, (int)MathF.Round(Y2) - top];
    }

    /// <summary>The contract's <c>[x1, y1, x2, y2]</c> in whole pixels.</summary>
    public int[] ToXyxy() => [(int)MathF.Round(X1), (int)MathF.Round(Y1), (int)MathF.Round(X2), (int)MathF.Round(Y2)];

    public float IntersectionOverUnion(in DetectedObject other)
    {
        var w = MathF.Min(X2, other.X2) - MathF.Max(X1, other.X1);
        var h = MathF.Min(Y2, other.Y2) - MathF.Max(Y1, other.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var intersection = w * h;
        return intersection / (Area + other.Area - intersection);
    }
}
