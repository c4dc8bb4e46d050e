using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace OpenNvr.Inference.Faces;

/// <summary>An identity as the index knows it.</summary>
public sealed record IndexedIdentity(string PersonId, string Name, string Category);

/// <summary>A registry identity whose best embedding matched a query.</summary>
public sealed record FaceMatch(IndexedIdentity Identity, float Similarity);

/// <summary>
/// The in-memory face index every search runs against: all embeddings in one contiguous <c>float[]</c> (N x D,
/// L2-normalised, so cosine similarity is a dot product) plus the identity of each row.
/// </summary>
/// <remarks>
/// A search over 100,000 rows of 512 floats reads 200 MB, which memory bandwidth alone makes 10-15 ms on this class
/// of machine. So each row is also kept quantised to 8 bits (51 MB): a first pass computes approximate similarities
/// with integer SIMD (AVX2 <c>vpmaddwd</c>, a portable loop elsewhere), then the rows that can reach the threshold
/// (approximate score within <see cref="QuantisationMargin"/> of it) are scored exactly in float. The margin exceeds
/// the worst-case quantisation error for unit vectors whose largest component is below 0.35, so no match is lost.
/// Readers share a lock; updates (rare) take it exclusively.
/// </remarks>
public sealed class FaceIndex
{
    /// <summary>Approximate scores this far below the threshold are still rescored exactly.</summary>
    public const float QuantisationMargin = 0.05f;

    /// <summary>The best rows by approximate score are always rescored, whatever the threshold.</summary>
    private const int AlwaysRescored = 8;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _identitySlots = new(StringComparer.Ordinal);
    private readonly List<IndexedIdentity?> _identities = [];
    private readonly Stack<int> _freeSlots = new();
    private float[] _vectors;
    private sbyte[] _quantised;
    private float[] _rowScales;
    private int[] _rowIdentity;
    private int _rows;

    public FaceIndex(int dimensions, int initialCapacity = 1024)
    {
        if (dimensions <= 0 || dimensions % 32 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), "Embedding sizes are multiples of 32 (512 for the supported models).");
        }

        Dimensions = dimensions;
        initialCapacity = Math.Max(16, initialCapacity);
        _vectors = new float[initialCapacity * dimensions];
        _quantised = new sbyte[initialCapacity * dimensions];
        _rowScales = new float[initialCapacity];
        _rowIdentity = new int[initialCapacity];
    }

    public int Dimensions { get; }

    public int IdentityCount
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _identitySlots.Count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    public int EmbeddingCount
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _rows;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    public bool Contains(string personId)
    {
        _lock.EnterReadLock();
        try
        {
            return _identitySlots.ContainsKey(personId);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Replaces everything the index holds about one identity: its details and embeddings (null: removes it).</summary>
    public void Set(string personId, IndexedIdentity? identity, IReadOnlyList<float[]> embeddings)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveLocked(personId);
            if (identity is null || embeddings.Count == 0)
            {
                return;
            }

            var slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : AddSlot();
            _identities[slot] = identity;
            _identitySlots[personId] = slot;
            foreach (var embedding in embeddings)
            {
                AppendRowLocked(embedding, slot);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Empties the index (before a full reload).</summary>
    public void Clear()
    {
        _lock.EnterWriteLock();
        try
        {
            _identitySlots.Clear();
            _identities.Clear();
            _freeSlots.Clear();
            _rows = 0;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Identities whose best embedding has cosine similarity ≥ <paramref name="minSimilarity"/> with the
    /// L2-normalised <paramref name="query"/>, best first, at most <paramref name="limit"/>; optionally only one category.
    /// </summary>
    public IReadOnlyList<FaceMatch> Search(ReadOnlySpan<float> query, float minSimilarity, string? category = null, int limit = 10)
    {
        if (query.Length != Dimensions)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions; the index holds {Dimensions}.", nameof(query));
        }

        var quantisedQuery = new sbyte[Dimensions];
        var queryScale = Quantise(query, quantisedQuery);
        _lock.EnterReadLock();
        try
        {
            var candidates = new List<(int Row, float Approximate)>();
            var floor = minSimilarity - QuantisationMargin;
            var top = new TopK(AlwaysRescored);
            for (var row = 0; row < _rows; row++)
            {
                var identity = _identities[_rowIdentity[row]]!;
                if (category is not null && !string.Equals(identity.Category, category, StringComparison.Ordinal))
                {
                    continue;
                }

                var approximate = DotInt8(_quantised.AsSpan(row * Dimensions, Dimensions), quantisedQuery) * _rowScales[row] * queryScale;
                if (approximate >= floor)
                {
                    candidates.Add((row, approximate));
                }
                else
                {
                    top.Offer(row, approximate);
                }
            }

            var best = new Dictionary<int, float>();
            foreach (var row in candidates.Select(c => c.Row).Concat(top.Rows))
            {
                var exact = Dot(_vectors.AsSpan(row * Dimensions, Dimensions), query);
                var slot = _rowIdentity[row];
                if (exact >= minSimilarity && (!best.TryGetValue(slot, out var previous) || exact > previous))
                {
                    best[slot] = exact;
                }
            }

            return [.. best.OrderByDescending(b => b.Value).Take(limit).Select(b => new FaceMatch(_identities[b.Key]!, b.Value))];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>The same answer as <see cref="Search"/> by an exact float scan of every row (the reference the bench and tests compare with).</summary>
    public IReadOnlyList<FaceMatch> SearchExact(ReadOnlySpan<float> query, float minSimilarity, string? category = null, int limit = 10)
    {
        _lock.EnterReadLock();
        try
        {
            var best = new Dictionary<int, float>();
            for (var row = 0; row < _rows; row++)
            {
                var slot = _rowIdentity[row];
                if (category is not null && !string.Equals(_identities[slot]!.Category, category, StringComparison.Ordinal))
                {
                    continue;
                }

                var exact = Dot(_vectors.AsSpan(row * Dimensions, Dimensions), query);
                if (exact >= minSimilarity && (!best.TryGetValue(slot, out var previous) || exact > previous))
                {
                    best[slot] = exact;
                }
            }

            return [.. best.OrderByDescending(b => b.Value).Take(limit).Select(b => new FaceMatch(_identities[b.Key]!, b.Value))];
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>SIMD dot product of two float vectors whose length is a multiple of the vector width.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        Vector<float> s0 = default, s1 = default;
        var i = 0;
        for (; i + 2 <= va.Length; i += 2)
        {
            s0 += va[i] * vb[i];
            s1 += va[i + 1] * vb[i + 1];
        }

        for (; i < va.Length; i++)
        {
            s0 += va[i] * vb[i];
        }

        var sum = Vector.Sum(s0 + s1);
        for (var j = va.Length * Vector<float>.Count; j < a.Length; j++)
        {
            sum += a[j] * b[j];
        }

        return sum;
    }

    /// <summary>Integer dot product of two 8-bit vectors (length a multiple of 32).</summary>
    public static int DotInt8(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (Avx2.IsSupported)
        {
            ref var pa = ref MemoryMarshal.GetReference(a);
            ref var pb = ref MemoryMarshal.GetReference(b);
            Vector256<int> acc0 = default, acc1 = default;
            for (nuint i = 0; i < (nuint)a.Length; i += 32)
            {
                var x0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pa, i));
                var y0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pb, i));
                var x1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pa, i + 16));
                var y1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pb, i + 16));
                acc0 += Avx2.MultiplyAddAdjacent(x0, y0);
                acc1 += Avx2.MultiplyAddAdjacent(x1, y1);
            }

            return Vector256.Sum(acc0 + acc1);
        }

        var sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Quantises to 8 bits with the vector's own scale; returns the factor that turns integers back into floats.</summary>
    public static float Quantise(ReadOnlySpan<float> vector, Span<sbyte> destination)
    {
        var max = 0f;
        foreach (var v in vector)
        {
            max = MathF.Max(max, MathF.Abs(v));
        }

        if (max == 0 || !float.IsFinite(max))
        {
            destination.Clear();
            return 0;
        }

        var scale = 127f / max;
        for (var i = 0; i < vector.Length; i++)
        {
            destination[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] * scale), -127, 127);
        }

        return 1f / scale;
    }

    private int AddSlot()
    {
        _identities.Add(null);
        return _identities.Count - 1;
    }

    private void RemoveLocked(string personId)
    {
        if (!_identitySlots.Remove(personId, out var slot))
        {
            return;
        }

        _identities[slot] = null;
        _freeSlots.Push(slot);
        // Swap-remove the identity's rows: order does not matter, contiguity does.
        for (var row = _rows - 1; row >= 0; row--)
        {
            if (_rowIdentity[row] != slot)
            {
                continue;
            }

            var last = _rows - 1;
            if (row != last)
            {
                Array.Copy(_vectors, last * Dimensions, _vectors, row * Dimensions, Dimensions);
                Array.Copy(_quantised, last * Dimensions, _quantised, row * Dimensions, Dimensions);
                _rowScales[row] = _rowScales[last];
                _rowIdentity[row] = _rowIdentity[last];
            }

            _rows--;
        }
    }

    private void AppendRowLocked(float[] embedding, int slot)
    {
        if (embedding.Length != Dimensions)
        {
            throw new ArgumentException($"An embedding has {embedding.Length} dimensions; the index holds {Dimensions}.", nameof(embedding));
        }

        if (_rows == _rowIdentity.Length)
        {
            var capacity = _rowIdentity.Length * 2;
            Array.Resize(ref _vectors, capacity * Dimensions);
            Array.Resize(ref _quantised, capacity * Dimensions);
            Array.Resize(ref _rowScales, capacity);
            Array.Resize(ref _rowIdentity, capacity);
        }

        embedding.CopyTo(_vectors, _rows * Dimensions);
        _rowScales[_rows] = Quantise(embedding, _quantised.AsSpan(_rows * Dimensions, Dimensions));
        _rowIdentity[_rows] = slot;
        _rows++;
    }

    /// <summary>The k best (row, score) pairs seen, kept in a small array (k is tiny).</summary>
    private sealed class TopK(int k)
    {
        private readonly int[] _rows = new int[k];
        private readonly float[] _scores = new float[k];
        private int _count;
        private float _worstKept = float.NegativeInfinity;

        public IEnumerable<int> Rows => _rows.Take(_count);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Offer(int row, float score)
        {
            if (_count == _rows.Length && score <= _worstKept)
            {
                return;
            }

            if (_count < _rows.Length)
            {
                _rows[_count] = row;
                _scores[_count++] = score;
                if (_count == _rows.Length)
                {
                    _worstKept = _scores.Min();
                }

                return;
            }

            var worst = 0;
            for (var i = 1; i < _count; i++)
            {
                if (_scores[i] < _scores[worst])
                {
                    worst = i;
                }
            }

            _rows[worst] = row;
            _scores[worst] = score;
            _worstKept = _scores.Min();
        }
    }
}
