using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenNvr.Core.Infrastructure;
using OpenNvr.Core.Recordings;

namespace OpenNvr.Core.Exports;

/// <summary>
/// Runs queued exports, <c>Exports:MaxConcurrent</c> at a time, with progress written to the export's row (at most
/// every half second). At start, exports a previous process left queued or running are queued again (a running one
/// starts over), and temporary files older than a day are removed. Deleting an export cancels its run.
/// </summary>
public sealed class ExportQueue(IServiceScopeFactory scopes, ExportEngine engine, IOptions<ExportOptions> options, TimeProvider clock,
    ILogger<ExportQueue> logger) : BackgroundService
{
    private static readonly JsonSerializerOptions GapsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly Channel<long> _queue = Channel.CreateUnbounded<long>();
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _running = new();

    public string Root { get; } = options.Value.ResolveRoot();

    public void Enqueue(long exportId) => _queue.Writer.TryWrite(exportId);

    /// <summary>Stops the export's run if it is running (its row is being deleted).</summary>
    public void Cancel(long exportId)
    {
        if (_running.TryGetValue(exportId, out var run))
        {
            run.Cancel();
        }
    }

    public string FilePath(string fileName) => Path.Combine(Root, fileName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(Root);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
            await db.Exports.Where(e => e.Status == ExportStatuses.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.Status, ExportStatuses.Queued).SetProperty(e => e.Progress, 0), stoppingToken);
            foreach (var id in await db.Exports.Where(e => e.Status == ExportStatuses.Queued).OrderBy(e => e.Id).Select(e => e.Id).ToListAsync(stoppingToken))
            {
                Enqueue(id);
            }

            // Leftovers of runs a crash interrupted (never a finished file: other Core replicas may share the folder).
            var dayAgo = clock.GetUtcNow().AddDays(-1).UtcDateTime;
            foreach (var file in Directory.EnumerateFiles(Root, "export-*").Where(f => (f.EndsWith(".part", StringComparison.Ordinal) ||
                         f.EndsWith(".ffconcat", StringComparison.Ordinal)) && File.GetLastWriteTimeUtc(f) < dayAgo))
            {
                TryDelete(file);
            }
        }

        var workers = Enumerable.Range(0, options.Value.MaxConcurrent).Select(_ => WorkAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            using var run = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            _running[id] = run;
            try
            {
                await RunAsync(id, run.Token);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Export {ExportId} could not be run", id);
            }
            catch (OperationCanceledException)
            {
                // Deleted while running: its row and file are gone already.
            }
            finally
            {
                _running.TryRemove(id, out _);
            }
        }
    }

    private async Task RunAsync(long id, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
        var export = await db.Exports.SingleOrDefaultAsync(e => e.Id == id, ct);
        if (export is null || export.Status != ExportStatuses.Queued)
        {
            return;
        }

        export.Status = ExportStatuses.Running;
        export.Progress = 0;
        await db.SaveChangesAsync(ct);

        var start = Timeline.ToUnix(export.StartAt);
        var end = Timeline.ToUnix(export.EndAt);
        var chunks = await IndexedChunksAsync(db, export.CameraId, start, end, ct);
        var plan = ExportPlanner.Plan(chunks, start, end);
        if (plan is null)
        {
            await FinishAsync(db, export, ExportStatuses.Failed, "Nothing is recorded in the range any more.", ct);
            return;
        }

        // Unique across databases: replicas (and test servers) may share Exports:Root.
        var fileName = string.Create(CultureInfo.InvariantCulture, $"export-{export.Id}-{Guid.NewGuid():N}.mp4");
        var title = string.Create(CultureInfo.InvariantCulture, $"OpenNVR export {export.Id} of camera {export.CameraId}{(export.Name is { Length: > 0 } n ? $" ({n})" : "")}");
        var progress = new ProgressWriter(scopes, export.Id, clock);
        try
        {
            var result = await engine.ExportAsync(plan, FilePath(fileName), title, progress, ct);
            export.FileName = fileName;
            export.SizeBytes = result.SizeBytes;
            export.DurationS = Math.Round(result.DurationSeconds, 3);
            export.ClipStartAt = Timeline.FromUnix(result.StartUnix);
            export.Gaps = JsonSerializer.SerializeToDocument(result.Gaps.Select(g => new { g.StartUnix, g.EndUnix }), GapsJson);
            await progress.FlushAsync();
            await FinishAsync(db, export, ExportStatuses.Done, null, ct);
        }
        catch (ExportFailedException ex)
        {
            await FinishAsync(db, export, ExportStatuses.Failed, ex.Message, ct);
        }
    }

    private async Task FinishAsync(NvrDbContext db, ClipExport export, string status, string? error, CancellationToken ct)
    {
        export.Status = status;
        export.Error = error is { Length: > 500 } ? error[..500] : error;
        export.Progress = status == ExportStatuses.Done ? 1 : export.Progress;
        export.FinishedAt = clock.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Deleted while it finished: the file has no row to belong to.
            if (export.FileName is { } file)
            {
                TryDelete(FilePath(file));
            }
        }
    }

    private static async Task<List<ExportChunk>> IndexedChunksAsync(NvrDbContext db, int cameraId, double start, double end, CancellationToken ct)
    {
        var from = Timeline.FromUnix(start);
        var to = Timeline.FromUnix(end);
        var lookBack = from.AddSeconds(-Timeline.MaxChunkSeconds);
        var rows = await db.Recordings.AsNoTracking()
            .Where(r => r.CameraId == cameraId && r.StartAt >= lookBack && r.StartAt < to && r.EndAt > from)
            .OrderBy(r => r.StartAt).ThenBy(r => r.Id)
            .Select(r => new { r.Id, r.Path, r.StartAt, r.EndAt })
            .ToListAsync(ct);
        return rows.Select(r => new ExportChunk(r.Id, r.Path, Timeline.ToUnix(r.StartAt), Timeline.ToUnix(r.EndAt))).ToList();
    }

    /// <summary>Writes progress to the export's row, at most every half second, one write at a time.</summary>
    private sealed class ProgressWriter(IServiceScopeFactory scopes, long exportId, TimeProvider clock) : IProgress<double>
    {
        private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);
        private readonly Lock _gate = new();
        private Task _writing = Task.CompletedTask;
        private long _lastWrite;
        private double _latest;

        public void Report(double value)
        {
            lock (_gate)
            {
                _latest = Math.Round(value, 3);
                if (!_writing.IsCompleted || (_lastWrite != 0 && clock.GetElapsedTime(_lastWrite) < Every))
                {
                    return;
                }

                _lastWrite = clock.GetTimestamp();
                _writing = WriteAsync(_latest);
            }
        }

        public async Task FlushAsync()
        {
            Task writing;
            lock (_gate)
            {
                writing = _writing;
            }

            await writing;
        }

        private async Task WriteAsync(double value)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<NvrDbContext>();
                await db.Exports.Where(e => e.Id == exportId && e.Status == ExportStatuses.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(e => e.Progress, value));
            }
            catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or Npgsql.NpgsqlException)
            {
                // Progress is best effort; the final state is written by the run itself.
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
