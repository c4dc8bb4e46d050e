using System.ComponentModel.DataAnnotations;

namespace OpenNvr.Contracts.Internal;

/// <summary>
/// A finished chunk, as the Recorder registers it (<c>POST /api/v1/internal/recordings</c>) and keeps it in its outbox
/// until Core acknowledges it. <c>path</c> is relative to <c>Recorder:RecordingsRoot</c>; <c>duration_s</c> defaults
/// to <c>end_unix - start_unix</c>; a chunk lasts at most an hour.
/// </summary>
public sealed record ChunkRegistration(
    int CameraId,
    [property: RecordingPath("path")] string Path,
    [property: UnixSeconds(ErrorMessage = "start_unix " + UnixTime.Rule + ".")] double StartUnix,
    [property: UnixSeconds(ErrorMessage = "end_unix " + UnixTime.Rule + ".")] double EndUnix,
    [property: Range(0, ChunkRegistration.MaxSeconds, ErrorMessage = "duration_s must be between 0 and 3600.")] double? DurationS = null,
    [property: Range(0, long.MaxValue, ErrorMessage = "size_bytes must not be negative.")] long SizeBytes = 0,
    [property: PrintableText(32, ErrorMessage = "codec must be at most 32 printable characters.")] string? Codec = null,
    [property: Range(0, ChunkRegistration.MaxDimension, ErrorMessage = "width must be between 0 and 16384.")] int? Width = null,
    [property: Range(0, ChunkRegistration.MaxDimension, ErrorMessage = "height must be between 0 and 16384.")] int? Height = null)
    : IValidatableObject
{
    /// <summary>The longest chunk Core registers; its window queries look back this far.</summary>
    public const double MaxSeconds = 3600;
    public const int MaxDimension = 16384;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EndUnix <= StartUnix)
        {
            yield return new ValidationResult("end_unix must be after start_unix.", [nameof(EndUnix)]);
        }
        else if (EndUnix - StartUnix > MaxSeconds)
        {
            yield return new ValidationResult($"end_unix: a chunk may last at most {MaxSeconds} s.", [nameof(EndUnix)]);
        }
    }
}

/// <summary>A batch of 1 to 1000 chunks, registered all or none (idempotent on <c>(camera_id, path)</c>).</summary>
public sealed record RegisterRecordingsRequest(
    [property: Length(1, RegisterRecordingsRequest.MaxChunks, ErrorMessage = "recordings must hold 1 to 1000 chunks.")]
    IReadOnlyList<ChunkRegistration> Recordings) : IValidatableObject
{
    public const int MaxChunks = 1000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        BatchValidation.NoNullItems(Recordings, "recordings", nameof(Recordings));
}

public sealed record RegisterRecordingsResponse(int Inserted, int Duplicates);

/// <summary>A camera's chunks oldest first (those ending at or before <c>older_than_unix</c> when given), for retention.</summary>
public sealed record RecordingsQueryRequest(
    int CameraId,
    [property: UnixSeconds(ErrorMessage = "older_than_unix " + UnixTime.Rule + ".")] double? OlderThanUnix = null,
    [property: Range(1, RecordingsQueryRequest.MaxLimit, ErrorMessage = "limit must be between 1 and 10000.")] int Limit = 500)
{
    public const int MaxLimit = 10_000;
}

/// <summary>An indexed chunk as retention sees it.</summary>
public sealed record IndexedChunk(long Id, string Path, double StartUnix, double EndUnix, long SizeBytes, bool IsEvidence);

/// <summary><c>total_bytes</c> is the size of all the camera's indexed chunks (for quotas), whatever the filter.</summary>
public sealed record RecordingsQueryResponse(int CameraId, IReadOnlyList<IndexedChunk> Recordings, long TotalBytes, int Count);

/// <summary>Index rows to remove after the Recorder deleted their files; evidence is refused (409) and then nothing is deleted.</summary>
public sealed record RecordingsDeleteRequest(
    int CameraId,
    [property: Length(0, RecordingsDeleteRequest.MaxPaths, ErrorMessage = "paths must be a list of at most 10000 relative paths.")]
    IReadOnlyList<string> Paths) : IValidatableObject
{
    public const int MaxPaths = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        Paths.Select((path, i) => RecordingPaths.Check(path, $"paths[{i}]")).OfType<string>()
            .Select(problem => new ValidationResult(problem, [nameof(Paths)])).Take(1);
}

public sealed record RecordingsDeleteResponse(int Deleted);

/// <summary><c>POST /api/v1/internal/cameras/{id}/state</c>: <c>last_recording_at_unix</c> only ever moves the camera's value forward.</summary>
public sealed record CameraStateRequest(
    string RecordingState,
    [property: StringLength(CameraStateRequest.MaxReasonLength, ErrorMessage = "reason must be at most 500 characters.")] string? Reason = null,
    [property: UnixSeconds(ErrorMessage = "last_recording_at_unix " + UnixTime.Rule + ".")] double? LastRecordingAtUnix = null)
    : IValidatableObject
{
    public const int MaxReasonLength = 500;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RecordingState is null || !RecordingStates.Reported.Contains(RecordingState))
        {
            yield return new ValidationResult($"recording_state must be one of {string.Join(", ", RecordingStates.Reported.Order())}.", [nameof(RecordingState)]);
        }
    }
}
