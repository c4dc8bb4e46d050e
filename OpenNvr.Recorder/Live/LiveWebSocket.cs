using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text.Json;

namespace OpenNvr.Recorder.Live;

/// <summary>
/// Serves one viewer over a WebSocket (fMP4 for Media Source Extensions). Messages:
/// <list type="bullet">
/// <item>text <c>{"type":"init","epoch","stream","codec","mime","width","height"}</c> before each init segment (first,
/// and again when the camera's ffmpeg restarted: the player must start a new source buffer);</item>
/// <item>binary: a <see cref="HeaderLength"/>-byte header, then the init segment (kind 1) or one fragment = one frame
/// (kind 2). Header: byte 0 kind, byte 1 flags (bit 0: starts with a keyframe), bytes 2-3 zero, bytes 4-7 epoch
/// (uint32), bytes 8-15 capture time of the fragment's first frame in Unix ms (float64), bytes 16-23 its decode
/// time in the run's media seconds (float64), all big-endian. The player keeps (media time → capture time) to show
/// now − capture time of the frame on screen.</item>
/// </list>
/// The viewer's messages come from its bounded queue; when the viewer is dropped for being slow, a send that hangs on
/// a client that stopped reading is aborted, and the socket is closed with 1008 "too slow".
/// </summary>
public static class LiveWebSocket
{
    public const int HeaderLength = 24;
    public const byte KindInit = 1;
    public const byte KindFragment = 2;
    public const byte FlagKeyframe = 1;

    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    public static async Task ServeAsync(WebSocket socket, LiveSource source, LiveViewer viewer, TimeSpan idleClose, CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, viewer.Dropped);
        var receiving = ReceiveUntilClosedAsync(socket, linked);
        var header = new byte[HeaderLength];
        var reason = "closed";
        try
        {
            while (true)
            {
                LiveMessage? message;
                using (var idle = CancellationTokenSource.CreateLinkedTokenSource(linked.Token))
                {
                    idle.CancelAfter(idleClose);
                    try
                    {
                        message = await viewer.NextAsync(idle.Token);
                    }
                    catch (OperationCanceledException) when (!linked.IsCancellationRequested)
                    {
                        reason = "idle";
                        await CloseAsync(socket, WebSocketCloseStatus.EndpointUnavailable, "the camera is not streaming here");
                        return;
                    }
                }

                if (message is null)
                {
                    break;
                }

                switch (message)
                {
                    case LiveInitMessage init:
                        var json = JsonSerializer.SerializeToUtf8Bytes(new
                        {
                            type = "init",
                            epoch = init.Epoch,
                            stream = init.Stream == LiveStream.Main ? "main" : "sub",
                            codec = init.Init.Codec,
                            mime = $"video/mp4; codecs=\"{init.Init.Codec}\"",
                            width = init.Init.Width,
                            height = init.Init.Height,
                        });
                        await socket.SendAsync(json, WebSocketMessageType.Text, true, linked.Token);
                        WriteHeader(header, KindInit, 0, init.Epoch, 0, 0);
                        await socket.SendAsync(header, WebSocketMessageType.Binary, false, linked.Token);
                        await socket.SendAsync(init.Init.Bytes, WebSocketMessageType.Binary, true, linked.Token);
                        break;
                    case LiveFragmentMessage { Fragment: var fragment }:
                        WriteHeader(header, KindFragment, fragment.IsKeyframe ? FlagKeyframe : (byte)0, fragment.Epoch, fragment.CaptureUnixMs, fragment.MediaStartSeconds);
                        await socket.SendAsync(header, WebSocketMessageType.Binary, false, linked.Token);
                        await socket.SendAsync(fragment.Bytes, WebSocketMessageType.Binary, true, linked.Token);
                        break;
                }

                LiveTelemetry.BytesSent.Add(message.Bytes + HeaderLength, LiveTelemetry.Tags(source.CameraId, source.Stream));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The client went away, the request was aborted, or the viewer was dropped mid-send.
        }
        finally
        {
            if (viewer.DropReason == "slow")
            {
                reason = "slow";
                await CloseAsync(socket, WebSocketCloseStatus.PolicyViolation, "too slow: dropped");
            }
            else if (socket.State == WebSocketState.Open && !aborted.IsCancellationRequested)
            {
                await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, "live view ended");
            }

            source.Leave(viewer, reason);
            await linked.CancelAsync();
            await receiving;
        }
    }

    public static void WriteHeader(Span<byte> header, byte kind, byte flags, int epoch, double captureUnixMs, double mediaStartSeconds)
    {
        header.Clear();
        header[0] = kind;
        header[1] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)epoch);
        BinaryPrimitives.WriteDoubleBigEndian(header[8..], captureUnixMs);
        BinaryPrimitives.WriteDoubleBigEndian(header[16..], mediaStartSeconds);
    }

    /// <summary>Reads (and ignores) what the client sends, so that its close is noticed; cancels the viewer when it leaves.</summary>
    private static async Task ReceiveUntilClosedAsync(WebSocket socket, CancellationTokenSource viewing)
    {
        var buffer = new byte[1024];
        try
        {
            while (!viewing.IsCancellationRequested)
            {
                var result = await socket.ReceiveAsync(buffer, viewing.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
        }

        try
        {
            await viewing.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string description)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            socket.Abort();
            return;
        }

        using var grace = new CancellationTokenSource(CloseGrace);
        try
        {
            await socket.CloseOutputAsync(status, description, grace.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            socket.Abort();
        }
    }
}
