using System.Text.Json;
using OpenCvSharp;
using OpenNvr.Inference.Faces;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Detection;

/// <summary>
/// Face fusion as the person tasks use it: whether it is on for a request (<c>input.options.fuse_faces</c>, else
/// <c>Inference:Detector:FuseFaces</c>, and only with a face detector), and the fused people of a frame
/// (<see cref="FaceBodyFusion"/>; the face detector's run, ~3 ms here, is the added cost, a <c>face.detect</c> stage).
/// </summary>
public static class PersonFusion
{
    public static bool Enabled(InferenceRequest request, DetectorOptions options, FaceAnalyzer faces)
    {
        var requested = request.GetInputProperty("options") is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("fuse_faces", out var v)
            ? v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Null => (bool?)null,
                _ => throw InferenceProblemException.BadRequest($"input.options.fuse_faces must be a boolean, not {InferenceRequest.Describe(v)}."),
            }
            : null;
        return (requested ?? options.FuseFaces) && faces.CanDetect;
    }

    public static IReadOnlyList<FusedPerson> Fuse(IReadOnlyList<DetectedObject> bodies, Mat image, FaceAnalyzer faces) =>
        FaceBodyFusion.Fuse(bodies, faces.Detect(image));

    public static string SourceName(PersonSource source) => source == PersonSource.Face ? "face" : "body";
}
