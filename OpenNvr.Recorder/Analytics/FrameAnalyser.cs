using System.Diagnostics;
using System.Text.Json;
using OpenNvr.Recorder.Infrastructure;
using OpenNvr.Recorder.Telemetry;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// The journey of a queued frame on its camera's worker: Inference is called (<c>inference.call</c>; HttpClient
/// carries <c>traceparent</c>), a result that says something new becomes an event (<see cref="EventRules"/>), the
/// frame becomes its snapshot (<c>snapshot.save</c>) and the event goes to the durable outbox (<c>event.enqueue</c>)
/// with the frame span's trace id and <c>traceparent</c>; Core's <c>events.insert</c> joins that trace later. A people
/// policy's answer goes through its <see cref="PeopleStage"/> instead (events per person, the occupancy series).
/// </summary>
internal sealed partial class FrameAnalyser(InferenceClient inference, EventOutbox outbox, OccupancyOutbox occupancy, SnapshotStore snapshots,
    TimeProvider clock, ILogger logger)
{
    public async Task AnalyseAsync(QueuedFrame work, PipelineStatistics stats, CancellationToken ct)
    {
        var policy = work.State.Policy;
        Activity.Current = work.Root;
        string? failure = null;
        Exception? error = null;
        JsonElement result = default;
        var started = clock.GetTimestamp();
        try
        {
            stats.AddInferenceCall();
            using (var call = RecorderTelemetry.ActivitySource.StartActivity("inference.call", ActivityKind.Client))
            {
                call?.SetTag("opennvr.task", policy.Task);
                try
                {
                    result = await inference.InferAsync(policy.Task, work.FrameUri, ct);
                }
                catch (BrokenCircuitException ex)
                {
                    (failure, error) = ("circuit_open", ex);
                }
                catch (InferenceFailedException ex) when ((int)ex.Status is >= 400 and < 500)
                {
                    (failure, error) = ((int)ex.Status == 404 ? "frame_unreadable" : "inference_rejected", ex);
                }
                catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or InferenceFailedException or JsonException ||
                                           (ex is OperationCanceledException && !ct.IsCancellationRequested))
                {
                    (failure, error) = ("inference_failed", ex);
                }

                if (failure is not null)
                {
                    call?.SetStatus(ActivityStatusCode.Error, failure);
                }
            }

            RecorderTelemetry.InferenceCallDuration.Record(clock.GetElapsedTime(started).TotalMilliseconds,
                QueuedFrame.Tags(work.CameraId, policy.Task, ("outcome", failure ?? "ok")));
            if (failure is not null)
            {
                // No answer for this frame: a gated policy must look at the next frame again, moving or not.
                work.State.MotionReference = null;
                var failures = ++work.State.ConsecutiveFailures;
                if (failures == 1 || failures % 100 == 0)
                {
                    RecorderLog.AnalysisFailed(logger, work.CameraId, policy.Task, failure, error!.Message);
                }

                (work with { Root = null }).Drop(stats, failure);
                work.Root?.SetTag("opennvr.frame.outcome", failure);
                work.Root?.SetStatus(ActivityStatusCode.Error, failure);
                return;
            }

            if (work.State.ConsecutiveFailures > 0)
            {
                RecorderLog.AnalysisRecovered(logger, work.CameraId, policy.Task, work.State.ConsecutiveFailures);
                work.State.ConsecutiveFailures = 0;
            }

            stats.AddAnalysed();
            RecorderTelemetry.FramesAnalysed.Add(1, QueuedFrame.Tags(work.CameraId, policy.Task));
            if (work.State.People is { } people)
            {
                await TrackPeopleAsync(work, result, people, stats, ct);
                return;
            }

            var finding = work.State.Rules.Evaluate(result, work.Width, work.Height);
            work.Root?.SetTag("opennvr.frame.outcome", finding is null ? "no_event" : "event");
            if (finding is not null)
            {
                Emit(work, result, finding);
                stats.AddEvent();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            RecorderLog.PipelineError(logger, work.CameraId, ex.Message);
            work.Root?.SetStatus(ActivityStatusCode.Error, ex.Message);
        }
        finally
        {
            QueuedFrame.TryDeleteFile(work.FramePath);
            work.Root?.Stop();
            Activity.Current = null;
        }
    }

    private void Emit(QueuedFrame work, JsonElement result, Finding finding)
    {
        var policy = work.State.Policy;
        string snapshot;
        using (var save = RecorderTelemetry.ActivitySource.StartActivity("snapshot.save"))
        {
            snapshot = snapshots.Save(work.CameraId, work.FramePath, work.CapturedAt);
            save?.SetTag("opennvr.snapshot_path", snapshot);
        }

        using var enqueue = RecorderTelemetry.ActivitySource.StartActivity("event.enqueue");
        var root = work.Root;
        var executedAt = Number(result, "executed_at") is { } executed && executed > 946_684_800_000 ? (long)executed : clock.GetUtcNow().ToUnixTimeMilliseconds();
        var payload = result;
        if (result.GetRawText().Length > 48 * 1024)
        {
            // Core takes at most 64 KB of bbox and payload: a huge answer (hundreds of boxes) keeps its summary only.
            payload = JsonSerializer.SerializeToElement(new { task = policy.Task, truncated = true, count = finding.Count });
        }

        var e = new EventIngest(
            work.CameraId,
            policy.Task,
            executedAt,
            Label: finding.Label is { Length: > 128 } label ? label[..128] : finding.Label,
            Count: finding.Count,
            Confidence: finding.Confidence is { } c ? Math.Round(Math.Clamp(c, 0, 1), 4) : null,
            Bbox: JsonSerializer.SerializeToElement(finding.Boxes.Take(100).Select(b => b.Select(v => Math.Round(v, 1)).ToArray())),
            SnapshotPath: snapshot,
            CapturedAtUnixMs: work.CapturedAt.ToUnixTimeMilliseconds(),
            LatencyMs: Number(result, "latency_ms") is { } latency && latency >= 0 ? latency : null,
            TraceId: root?.TraceId.ToHexString(),
            Payload: payload,
            Traceparent: root?.Id);
        outbox.Append(e);
        RecorderTelemetry.EventsEmitted.Add(1, QueuedFrame.Tags(work.CameraId, policy.Task));
        RecorderLog.EventQueued(logger, work.CameraId, policy.Task, e.Count, e.Label);
    }

    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d) ? d : null;
}
