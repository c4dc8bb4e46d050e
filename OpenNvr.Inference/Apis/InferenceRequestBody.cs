using System.Text.Json.Nodes;

namespace OpenNvr.Inference.Apis;

/// <summary>
/// <c>POST /infer</c>'s body as the API reference and generated clients describe it. The endpoint reads the body by
/// hand (<see cref="InferenceRequestReader"/>), so that a malformed field is a problem naming it, and each task reads
/// what it needs; these records only document the shape.
/// </summary>
/// <param name="Task">A task name of <c>GET /capabilities</c>.</param>
/// <param name="Input">Local tasks: the frame(s) and options.</param>
/// <param name="InputData">Cloud tasks (Hugging Face): model, image and parameters.</param>
public sealed record InferenceRequestBody(string Task, InferInput? Input = null, CloudInputData? InputData = null);

/// <summary>A frame the Recorder published: <c>opennvr://frames/&lt;camera&gt;/&lt;file&gt;</c>.</summary>
public sealed record FrameUri(string Uri);

/// <param name="Frame">The frame of every single-frame task.</param>
/// <param name="Frame1">First frame of <c>face_verify</c>.</param>
/// <param name="Frame2">Second frame of <c>face_verify</c>.</param>
/// <param name="Threshold">Similarity threshold in (0, 1] of <c>face_recognition</c>.</param>
/// <param name="Options">Task options, e.g. <c>{"annotate": true}</c>.</param>
/// <param name="Region">
/// Face tasks of one frame (<c>face_detection</c>, <c>face_embedding</c>, <c>face_recognition</c>,
/// <c>watchlist_check</c>): <c>[x1, y1, x2, y2]</c> in frame pixels; only faces in that part of the frame are
/// analysed (the boxes answered stay in frame pixels). The Recorder sends the head area of one tracked person.
/// </param>
public sealed record InferInput(FrameUri? Frame = null, FrameUri? Frame1 = null, FrameUri? Frame2 = null, double? Threshold = null, InferOptions? Options = null,
    double[]? Region = null);

/// <param name="Annotate">
/// true: the detection, counting and face tasks (person_detection, person_counting, object_detection, face_detection,
/// face_recognition, watchlist_check) draw their boxes and labels on the frame, store the image beside it and answer
/// with <c>annotated_image_uri</c>; other tasks ignore it. A value that is not a boolean is a 400 problem.
/// </param>
/// <param name="FuseFaces">person_detection and person_counting: count people from faces in no body box too (default Inference:Detector:FuseFaces).</param>
public sealed record InferOptions(bool? Annotate = null, bool? FuseFaces = null);

/// <param name="ModelName">Hugging Face model id (default per task).</param>
/// <param name="Inputs">The image, as an <c>opennvr://</c> frame URI.</param>
/// <param name="Parameters">Passed to Hugging Face unchanged.</param>
public sealed record CloudInputData(CloudInputs Inputs, string? ModelName = null, JsonObject? Parameters = null);

public sealed record CloudInputs(string Image);
