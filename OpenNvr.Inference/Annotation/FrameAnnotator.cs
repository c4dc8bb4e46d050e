using System.Text.Json;
using OpenCvSharp;
using OpenNvr.Inference.Frames;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Annotation;

/// <summary>
/// <c>input.options.annotate: true</c>: the frame with the response's boxes and labels drawn, stored beside the frame
/// (<see cref="IFrameSource.WriteAnnotatedAsync"/>: the local frames folder, or the Recorder that published the frame)
/// and returned as <c>annotated_image_uri</c>, an <c>opennvr://frames/camera_&lt;id&gt;/annotated_….jpg</c> URI that
/// resolves like the frame itself. Without the option nothing is drawn or written and the property is absent.
/// An <c>annotate</c> stage (span + duration sample) covers drawing, encoding and writing; each image written is
/// counted (<see cref="InferenceTelemetry.AnnotatedImagesInstrument"/>).
/// </summary>
public sealed class FrameAnnotator(IFrameSource frames, InferenceTelemetry telemetry, TimeProvider clock)
{
    public const string Option = "annotate";

    /// <summary>The JPEG quality of annotated images: labels stay crisp, a 768x576 frame is about 100 KB.</summary>
    public const int JpegQuality = 90;

    /// <summary>
    /// Whether <c>input.options.annotate</c> is true; a value that is not a boolean (or null) is a 400 problem, and so
    /// is an <c>input.options</c> that is not an object. Called before the frame is read, so bad input costs nothing.
    /// </summary>
    public static bool IsRequested(InferenceRequest request)
    {
        if (request.GetInputProperty("options") is not { } options || options.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        if (options.ValueKind != JsonValueKind.Object)
        {
            throw InferenceProblemException.BadRequest($"input.options must be an object, not {InferenceRequest.Describe(options)}.");
        }

        return !options.TryGetProperty(Option, out var value) ? false : value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw InferenceProblemException.BadRequest($"input.options.annotate must be a boolean, not {InferenceRequest.Describe(value)}."),
        };
    }

    /// <summary>
    /// When annotation is requested: draws <paramref name="boxes"/> on <paramref name="frame"/> (in place: the caller
    /// is done with its pixels), stores the JPEG and sets <see cref="IAnnotatedResponse.AnnotatedImageUri"/>.
    /// </summary>
    public async Task<T> AnnotateAsync<T>(InferenceRequest request, DecodedFrame frame, T response, IReadOnlyList<AnnotationBox> boxes,
        CancellationToken cancellationToken) where T : IAnnotatedResponse
    {
        if (!IsRequested(request))
        {
            return response;
        }

        using var stage = telemetry.Stage("annotate");
        BoxPainter.Draw(frame.Image, boxes);
        Cv2.ImEncode(".jpg", frame.Image, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, JpegQuality));
        var image = await frames.WriteAnnotatedAsync(frame.Reference, FrameNames.AnnotatedFile(clock.GetUtcNow(), Guid.NewGuid()), jpeg, cancellationToken);
        telemetry.CountAnnotated(request.Task);
        response.AnnotatedImageUri = image.ToString();
        return response;
    }
}
