namespace OpenNvr.Recorder.Recording;

/// <summary>What the Recorder derives from a camera of Core's heartbeat answer.</summary>
public static class CameraConfigExtensions
{
    extension(CameraConfig camera)
    {
        /// <summary>Whether any enabled AI policy needs the camera's frames decoded.</summary>
        public bool IsAnalysed => camera.AiPolicies?.Any(p => p.Enabled) == true;

        /// <summary>What the recording process depends on: a change restarts ffmpeg.</summary>
        public bool SameRecordingSource(CameraConfig other) =>
            camera.StreamUrl == other.StreamUrl && camera.Enabled == other.Enabled && camera.RecordingEnabled == other.RecordingEnabled;
    }
}
