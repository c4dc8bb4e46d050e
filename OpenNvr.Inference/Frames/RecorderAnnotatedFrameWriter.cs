using System.Net;
using System.Net.Http.Headers;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// Stores an annotated image on the Recorder that published its frame, when that frame is not on this host's disk:
/// <c>PUT {recorder}/frames/{camera}/{file}</c> through the same Refit client and key as <see cref="RecorderFrameClient"/>
/// (<see cref="IRecorderFramesApi.PutAnnotatedFrameAsync"/>). The image then sits beside the frame on the Recorder, so
/// its URI resolves for Inference (local first, then the Recorder) and for Core (the Recorder's frames route) alike,
/// whatever host either runs on; the Recorder bounds the images kept per camera folder.
/// <para>Which Recorder: the one the frame was read from, found the same way (<see cref="RecorderFrameClient"/>): with
/// Core configured, the holder of the camera's lease (<see cref="CameraHolders"/>, just remembered by the frame's
/// read), else <c>http://recorder</c> by service discovery (one Recorder).</para>
/// </summary>
public sealed class RecorderAnnotatedFrameWriter(IRecorderFramesApi recorder, IHttpClientFactory clients, CameraHolders holders, IConfiguration configuration)
{
    public async Task PutAsync(FrameReference image, byte[] jpeg, CancellationToken cancellationToken)
    {
        var target = recorder;
        if (CameraHolders.IsConfigured(configuration) && FrameNames.TryParseCameraId(image.Camera, out var cameraId))
        {
            var (baseUrl, _) = await holders.FindAsync(cameraId, image, cancellationToken)
                ?? throw new InferenceProblemException(StatusCodes.Status404NotFound, "Frame not found",
                    $"No Recorder holds camera {cameraId} now: the annotated image {image} was not stored.");
            target = clients.ClientAt<IRecorderFramesApi>(RecorderFrameClient.ByLeaseClientName, baseUrl);
        }

        using var content = new ByteArrayContent(jpeg);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.Jpeg);
        HttpResponseMessage response;
        try
        {
            response = await target.PutAnnotatedFrameAsync(image.Camera, image.File, content, cancellationToken);
        }
        catch (Exception ex) when (RecorderFrameClient.IsUnreachable(ex, cancellationToken))
        {
            throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Recorder unreachable",
                $"The annotated image {image} could not be stored: the Recorder could not be reached: {ex.Message}");
        }

        using (response)
        {
            // 409: the name exists already. Names carry 128 random bits, so that is this very image, stored by an
            // attempt whose answer was lost before the resilience handler retried it.
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict)
            {
                return;
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // The camera's folder is gone from the Recorder (the camera moved or was removed): as for a frame that is gone.
                throw new InferenceProblemException(StatusCodes.Status404NotFound, "Frame not found",
                    $"The Recorder has no folder '{image.Camera}' any more (the camera moved or was removed): the annotated image {image} was not stored.");
            }

            throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Recorder error",
                $"The Recorder answered {(int)response.StatusCode} {response.ReasonPhrase} when storing the annotated image {image}.");
        }
    }
}
