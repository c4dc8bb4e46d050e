using System.Net;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// Fetches a frame the Recorder published on another host: <c>GET {recorder}/frames/{camera}/{file}</c> through the
/// Refit client <see cref="IRecorderFramesApi"/>, with the base address <c>http://recorder</c> resolved by service
/// discovery (<c>services:recorder:http:0</c>) and <c>X-Internal-Key</c> added by its shared-key handler.
/// </summary>
public sealed class RecorderFrameClient(IRecorderFramesApi recorder)
{
    /// <summary>Whether a Recorder is known at all (the app host supplies its endpoint).</summary>
    public static bool IsConfigured(IConfiguration configuration) =>
        configuration.GetSection("services:recorder").GetChildren().Any();

    public async Task<byte[]> GetAsync(FrameReference frame, long maxBytes, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await recorder.GetFrameAsync(frame.Camera, frame.File, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException
                                       or Polly.Timeout.TimeoutRejectedException
                                       || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Recorder unreachable",
                $"The frame {frame} is not on this host and the Recorder could not be reached to fetch it: {ex.Message}");
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw FrameResolver.NotFound(frame, "neither under Frames:Root nor on the Recorder");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Recorder error",
                    $"The Recorder answered {(int)response.StatusCode} {response.ReasonPhrase} for the frame {frame}.");
            }

            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw FrameResolver.TooLarge(frame, response.Content.Headers.ContentLength.Value, maxBytes);
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw FrameResolver.TooLarge(frame, buffer.Length + read, maxBytes);
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }
}
