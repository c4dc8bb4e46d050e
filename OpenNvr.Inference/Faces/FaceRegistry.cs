using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenNvr.Inference.Infrastructure;
using OpenNvr.Inference.Tasks;
using OpenNvr.Inference.Telemetry;

namespace OpenNvr.Inference.Faces;

/// <summary>What a registration asks for (already validated).</summary>
public sealed record FaceRegistration(string PersonId, string Name, string Category, string? Metadata, bool Replace);

/// <summary>The outcome of a registration: <c>created</c>, <c>added</c> (another photo) or <c>replaced</c>.</summary>
public sealed record FaceRegistrationResult(string PersonId, string Name, string Category, string Outcome, int EmbeddingCount);

/// <summary>An identity with the number of its stored photos.</summary>
public sealed record FaceIdentitySummary(string PersonId, string Name, string Category, string? Metadata, int EmbeddingCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// The persistent face registry (PostgreSQL <c>inferencedb</c>) and this replica's <see cref="FaceIndex"/> of it.
/// </summary>
/// <remarks>
/// Every change runs in one transaction that takes an advisory lock (so versions commit in order), appends a row to
/// <c>face_registry_changes</c> and sends <c>NOTIFY face_registry</c>. Each replica applies changes above its last
/// version: at once after its own writes, on notification (<see cref="FaceRegistrySync"/> listens), and on a
/// periodic version check in case a notification was lost. Embeddings are tagged with the embedder that made them;
/// the index holds only those of the configured embedder.
/// </remarks>
public sealed partial class FaceRegistry : IDisposable
{
    public const string NotifyChannel = "face_registry";

    // Serialises registry writers across replicas ("ONVRFACE" as a number).
    private const long WriterLockKey = 0x4F4E565246414345;
    private const int MaxChangesPerSync = 10_000;

    private readonly IServiceScopeFactory _scopes;
    private readonly FacesOptions _options;
    private readonly FacesMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger<FaceRegistry> _logger;
    private readonly SemaphoreSlim _sync = new(1, 1);
    private long _version;

    public FaceRegistry(IServiceScopeFactory scopes, FaceAnalyzer analyzer, IOptions<FacesOptions> options, FacesMetrics metrics, TimeProvider clock,
        ILogger<FaceRegistry> logger)
    {
        _scopes = scopes;
        _options = options.Value;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        EmbeddingModel = analyzer.Embedder is { } embedder ? $"{embedder.Kind}/{embedder.ModelName}" : "none";
        Index = new FaceIndex(analyzer.Embedder?.Dimensions ?? 512);
        metrics.Observe(Index);
    }

    public FaceIndex Index { get; }

    /// <summary>Which embedder's vectors this replica stores and searches, e.g. <c>bundled/fr_feature.onnx</c>.</summary>
    public string EmbeddingModel { get; }

    /// <summary>The last registry version applied to <see cref="Index"/>.</summary>
    public long Version => Interlocked.Read(ref _version);

    public async Task<FaceRegistrationResult> RegisterAsync(FaceRegistration registration, float[] embedding, string sourceUri, CancellationToken cancellationToken)
    {
        using var activity = InferenceTelemetry.ActivitySource.StartActivity("faces.register");
        activity?.SetTag("opennvr.person_id", registration.PersonId);
        FaceRegistrationResult result;
        using (var scope = _scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
            result = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                await LockWritersAsync(db, ct);
                var now = _clock.GetUtcNow();
                var identity = await db.FaceIdentities.FirstOrDefaultAsync(i => i.PersonId == registration.PersonId, ct);
                string outcome;
                if (identity is null)
                {
                    identity = new FaceIdentity
                    {
                        PersonId = registration.PersonId, Name = registration.Name, Category = registration.Category,
                        Metadata = registration.Metadata, CreatedAt = now, UpdatedAt = now,
                    };
                    db.FaceIdentities.Add(identity);
                    outcome = "created";
                }
                else if (registration.Replace)
                {
                    await db.FaceEmbeddings.Where(e => e.PersonId == registration.PersonId).ExecuteDeleteAsync(ct);
                    identity.Name = registration.Name;
                    identity.Category = registration.Category;
                    identity.Metadata = registration.Metadata;
                    identity.UpdatedAt = now;
                    outcome = "replaced";
                }
                else if (!string.Equals(identity.Name, registration.Name, StringComparison.Ordinal))
                {
                    throw new InferenceProblemException(StatusCodes.Status409Conflict, "Person already registered",
                        $"person_id '{registration.PersonId}' is already registered as '{identity.Name}', not '{registration.Name}'. Register with the same name to add a photo, or send \"replace\": true to replace the identity and its photos.");
                }
                else
                {
                    var photos = await db.FaceEmbeddings.CountAsync(e => e.PersonId == registration.PersonId, ct);
                    if (photos >= _options.MaxEmbeddingsPerIdentity)
                    {
                        throw new InferenceProblemException(StatusCodes.Status409Conflict, "Too many photos",
                            $"person_id '{registration.PersonId}' already has {photos} photos, the most one identity may hold (Faces:MaxEmbeddingsPerIdentity); send \"replace\": true to start again from this photo.");
                    }

                    // The same person again: another photo; category and metadata follow the latest registration.
                    identity.Category = registration.Category;
                    identity.Metadata = registration.Metadata ?? identity.Metadata;
                    identity.UpdatedAt = now;
                    outcome = "added";
                }

                db.FaceEmbeddings.Add(new FaceEmbedding
                {
                    PersonId = registration.PersonId, Model = EmbeddingModel, Vector = embedding, SourceUri = sourceUri, CreatedAt = now,
                });
                await AppendChangeAsync(db, registration.PersonId, now, ct);
                var count = await db.FaceEmbeddings.CountAsync(e => e.PersonId == registration.PersonId, ct);
                await transaction.CommitAsync(ct);
                return new FaceRegistrationResult(identity.PersonId, identity.Name, identity.Category, outcome, count);
            }, cancellationToken);
        }

        _metrics.Registration(result.Outcome);
        LogRegistered(_logger, result.PersonId, result.Outcome, result.EmbeddingCount);
        await SyncAfterWriteAsync();
        return result;
    }

    /// <summary>Deletes an identity and its photos; false when there is no such identity.</summary>
    public async Task<bool> DeleteAsync(string personId, CancellationToken cancellationToken)
    {
        using var activity = InferenceTelemetry.ActivitySource.StartActivity("faces.delete");
        activity?.SetTag("opennvr.person_id", personId);
        bool deleted;
        using (var scope = _scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
            deleted = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
            {
                db.ChangeTracker.Clear();
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                await LockWritersAsync(db, ct);
                var rows = await db.FaceIdentities.Where(i => i.PersonId == personId).ExecuteDeleteAsync(ct);
                if (rows == 0)
                {
                    return false;
                }

                await AppendChangeAsync(db, personId, _clock.GetUtcNow(), ct);
                await transaction.CommitAsync(ct);
                return true;
            }, cancellationToken);
        }

        if (deleted)
        {
            _metrics.Registration("deleted");
            LogDeleted(_logger, personId);
            await SyncAfterWriteAsync();
        }

        return deleted;
    }

    public async Task<FaceIdentitySummary?> GetAsync(string personId, CancellationToken cancellationToken)
    {
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
        return await db.FaceIdentities.AsNoTracking()
            .Where(i => i.PersonId == personId)
            .Select(i => new FaceIdentitySummary(i.PersonId, i.Name, i.Category, i.Metadata, i.Embeddings.Count, i.CreatedAt, i.UpdatedAt))
            .FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<FaceIdentitySummary>> ListAsync(string? category, CancellationToken cancellationToken)
    {
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
        var query = db.FaceIdentities.AsNoTracking();
        if (category is not null)
        {
            query = query.Where(i => i.Category == category);
        }

        return await query.OrderBy(i => i.PersonId)
            .Select(i => new FaceIdentitySummary(i.PersonId, i.Name, i.Category, i.Metadata, i.Embeddings.Count, i.CreatedAt, i.UpdatedAt))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Rebuilds the index from the database (at start-up, and when too far behind to catch up by changes).</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        await _sync.WaitAsync(cancellationToken);
        try
        {
            await LoadAllLockedAsync(cancellationToken);
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <summary>Applies every change above <see cref="Version"/> to the index (a cheap query when there is none).</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _sync.WaitAsync(cancellationToken);
        try
        {
            using var scope = _scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
            var since = Version;
            var changes = await db.FaceRegistryChanges.AsNoTracking()
                .Where(c => c.Version > since)
                .OrderBy(c => c.Version)
                .Take(MaxChangesPerSync + 1)
                .ToListAsync(cancellationToken);
            if (changes.Count == 0)
            {
                return;
            }

            if (changes.Count > MaxChangesPerSync)
            {
                await LoadAllLockedAsync(cancellationToken);
                return;
            }

            using var activity = InferenceTelemetry.ActivitySource.StartActivity("faces.sync");
            var personIds = changes.Select(c => c.PersonId).Distinct(StringComparer.Ordinal).ToList();
            activity?.SetTag("opennvr.faces.changes", changes.Count);
            var loaded = await LoadIdentitiesAsync(db.FaceIdentities.AsNoTracking().Where(i => personIds.Contains(i.PersonId)), cancellationToken);
            foreach (var personId in personIds)
            {
                loaded.TryGetValue(personId, out var entry);
                Index.Set(personId, entry.Identity, entry.Vectors ?? []);
            }

            Interlocked.Exchange(ref _version, changes[^1].Version);
            var now = _clock.GetUtcNow();
            foreach (var change in changes)
            {
                _metrics.SyncLag((now - change.ChangedAt).TotalMilliseconds);
            }

            LogSynced(_logger, changes.Count, personIds.Count, Version);
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <summary>An open connection listening on <see cref="NotifyChannel"/> (the caller waits on it and disposes it).</summary>
    public async Task<NpgsqlConnection> ListenAsync(CancellationToken cancellationToken)
    {
        string connectionString;
        using (var scope = _scopes.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<InferenceDbContext>().Database.GetConnectionString()
                ?? throw new InvalidOperationException("ConnectionStrings:inferencedb is not configured.");
        }

        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var listen = new NpgsqlCommand($"LISTEN {NotifyChannel}", connection);
            await listen.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public void Dispose() => _sync.Dispose();

    /// <summary>
    /// Applies a committed write to this replica's index before answering. Not cancellable (the write is done) and
    /// never failing the request: if the database hiccups now, the background sync applies it moments later.
    /// </summary>
    private async Task SyncAfterWriteAsync()
    {
        try
        {
            await SyncAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            LogSyncAfterWriteFailed(_logger, ex);
        }
    }

    private async Task LoadAllLockedAsync(CancellationToken cancellationToken)
    {
        using var activity = InferenceTelemetry.ActivitySource.StartActivity("faces.load");
        var started = _clock.GetTimestamp();
        using var scope = _scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<InferenceDbContext>();
        // The version is read first: a change committed during the load is applied again by the next sync, which
        // is harmless (applying an identity's state is idempotent).
        var version = await db.FaceRegistryChanges.MaxAsync(c => (long?)c.Version, cancellationToken) ?? 0;
        var loaded = await LoadIdentitiesAsync(db.FaceIdentities.AsNoTracking(), cancellationToken);
        Index.Clear();
        foreach (var (personId, entry) in loaded)
        {
            Index.Set(personId, entry.Identity, entry.Vectors ?? []);
        }

        Interlocked.Exchange(ref _version, version);
        var otherModel = await db.FaceEmbeddings.CountAsync(e => e.Model != EmbeddingModel, cancellationToken);
        if (otherModel > 0)
        {
            LogOtherModelEmbeddings(_logger, otherModel, EmbeddingModel);
        }

        LogLoaded(_logger, Index.IdentityCount, Index.EmbeddingCount, version, _clock.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task<Dictionary<string, (IndexedIdentity? Identity, List<float[]>? Vectors)>> LoadIdentitiesAsync(
        IQueryable<FaceIdentity> identities, CancellationToken cancellationToken)
    {
        var model = EmbeddingModel;
        var rows = await identities
            .Select(i => new { i.PersonId, i.Name, i.Category, Vectors = i.Embeddings.Where(e => e.Model == model).Select(e => e.Vector).ToList() })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(
            r => r.PersonId,
            r => ((IndexedIdentity?)new IndexedIdentity(r.PersonId, r.Name, r.Category),
                (List<float[]>?)[.. r.Vectors.Where(v => v.Length == Index.Dimensions)]),
            StringComparer.Ordinal);
    }

    private static Task LockWritersAsync(InferenceDbContext db, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({WriterLockKey})", cancellationToken);

    private static async Task AppendChangeAsync(InferenceDbContext db, string personId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var change = new FaceRegistryChange { PersonId = personId, ChangedAt = now };
        db.FaceRegistryChanges.Add(change);
        await db.SaveChangesAsync(cancellationToken);
        // Delivered to listeners when the transaction commits, not before.
        var payload = change.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({NotifyChannel}, {payload})", cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Face {PersonId} registered ({Outcome}); {Embeddings} photos")]
    private static partial void LogRegistered(ILogger logger, string personId, string outcome, int embeddings);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Applying a committed face registry change to the index failed; the background sync will retry")]
    private static partial void LogSyncAfterWriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Face {PersonId} deleted")]
    private static partial void LogDeleted(ILogger logger, string personId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Face index synced: {Changes} changes of {Identities} identities, now at version {Version}")]
    private static partial void LogSynced(ILogger logger, int changes, int identities, long version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Face index loaded: {Identities} identities, {Embeddings} embeddings, version {Version}, in {ElapsedMs} ms")]
    private static partial void LogLoaded(ILogger logger, int identities, int embeddings, long version, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} stored face embeddings were made by another model than {Model} and are not searched; re-register those people")]
    private static partial void LogOtherModelEmbeddings(ILogger logger, int count, string model);
}
