using System.Text.Json;
using OpenNvr.Core.Integrations;

namespace OpenNvr.Tests.Integrations;

/// <summary>
/// Events as issue 13 stores them (API.md: <c>event_type</c> and <c>track_id</c> on the event, a line's details in its
/// payload) and as they look before it (the type in the payload): the integrations read both.
/// </summary>
public sealed class StoredEventFieldsTests
{
    [Theory]
    [InlineData("""{"id":7,"camera_id":3,"task":"person_tracking","event_type":"line.crossed","track_id":12,"payload":{"line_id":4,"line_name":"Front door","direction":"in"}}""", 3, "Front door", true)]
    [InlineData("""{"id":8,"camera_id":3,"task":"person_tracking","event_type":"line.crossed","track_id":13,"payload":{"line_id":4,"direction":"out"}}""", 3, "line_4", false)]
    [InlineData("""{"id":9,"camera_id":5,"task":"person_tracking","payload":{"event_type":"line.crossed","line_name":"Gate","direction":"out"}}""", 5, "Gate", false)]
    [InlineData("""{"id":10,"camera_id":6,"task":"person_tracking","event_type":"line.crossed","line_name":"Top","direction":"in","payload":null}""", 6, "Top", true)]
    public void A_line_crossing_names_its_camera_line_and_direction(string json, int cameraId, string line, bool crossedIn)
    {
        using var stored = JsonDocument.Parse(json);
        Assert.Equal(new LineCrossing(cameraId, line, crossedIn), StoredEventFields.LineCrossingOf(stored.RootElement));
        Assert.Equal("line.crossed", StoredEventFields.EventType(stored.RootElement));
    }

    [Theory]
    [InlineData("""{"id":1,"camera_id":3,"task":"person_counting","label":"person","count":2,"payload":{"count":2}}""", "person_counting")]
    [InlineData("""{"id":2,"camera_id":3,"task":"person_tracking","event_type":"occupancy.changed","label":"person","count":4,"payload":{}}""", "occupancy.changed")]
    [InlineData("""{"id":3,"camera_id":3,"task":"person_tracking","event_type":"person.entered","track_id":9,"payload":{"direction":"in"}}""", "person.entered")]
    [InlineData("""{"id":4,"camera_id":3,"task":"person_tracking","event_type":"line.crossed","payload":{"line_name":"Door","direction":"sideways"}}""", "line.crossed")]
    [InlineData("""{"id":5,"camera_id":3,"task":"person_tracking","event_type":"line.crossed","payload":{"direction":"in"}}""", "line.crossed")]
    public void Other_events_and_incomplete_crossings_count_no_line(string json, string eventType)
    {
        using var stored = JsonDocument.Parse(json);
        Assert.Null(StoredEventFields.LineCrossingOf(stored.RootElement));
        Assert.Equal(eventType, StoredEventFields.EventType(stored.RootElement));
    }
}
