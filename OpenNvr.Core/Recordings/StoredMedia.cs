using Microsoft.AspNetCore.Http.HttpResults;
using OpenNvr.Storage;

namespace OpenNvr.Core.Recordings;

/// <summary>How Core answers for a stored chunk or snapshot, whichever store holds it.</summary>
public static class StoredMedia
{
    /// <summary>
    /// A file of a local store is served as a physical file (sendfile, ASP.NET's range handling); an object of a remote
    /// store through <see cref="StoredMediaResult"/> (ranged reads). 404 when it is not stored, 503 when the store
    /// does not answer.
    /// </summary>
    public static async Task<Results<PhysicalFileHttpResult, StoredMediaResult, NotFoundProblem, ServiceUnavailableProblem>> ServeAsync(
        IRecordingStore store, string key, string contentType, string missing, CancellationToken ct)
    {
        if (StorageKeys.Check(key) is not null)
        {
            return new NotFoundProblem(missing);
        }

        if (store.LocalPath(key) is { } local)
        {
            return File.Exists(local) ? TypedResults.PhysicalFile(local, contentType, enableRangeProcessing: true) : new NotFoundProblem(missing);
        }

        try
        {
            return await store.GetPropertiesAsync(key, ct) is { } stored
                ? new StoredMediaResult(store, stored, contentType)
                : new NotFoundProblem(missing);
        }
        catch (RecordingStoreException ex)
        {
            return new ServiceUnavailableProblem($"The recording store does not answer: {ex.Message}");
        }
    }
}
