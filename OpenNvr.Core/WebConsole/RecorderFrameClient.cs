using System.Diagnostics;
using System.Net;
using OpenNvr.Contracts.Frames;

namespace OpenNvr.Core.WebConsole;

/// <summary>What a Recorder answered for a camera's latest frame.</summary>
public abstract record FrameFetch
{
    public sealed record Frame(byte[] Jpeg, DateTimeOffset? LastModified) : FrameFetch;

    /// <summary>The Recorder holds the camera but has not published a frame yet.</summary>
    public sealed record NoFrame : FrameFetch;

    public sealed record Unreachable(string Reason) : FrameFetch;
}

/// <summary>
/// Reads <c>{base_url}/frames/{camera}/latest.jpg</c> (or another published file of the camera, e.g. an annotated
/// image that Inference stored beside its frames, <c>input.options.annotate</c>) through the Refit client <see cref="IRecorderFramesApi"/>, at the
/// base URL of the Recorder replica that holds the camera's lease (from its own heartbeat), with the service credential
/// added by the client's shared-key handler. No stream URL ever reaches the browser: the console sees only Core's
/// <c>/api/v1/cameras/{id}/frame.jpg</c>.
/// </summary>
public sealed class RecorderFrameClient(IHttpClientFactory clients)
{
    public const string HttpClientName = "recorder-frames";
    public const int MaxFrameBytes = 16 * 1024 * 1024;

    public Task<FrameFetch> GetLatestAsync(string baseUrl, int cameraId, CancellationToken ct) =>
        GetFileAsync(baseUrl, cameraId, FrameNames.LatestFile, ct);

    /// <summary><c>{base_url}/frames/camera_{id}/{file}</c>: <paramref name="file"/> is a valid frame file name (<see cref="FrameNames.IsFrameFile"/>).</summary>
    public async Task<FrameFetch> GetFileAsync(string baseUrl, int cameraId, string file, CancellationToken ct)
    {
        if (!Uri.TryCreate(baseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
        {
            return new FrameFetch.Unreachable($"the recorder's base_url '{baseUrl}' is not an http(s) URL");
        }

        var started = Stopwatch.GetTimestamp();
        var recorder = clients.ClientAt<IRecorderFramesApi>(HttpClientName, root);
        try
        {
            using var response = await recorder.GetFrameAsync(FrameNames.CameraFolder(cameraId), file, ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new FrameFetch.NoFrame();
            }

            if (!response.IsSuccessStatusCode)
            {
                return new FrameFetch.Unreachable($"it answered {(int)response.StatusCode}");
            }

            if (response.Content.Headers.ContentLength > MaxFrameBytes)
            {
                return new FrameFetch.Unreachable($"its frame is larger than {MaxFrameBytes} bytes");
            }

            // Without a Content-Length the body is read up to the cap only (more is an HttpRequestException).
            await response.Content.LoadIntoBufferAsync(MaxFrameBytes, ct);
            var bytes = await response.Content.ReadAsByteArrayAsync(ct);
            return bytes.Length is 0 or > MaxFrameBytes
                ? new FrameFetch.Unreachable($"its frame has {bytes.Length} bytes")
                : new FrameFetch.Frame(bytes, response.Content.Headers.LastModified);
        }
        catch (HttpRequestException ex)
        {
            return new FrameFetch.Unreachable(ex.HttpRequestError.ToString());
        }
        catch (Exception ex) when (ex is TaskCanceledException or TimeoutException or Polly.Timeout.TimeoutRejectedException && !ct.IsCancellationRequested)
        {
            return new FrameFetch.Unreachable("timed out");
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException)
        {
            return new FrameFetch.Unreachable("too many recent failures (circuit open)");
        }
        finally
        {
            WebConsoleTelemetry.FrameFetchDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
