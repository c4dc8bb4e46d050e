using System.Net;
using OpenNvr.Inference.Tasks;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// Fetches a frame the Recorder published on another host: <c>GET {recorder}/frames/{camera}/{file}</c> through the
/// Refit client <see cref="IRecorderFramesApi"/> with <c>X-Internal-Key</c> added by its shared-key handler.
/// <para>Which Recorder: when Core is configured, the one that holds the camera's lease, at the address it announced to
/// Core (<see cref="CameraHolders"/>), so that with several Recorder replicas no frame request goes to a replica that
/// does not record the camera (round robin would send half of them there: each a 404, a frame-not-found error). A 404
/// from a remembered holder means the lease moved: the holder is asked of Core again and the frame fetched once more.
/// Without Core (Inference beside a single Recorder), <c>http://recorder</c> by service discovery.</para>
/// </summary>
public sealed class RecorderFrameClient(IRecorderFramesApi recorder, IHttpClientFactory clients, CameraHolders holders, IConfiguration configuration)
{
    /// <summary>The named client of frame requests to one Recorder by address (key, short timeouts, a circuit per Recorder).</summary>
    public const string ByLeaseClientName = "recorder-frames-by-lease";

    /// <summary>Whether a Recorder is known at all (the app host supplies its endpoint, or Core tells which one).</summary>
    public static bool IsConfigured(IConfiguration configuration) =>
        configuration.GetSection("services:recorder").GetChildren().Any() || CameraHolders.IsConfigured(configuration);

    public async Task<byte[]> GetAsync(FrameReference frame, long maxBytes, CancellationToken cancellationToken)
    {
        if (!CameraHolders.IsConfigured(configuration) || !FrameNames.TryParseCameraId(frame.Camera, out var cameraId))
        {
            return await FetchAsync(recorder, frame, maxBytes, "the Recorder", cancellationToken)
                   ?? throw FrameResolver.NotFound(frame, "neither under Frames:Root nor on the Recorder");
        }

        for (var attempt = 0; ; attempt++)
        {
            if (await holders.FindAsync(cameraId, frame, cancellationToken) is not { } found)
            {
                throw FrameResolver.NotFound(frame, $"nowhere: no Recorder holds camera {cameraId} now");
            }

            var (baseUrl, remembered) = found;

            var holder = clients.ClientAt<IRecorderFramesApi>(ByLeaseClientName, baseUrl);
            if (await FetchAsync(holder, frame, maxBytes, $"the Recorder at {baseUrl}, which holds camera {cameraId},", cancellationToken) is { } bytes)
            {
                return bytes;
            }

            holders.Forget(cameraId);
            if (!remembered || attempt > 0)
            {
                throw FrameResolver.NotFound(frame, $"neither under Frames:Root nor on the Recorder that holds camera {cameraId} ({baseUrl})");
            }
        }
    }

    /// <summary>
    /// A Recorder that could not be reached (connection, timeout, open circuit), as opposed to one that answered; the
    /// caller's own cancellation is not one.
    /// </summary>
    internal static bool IsUnreachable(Exception ex, CancellationToken cancellationToken) =>
        ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException
        || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>The frame's bytes, or null when that Recorder has no such frame (404).</summary>
    private static async Task<byte[]?> FetchAsync(IRecorderFramesApi source, FrameReference frame, long maxBytes, string which, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await source.GetFrameAsync(frame.Camera, frame.File, cancellationToken);
        }
        catch (Exception ex) when (IsUnreachable(ex, cancellationToken))
        {
            throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Recorder unreachable",
                $"The frame {frame} is not on this host and {which} could not be reached to fetch it: {ex.Message}");
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Recorder error",
                    $"{char.ToUpperInvariant(which[0])}{which[1..]} answered {(int)response.StatusCode} {response.ReasonPhrase} for the frame {frame}.");
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
