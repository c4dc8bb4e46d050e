namespace OpenNvr.Inference.Annotation;

/// <summary>How a box is drawn: each kind of finding has its own colour, and a person counted from a face alone is dashed.</summary>
public enum BoxStyle
{
    /// <summary>A person's body box (the object detector's): green, solid.</summary>
    Body,

    /// <summary>A person counted from a face that lies in no body box (face fusion): magenta, dashed.</summary>
    FusedFromFace,

    /// <summary>Any other detected object: blue, solid.</summary>
    Object,

    /// <summary>A face, not identified: yellow, solid.</summary>
    Face,

    /// <summary>A face matched to a registered identity: cyan, solid.</summary>
    KnownFace,

    /// <summary>A face matched to a watchlist identity: red, solid and thicker.</summary>
    WatchlistHit,
}

/// <summary>One box to draw: corners in original-frame pixels (<c>x1, y1, x2, y2</c>), its label and style.</summary>
public readonly record struct AnnotationBox(int X1, int Y1, int X2, int Y2, string Label, BoxStyle Style)
{
    /// <summary>From the contract's <c>[left, top, width, height]</c>.</summary>
    public static AnnotationBox FromLtwh(int[] ltwh, string label, BoxStyle style) =>
        new(ltwh[0], ltwh[1], ltwh[0] + ltwh[2], ltwh[1] + ltwh[3], label, style);

    /// <summary>From the contract's <c>[x1, y1, x2, y2]</c>.</summary>
    public static AnnotationBox FromXyxy(int[] xyxy, string label, BoxStyle style) =>
        new(xyxy[0], xyxy[1], xyxy[2], xyxy[3], label, style);
}

/// <summary>
/// A task response that can carry <c>annotated_image_uri</c>: set by <see cref="FrameAnnotator"/> after the response
/// is built (the boxes drawn are the response's own), absent from the JSON unless annotation was requested.
/// </summary>
public interface IAnnotatedResponse
{
    string? AnnotatedImageUri { get; set; }
}
