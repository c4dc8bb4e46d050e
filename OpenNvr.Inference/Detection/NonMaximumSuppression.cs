namespace OpenNvr.Inference.Detection;

public static class NonMaximumSuppression
{
    /// <summary>
    /// Class-aware greedy NMS: highest score first; a box is dropped when it overlaps a kept box of the same class by
    /// more than <paramref name="iouThreshold"/>. Boxes of different classes never suppress each other.
    /// Returns the kept boxes, highest confidence first.
    /// </summary>
    public static List<DetectedObject> Apply(List<DetectedObject> candidates, float iouThreshold)
    {
        candidates.Sort(static (a, b) => b.Confidence.CompareTo(a.Confidence));
        var kept = new List<DetectedObject>(candidates.Count);
        foreach (var candidate in candidates)
        {
            var suppressed = false;
            foreach (var k in kept)
            {
                if (k.ClassId == candidate.ClassId && k.IntersectionOverUnion(candidate) > iouThreshold)
                {
                    suppressed = true;
                    break;
                }
            }

            if (!suppressed)
            {
                kept.Add(candidate);
            }
        }

        return kept;
    }
}
