using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Contracts.Live;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Telemetry;

namespace OpenNvr.Core.Live;

/// <summary>The Recorder replica holding a camera's lease now (its heartbeat's base URL), or null.</summary>
public sealed record LeaseHolder(string RecorderId, Uri BaseUrl);

/// <summary>What a Recorder answered for a live HLS request.</summary>
public abstract record LiveFetch
{
    public sealed record Ok(HttpResponseMessage Response) : LiveFetch;

    public sealed record Failed(int Status, string Detail) : LiveFetch;
}

/// <summary>
/// Core's side of live view: finds the Recorder that holds the camera and relays its live routes with the service
/// key, so that no Recorder address or stream URL reaches a viewer. HLS requests are plain HTTP (a blocking playlist
/// reload may take up to three target durations); the console's WebSocket is relayed message by message, and because
/// the relay only reads from the Recorder as fast as it can write to the viewer, a slow viewer backs up into its own
/// bounded queue on the Recorder and is dropped there.
/// </summary>
public sealed class RecorderLiveRelay(IHttpClientFactory clients, IConfiguration configuration, TimeProvider clock)
{
    public const string HttpClientName = "recorder-live";

    private static readonly Meter Meter = new(CoreTelemetry.Name);
    private static readonly UpDownCounter<long> Viewers = Meter.CreateUpDownCounter<long>(
        "opennvr.core.live.viewers", "{viewer}", "Console live viewers relayed by this Core now");
    private static readonly Counter<long> RelayedBytes = Meter.CreateCounter<long>(
        "opennvr.core.live.bytes", "By", "Live bytes relayed from Recorders to viewers (WebSocket and HLS)");

    public static async Task<LeaseHolder?> HolderAsync(NvrDbContext db, int cameraId, DateTimeOffset now, CancellationToken ct)
    {
        var holder = await (
                from lease in db.RecorderLeases.AsNoTracking()
                join recorder in db.Recorders.AsNoTracking() on lease.RecorderId equals recorder.Id
                where lease.CameraId == cameraId && lease.ExpiresAt > now
                select new { recorder.Id, recorder.BaseUrl })
            .SingleOrDefaultAsync(ct);
        return holder is not null && Uri.TryCreate(holder.BaseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? new LeaseHolder(holder.Id, url)
            : null;
    }

    public Task<LeaseHolder?> HolderAsync(NvrDbContext db, int cameraId, CancellationToken ct) => HolderAsync(db, cameraId, clock.GetUtcNow(), ct);

    /// <summary>GETs <c>{base}/live/{camera}/{stream}/{file}</c> (with the LL-HLS reload hints); the caller disposes the response.</summary>
    public Task<LiveFetch> GetAsync(LeaseHolder holder, int cameraId, string stream, string file, long? msn, int? part, CancellationToken ct) =>
        SendAsync(holder, cameraId, recorder => recorder.GetMediaAsync(cameraId, stream, file, msn, part, ct), ct);

    /// <summary>GETs <c>{base}/live/{camera}/status</c> (which streams are live, codec, size, viewers).</summary>
    public Task<LiveFetch> StatusAsync(LeaseHolder holder, int cameraId, CancellationToken ct) =>
        SendAsync(holder, cameraId, recorder => recorder.GetStatusAsync(cameraId, ct), ct);

    private async Task<LiveFetch> SendAsync(LeaseHolder holder, int cameraId, Func<IRecorderLiveApi, Task<HttpResponseMessage>> call, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await call(clients.ClientAt<IRecorderLiveApi>(HttpClientName, holder.BaseUrl));
        }
        catch (HttpRequestException ex)
        {
            return new LiveFetch.Failed(StatusCodes.Status502BadGateway, $"Recorder {holder.RecorderId}, which holds camera {cameraId}, did not answer ({ex.HttpRequestError}).");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new LiveFetch.Failed(StatusCodes.Status504GatewayTimeout, $"Recorder {holder.RecorderId}, which holds camera {cameraId}, did not answer in time.");
        }

        if (response.IsSuccessStatusCode)
        {
            if (response.Content.Headers.ContentLength is { } length)
            {
                RelayedBytes.Add(length, new KeyValuePair<string, object?>("transport", "hls"));
            }

            return new LiveFetch.Ok(response);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            return status switch
            {
                404 => new LiveFetch.Failed(404, $"Camera {cameraId} is not streaming now, or that part of it is no longer live."),
                400 => new LiveFetch.Failed(400, await ProblemDetailAsync(response, ct) ?? "The Recorder refused the request."),
                503 => new LiveFetch.Failed(503, await ProblemDetailAsync(response, ct) ?? "The live stream is not ready; try again shortly."),
                _ => new LiveFetch.Failed(502, $"Recorder {holder.RecorderId}, which holds camera {cameraId}, answered {status}."),
            };
        }
    }

    /// <summary>
    /// Connects to the Recorder's live WebSocket. Null and a problem (404 not streaming, 503 too many viewers, 502
    /// unreachable) when it cannot.
    /// </summary>
    public async Task<(ClientWebSocket? Socket, int Status, string Detail)> ConnectAsync(LeaseHolder holder, int cameraId, string stream, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
        AddKey((name, value) =>
        {
            socket.Options.SetRequestHeader(name, value);
            return true;
        });
        var builder = new UriBuilder(new Uri(holder.BaseUrl, string.Create(CultureInfo.InvariantCulture, $"live/{cameraId}/{stream}/ws")))
        {
            Scheme = holder.BaseUrl.Scheme == "https" ? "wss" : "ws",
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await socket.ConnectAsync(builder.Uri, timeout.Token);
            return (socket, 0, "");
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            if (ct.IsCancellationRequested)
            {
                throw;
            }

            return status switch
            {
                HttpStatusCode.NotFound => (null, 404, $"Camera {cameraId} is not streaming now."),
                HttpStatusCode.ServiceUnavailable => (null, 503, $"Camera {cameraId} has as many live viewers as its Recorder serves."),
                _ => (null, 502, $"Recorder {holder.RecorderId}, which holds camera {cameraId}, did not accept the live connection."),
            };
        }
    }

    /// <summary>Relays messages both ways until either side closes; the viewer's close reaches the Recorder and vice versa.</summary>
    public static async Task PumpAsync(WebSocket recorder, WebSocket viewer, int cameraId, CancellationToken aborted)
    {
        using var activity = CoreTelemetry.ActivitySource.StartActivity("live.relay");
        activity?.SetTag("camera.id", cameraId);
        Viewers.Add(1);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        long bytes = 0;
        try
        {
            var down = CopyAsync(recorder, viewer, both, count => bytes += count);
            var up = CopyAsync(viewer, recorder, both, _ => { });
            await Task.WhenAny(down, up);
            await both.CancelAsync();
            await Task.WhenAll(down, up);
        }
        finally
        {
            Viewers.Add(-1);
            RelayedBytes.Add(bytes, new KeyValuePair<string, object?>("transport", "websocket"));
            activity?.SetTag("live.bytes", bytes);
        }
    }

    private static async Task CopyAsync(WebSocket from, WebSocket to, CancellationTokenSource both, Action<int> counted)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var result = await from.ReceiveAsync(buffer.AsMemory(), both.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (to.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                        await to.CloseOutputAsync(from.CloseStatus ?? WebSocketCloseStatus.NormalClosure, from.CloseStatusDescription, grace.Token);
                    }

                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, both.Token);
                counted(result.Count);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // One side went away: the other is closed by the caller's cancellation.
        }
    }

    private void AddKey(Func<string, string, bool> add)
    {
        if (configuration[ServiceKeys.RecorderCore] is { Length: > 0 } key)
        {
            add(SharedKeyEndpointExtensions.InternalKeyHeader, key);
        }
    }

    private static async Task<string?> ProblemDetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(ct);
            return problem.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or HttpRequestException or NotSupportedException)
        {
            return null;
        }
    }
}
