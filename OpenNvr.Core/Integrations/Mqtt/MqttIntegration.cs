using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenNvr.Core.Apis;
using OpenNvr.Core.Infrastructure;

namespace OpenNvr.Core.Integrations.Mqtt;

/// <summary>
/// What Core's state means in MQTT terms (<see cref="MqttTopics"/>): events on <c>opennvr/events</c>, retained
/// counts and recording states per camera, and a Home Assistant device per camera, removed with the camera. Every
/// method returns at once (the publisher queues). At start it announces every camera of nvrdb with its recording
/// state, so that a broker (or Home Assistant) that comes later still learns about them.
/// </summary>
public sealed class MqttIntegration(
    MqttPublisher publisher,
    HomeAssistantDiscovery discovery,
    IServiceScopeFactory scopes) : IHostedService
{
    private readonly ConcurrentDictionary<int, IReadOnlyCollection<string>> _cameraLines = new();
    private readonly ConcurrentDictionary<int, string> _cameraNames = new();
    private readonly ConcurrentDictionary<(int CameraId, string Line), LineTotals> _lineTotals = new();

    public bool Enabled => publisher.Enabled;

    private MqttTopics Topics => publisher.Topics;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!publisher.Enabled)
        {
            return;
        }

        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
        var cameras = await db.Cameras.AsNoTracking().Select(c => new { c.Id, c.Name, c.RecordingState }).ToListAsync(cancellationToken);
        foreach (var camera in cameras)
        {
            CameraSaved(camera.Id, camera.Name, camera.RecordingState);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// A stored event (<paramref name="json"/>: as the REST API shows it): published on <c>opennvr/events</c>; its count,
    /// when it has one (<c>occupancy.changed</c>, <c>person_counting</c>), becomes the label's retained count; a
    /// <c>line.crossed</c> adds one to the line's retained <c>in</c> or <c>out</c> total.
    /// </summary>
    public void EventStored(EventDto stored, JsonElement json)
    {
        if (!publisher.Enabled)
        {
            return;
        }

        publisher.Enqueue(Topics.Events, json.GetRawText());
        if (stored.Count is { } count && !string.IsNullOrEmpty(stored.Label))
        {
            SetCount(stored.CameraId, stored.Label, count);
        }

        if (StoredEventFields.LineCrossingOf(json) is { } crossing)
        {
            LineCrossed(crossing);
        }
    }

    /// <summary>
    /// Totals since Core started (Home Assistant's <c>total_increasing</c> sensors take a restart's reset as a new
    /// cycle). A line Core has not announced yet gets its Home Assistant entities with its first crossing.
    /// </summary>
    private void LineCrossed(LineCrossing crossing)
    {
        var lines = _cameraLines.GetValueOrDefault(crossing.CameraId) ?? [];
        if (!lines.Contains(crossing.Line) && _cameraNames.TryGetValue(crossing.CameraId, out var name))
        {
            CameraSaved(crossing.CameraId, name, recordingState: null, [.. lines, crossing.Line]);
        }

        var totals = _lineTotals.GetOrAdd((crossing.CameraId, crossing.Line), _ => new LineTotals());
        // Under the line's lock, so that concurrent ingests never leave an older total as the retained one.
        lock (totals)
        {
            if (crossing.In)
            {
                totals.In++;
            }
            else
            {
                totals.Out++;
            }

            SetLineCounts(crossing.CameraId, crossing.Line, totals.In, totals.Out);
        }
    }

    /// <summary>Sets the retained count of a label on a camera (for <c>person</c>: Home Assistant's occupancy sensors).</summary>
    public void SetCount(int cameraId, string label, int count) =>
        publisher.SetRetained(Topics.Count(cameraId, label), count.ToString(CultureInfo.InvariantCulture));

    /// <summary>A camera was created or changed: its Home Assistant device, entities and recording state.</summary>
    public void CameraSaved(int cameraId, string name, string? recordingState, IReadOnlyCollection<string>? lineNames = null)
    {
        if (!publisher.Enabled)
        {
            return;
        }

        _cameraNames[cameraId] = name;
        var lines = lineNames ?? _cameraLines.GetValueOrDefault(cameraId) ?? [];
        if (_cameraLines.TryGetValue(cameraId, out var previous))
        {
            // Lines that are gone lose their entities.
            var removed = previous.Except(lines).ToList();
            foreach (var topic in discovery.ConfigTopics(cameraId, removed).Where(t => t.Contains("_line_", StringComparison.Ordinal)))
            {
                publisher.SetRetained(topic, "");
            }
        }

        _cameraLines[cameraId] = lines;
        foreach (var config in discovery.CameraConfigs(cameraId, name, lines))
        {
            publisher.SetRetained(config.Topic, config.Payload);
        }

        if (recordingState is not null)
        {
            RecordingStateChanged(cameraId, recordingState);
        }
    }

    public void RecordingStateChanged(int cameraId, string recordingState) =>
        publisher.SetRetained(Topics.RecordingState(cameraId), recordingState);

    /// <summary>People that crossed a counting line each way (retained totals).</summary>
    public void SetLineCounts(int cameraId, string line, long crossedIn, long crossedOut)
    {
        publisher.SetRetained(Topics.LineCount(cameraId, line, "in"), crossedIn.ToString(CultureInfo.InvariantCulture));
        publisher.SetRetained(Topics.LineCount(cameraId, line, "out"), crossedOut.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A camera was deleted: its Home Assistant entities and every retained topic under <c>camera_&lt;id&gt;/</c> are cleared.</summary>
    public void CameraDeleted(int cameraId)
    {
        if (!publisher.Enabled)
        {
            return;
        }

        _cameraLines.TryRemove(cameraId, out var lines);
        _cameraNames.TryRemove(cameraId, out _);
        foreach (var key in _lineTotals.Keys.Where(k => k.CameraId == cameraId))
        {
            _lineTotals.TryRemove(key, out _);
        }

        foreach (var topic in discovery.ConfigTopics(cameraId, lines))
        {
            publisher.SetRetained(topic, "");
        }

        foreach (var topic in publisher.RetainedTopics(Topics.Camera(cameraId) + "/"))
        {
            publisher.SetRetained(topic, "");
        }
    }
}

/// <summary>People that crossed one line each way (guarded by locking the instance).</summary>
internal sealed class LineTotals
{
    public long In { get; set; }

    public long Out { get; set; }
}
