using System.Collections.Concurrent;
using System.Net;
using OpenNvr.Contracts.Internal;
using OpenNvr.Inference.Tasks;
using Refit;

namespace OpenNvr.Inference.Frames;

/// <summary>
/// Which Recorder holds a camera (and so publishes its frames), asked of Core's lease table
/// (<c>GET /api/v1/internal/cameras/{id}/holder</c>) and remembered for <see cref="Fresh"/>: with several Recorder
/// replicas only the lease holder has a camera's frames, and service discovery's round robin does not know which one
/// that is. A lease moves (hand-off, a dead Recorder) at most once in tens of seconds, and a frame request that the
/// remembered holder answers with 404 forgets it and asks Core again (<see cref="RecorderFrameClient"/>).
/// </summary>
public sealed class CameraHolders(IServiceProvider services, TimeProvider clock)
{
    public static readonly TimeSpan Fresh = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<int, (Uri BaseUrl, DateTimeOffset At)> _known = new();

    /// <summary>Whether Core is known at all (the app host supplies its endpoint): without it frames go to <c>http://recorder</c>.</summary>
    public static bool IsConfigured(IConfiguration configuration) =>
        configuration.GetSection("services:core").GetChildren().Any();

    /// <summary>The holder's base address (remembered, or asked of Core), or null when no Recorder holds the camera.</summary>
    public async Task<(Uri BaseUrl, bool Remembered)?> FindAsync(int cameraId, FrameReference frame, CancellationToken ct)
    {
        if (_known.TryGetValue(cameraId, out var known) && clock.GetUtcNow() - known.At < Fresh)
        {
            return (known.BaseUrl, true);
        }

        CameraHolderResponse holder;
        try
        {
            holder = await services.GetRequiredService<ICoreInternalApi>().GetCameraHolderAsync(cameraId, ct);
        }
        catch (ApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            _known.TryRemove(cameraId, out _);
            return null;
        }
        catch (Exception ex) when (ex is ApiException or HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
                                       or Polly.CircuitBreaker.BrokenCircuitException
                                       || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Core unreachable",
                $"The frame {frame} is not on this host, and Core could not say which Recorder holds camera {cameraId}: {ex.Message}");
        }

        if (!Uri.TryCreate(holder.BaseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new InferenceProblemException(StatusCodes.Status502BadGateway, "Recorder address invalid",
                $"Recorder {holder.RecorderId}, which holds camera {cameraId}, announced '{holder.BaseUrl}', which is not an http(s) URL.");
        }

        _known[cameraId] = (baseUrl, clock.GetUtcNow());
        return (baseUrl, false);
    }

    /// <summary>Forgets the remembered holder (it no longer had the camera's frame: the lease moved).</summary>
    public void Forget(int cameraId) => _known.TryRemove(cameraId, out _);
}
