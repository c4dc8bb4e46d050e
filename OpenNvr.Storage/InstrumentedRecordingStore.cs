using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace OpenNvr.Storage;

/// <summary>
/// Spans (<c>storage.upload</c>, <c>storage.properties</c>, <c>storage.read</c>, <c>storage.delete</c>,
/// <c>storage.list</c>) and metrics (<see cref="StorageTelemetry"/>) around any store, so that each backend is only
/// about storing.
/// </summary>
public sealed class InstrumentedRecordingStore(IRecordingStore inner, TimeProvider clock) : IRecordingStore
{
    public IRecordingStore Inner => inner;

    public string Provider => inner.Provider;

    public Task<StoredObject> UploadFileAsync(string key, string localPath, CancellationToken ct = default) =>
        MeasureAsync("upload", key, async activity =>
        {
            var inPlace = inner.IsStoredInPlace(key, localPath);
            activity?.SetTag("opennvr.storage.in_place", inPlace);
            var stored = await inner.UploadFileAsync(key, localPath, ct);
            activity?.SetTag("opennvr.storage.size", stored.Size);
            if (!inPlace)
            {
                StorageTelemetry.BytesUploaded.Add(stored.Size, new KeyValuePair<string, object?>("provider", Provider));
            }

            return stored;
        });

    public Task<StoredObject?> GetPropertiesAsync(string key, CancellationToken ct = default) =>
        MeasureAsync("properties", key, _ => inner.GetPropertiesAsync(key, ct), found => found is not null);

    public Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default) =>
        MeasureAsync("read", key, async activity =>
        {
            activity?.SetTag("opennvr.storage.offset", offset);
            activity?.SetTag("opennvr.storage.length", length);
            var stream = await inner.OpenReadAsync(key, offset, length, ct);
            if (stream is not null && length is { } requested)
            {
                StorageTelemetry.BytesRead.Add(requested, new KeyValuePair<string, object?>("provider", Provider));
            }

            return stream;
        }, stream => stream is not null);

    public Task<bool> DeleteAsync(string key, CancellationToken ct = default) =>
        MeasureAsync("delete", key, _ => inner.DeleteAsync(key, ct), deleted => deleted);

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var activity = StorageTelemetry.ActivitySource.StartActivity("storage.list");
        activity?.SetTag("opennvr.storage.prefix", prefix);
        var started = clock.GetTimestamp();
        var count = 0;
        var outcome = "error";
        try
        {
            await foreach (var item in inner.ListAsync(prefix, ct))
            {
                count++;
                yield return item;
            }

            outcome = "ok";
        }
        finally
        {
            activity?.SetTag("opennvr.storage.count", count);
            Record("list", outcome, started);
        }
    }

    public bool IsStoredInPlace(string key, string localPath) => inner.IsStoredInPlace(key, localPath);

    public string? LocalPath(string key) => inner.LocalPath(key);

    private async Task<T> MeasureAsync<T>(string operation, string key, Func<Activity?, Task<T>> call, Func<T, bool>? found = null)
    {
        using var activity = StorageTelemetry.ActivitySource.StartActivity("storage." + operation);
        activity?.SetTag("opennvr.storage.provider", Provider);
        activity?.SetTag("opennvr.storage.key", key);
        var started = clock.GetTimestamp();
        try
        {
            var result = await call(activity);
            Record(operation, found is null || found(result) ? "ok" : "missing", started);
            return result;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Record(operation, "error", started);
            throw;
        }
    }

    private void Record(string operation, string outcome, long started) =>
        StorageTelemetry.OperationDuration.Record(clock.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("operation", operation),
            new KeyValuePair<string, object?>("provider", Provider),
            new KeyValuePair<string, object?>("outcome", outcome));
}
