namespace OpenNvr.Storage;

/// <summary>
/// The store failed (unreachable, timed out, refused the credentials, answered an error). An <see cref="IOException"/>
/// so that the Recorder's delivery loops retry it like any other I/O failure; <see cref="Status"/> is the HTTP status
/// of a blob store's answer (0 when there was none).
/// </summary>
public class RecordingStoreException(string message, int status = 0, Exception? inner = null) : IOException(message, inner)
{
    public int Status { get; } = status;
}

/// <summary>What the store holds after an upload is not what was sent (size or MD5 differ): the upload is retried.</summary>
public sealed class ChecksumMismatchException(string message) : RecordingStoreException(message);
