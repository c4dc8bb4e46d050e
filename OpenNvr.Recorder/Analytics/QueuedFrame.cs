using System.Diagnostics;
using OpenNvr.Recorder.Telemetry;

namespace OpenNvr.Recorder.Analytics;

/// <summary>
/// A frame taken for one policy's analysis, waiting in its camera's queue: the copy on disk
/// (<c>f-&lt;capture ms&gt;-&lt;n&gt;.jpg</c>), its URI for Inference and the root span of its trace.
/// </summary>
internal sealed record QueuedFrame(int CameraId, PolicyState State, string FramePath, string FrameUri, DateTimeOffset CapturedAt,
    int Width, int Height, Activity? Root)
{
    /// <summary>The frame will get no answer: counted, its copy deleted, its trace ended as an error.</summary>
    public void Drop(PipelineStatistics statistics, string reason)
    {
        statistics.AddDropped();
        RecorderTelemetry.FramesDropped.Add(1, Tags(CameraId, State.Policy.Task, ("reason", reason)));
        TryDeleteFile(FramePath);
        if (Root is { } root)
        {
            root.SetTag("opennvr.frame.outcome", "dropped");
            root.SetStatus(ActivityStatusCode.Error, reason);
            root.Stop();
        }
    }

    /// <summary>The pipeline's metric tags: camera and task, and one more when given.</summary>
    public static TagList Tags(int cameraId, string task, (string Key, object? Value)? extra = null)
    {
        var tags = new TagList { { "camera", cameraId }, { "task", task } };
        if (extra is { } e)
        {
            tags.Add(e.Key, e.Value);
        }

        return tags;
    }

    /// <summary>Deletes a frame copy; one that is gone already (or cannot be deleted now) is left to housekeeping.</summary>
    public static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
