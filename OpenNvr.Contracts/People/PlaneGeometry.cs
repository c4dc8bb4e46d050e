namespace OpenNvr.Contracts.People;

/// <summary>A point of the image plane (pixels, or normalised 0..1 for zones and lines).</summary>
public readonly record struct PlanePoint(double X, double Y);

/// <summary>
/// Plane geometry of zones and lines (normalised image coordinates, y pointing down): what Core validates a zone with
/// and what the Recorder counts people with, one copy for both.
/// </summary>
public static class PlaneGeometry
{
    /// <summary>
    /// Twice the signed area of the triangle (a, b, p): positive when <paramref name="p"/> lies on the right of the
    /// directed line a → b as seen on screen (y down), negative on its left, 0 on it.
    /// </summary>
    public static double Cross(PlanePoint a, PlanePoint b, PlanePoint p) => (b.X - a.X) * (p.Y - a.Y) - (b.Y - a.Y) * (p.X - a.X);

    /// <summary>Signed distance of <paramref name="p"/> from the infinite line through a and b (positive: right of a → b).</summary>
    public static double SignedDistance(PlanePoint a, PlanePoint b, PlanePoint p)
    {
        var length = Distance(a, b);
        return length == 0 ? Distance(a, p) : Cross(a, b, p) / length;
    }

    public static double Distance(PlanePoint a, PlanePoint b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y));

    /// <summary>Distance of <paramref name="p"/> from the segment a-b.</summary>
    public static double DistanceToSegment(PlanePoint a, PlanePoint b, PlanePoint p)
    {
        var dx = b.X - a.X;
        var dy = b.Y - a.Y;
        var lengthSquared = dx * dx + dy * dy;
        var t = lengthSquared == 0 ? 0 : Math.Clamp(((p.X - a.X) * dx + (p.Y - a.Y) * dy) / lengthSquared, 0, 1);
        return Distance(p, new PlanePoint(a.X + t * dx, a.Y + t * dy));
    }

    /// <summary>Whether segments p1-p2 and q1-q2 share a point (touching counts).</summary>
    public static bool SegmentsIntersect(PlanePoint p1, PlanePoint p2, PlanePoint q1, PlanePoint q2)
    {
        var d1 = Math.Sign(Cross(q1, q2, p1));
        var d2 = Math.Sign(Cross(q1, q2, p2));
        var d3 = Math.Sign(Cross(p1, p2, q1));
        var d4 = Math.Sign(Cross(p1, p2, q2));
        if (d1 * d2 < 0 && d3 * d4 < 0)
        {
            return true;
        }

        return (d1 == 0 && OnSegment(q1, q2, p1)) || (d2 == 0 && OnSegment(q1, q2, p2))
            || (d3 == 0 && OnSegment(p1, p2, q1)) || (d4 == 0 && OnSegment(p1, p2, q2));
    }

    /// <summary>Whether <paramref name="p"/> is inside the polygon (even-odd rule; points on an edge may go either way).</summary>
    public static bool Contains(ReadOnlySpan<PlanePoint> polygon, PlanePoint p)
    {
        var inside = false;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
        {
            var a = polygon[i];
            var b = polygon[j];
            if ((a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X - a.X) * (p.Y - a.Y) / (b.Y - a.Y) + a.X)
            {
                inside = !inside;
            }
        }

        return inside;
    }

    /// <summary>Distance of <paramref name="p"/> from the polygon's boundary.</summary>
    public static double DistanceToBoundary(ReadOnlySpan<PlanePoint> polygon, PlanePoint p)
    {
        var best = double.PositiveInfinity;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
        {
            best = Math.Min(best, DistanceToSegment(polygon[j], polygon[i], p));
        }

        return best;
    }

    /// <summary>Twice the polygon's signed area (shoelace formula).</summary>
    public static double DoubleArea(ReadOnlySpan<PlanePoint> polygon)
    {
        var sum = 0.0;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
        {
            sum += polygon[j].X * polygon[i].Y - polygon[i].X * polygon[j].Y;
        }

        return sum;
    }

    /// <summary>
    /// Whether the polygon is simple: at least three points, no repeated consecutive points, a non-zero area and no
    /// two edges crossing or touching except neighbours at their shared corner.
    /// </summary>
    public static bool IsSimplePolygon(ReadOnlySpan<PlanePoint> polygon)
    {
        var n = polygon.Length;
        if (n < 3 || Math.Abs(DoubleArea(polygon)) < 1e-12)
        {
            return false;
        }

        for (var i = 0; i < n; i++)
        {
            if (polygon[i] == polygon[(i + 1) % n])
            {
                return false;
            }
        }

        for (var i = 0; i < n; i++)
        {
            var a1 = polygon[i];
            var a2 = polygon[(i + 1) % n];
            for (var j = i + 1; j < n; j++)
            {
                var b1 = polygon[j];
                var b2 = polygon[(j + 1) % n];
                var adjacent = j == i + 1 || (i == 0 && j == n - 1);
                if (adjacent)
                {
                    // Neighbours share one corner; they must not fold back onto each other.
                    var shared = j == i + 1 ? a2 : a1;
                    var other = j == i + 1 ? b2 : b1;
                    var mine = j == i + 1 ? a1 : a2;
                    if (Cross(mine, shared, other) == 0 && Dot(mine, shared, other) > 0)
                    {
                        return false;
                    }

                    continue;
                }

                if (SegmentsIntersect(a1, a2, b1, b2))
                {
                    return false;
                }
            }
        }

        return true;
    }

    // Dot product of (shared - mine) and (shared - other) reversed: positive when `other` goes back along `mine`.
    private static double Dot(PlanePoint mine, PlanePoint shared, PlanePoint other) =>
        (mine.X - shared.X) * (other.X - shared.X) + (mine.Y - shared.Y) * (other.Y - shared.Y);

    private static bool OnSegment(PlanePoint a, PlanePoint b, PlanePoint p) =>
        p.X >= Math.Min(a.X, b.X) && p.X <= Math.Max(a.X, b.X) && p.Y >= Math.Min(a.Y, b.Y) && p.Y <= Math.Max(a.Y, b.Y);
}
