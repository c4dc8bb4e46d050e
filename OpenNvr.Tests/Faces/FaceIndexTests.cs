using OpenNvr.Inference.Faces;

namespace OpenNvr.Tests.Faces;

/// <summary>The in-memory index: its quantised first pass must never change the answer of an exact scan.</summary>
public sealed class FaceIndexTests
{
    private const int Dimensions = 512;

    [Fact]
    public void Search_returns_what_an_exact_scan_returns_on_thousands_of_identities()
    {
        var random = new Random(42);
        var index = new FaceIndex(Dimensions, initialCapacity: 16);
        var identities = Enumerable.Range(0, 3000).Select(i => new IndexedIdentity($"p{i}", $"Person {i}", FaceCategories.All[i % 5])).ToList();
        var vectors = identities.ToDictionary(i => i.PersonId, _ => new List<float[]> { RandomUnit(random), RandomUnit(random) });
        foreach (var identity in identities)
        {
            index.Set(identity.PersonId, identity, vectors[identity.PersonId]);
        }

        Assert.Equal(3000, index.IdentityCount);
        Assert.Equal(6000, index.EmbeddingCount);
        for (var q = 0; q < 50; q++)
        {
            // Queries near a stored vector (similarity about 0.5-0.9), as a real second photo would be.
            var target = identities[random.Next(identities.Count)];
            var query = Near(vectors[target.PersonId][random.Next(2)], random.NextSingle() * 0.9f + 0.3f, random);
            foreach (var category in new string?[] { null, FaceCategories.Watchlist })
            {
                var fast = index.Search(query, 0.4f, category, limit: 5);
                var exact = index.SearchExact(query, 0.4f, category, limit: 5);
                Assert.Equal(exact.Select(m => (m.Identity.PersonId, MathF.Round(m.Similarity, 5))), fast.Select(m => (m.Identity.PersonId, MathF.Round(m.Similarity, 5))));
                Assert.All(fast, m => Assert.True(category is null || m.Identity.Category == category));
            }

            var top = Assert.Single(index.Search(vectors[target.PersonId][0], 0.99f));
            Assert.Equal(target.PersonId, top.Identity.PersonId);
            Assert.Equal(1f, top.Similarity, 4);
        }
    }

    [Fact]
    public void The_quantisation_error_stays_well_inside_the_rescoring_margin()
    {
        var random = new Random(7);
        var worst = 0f;
        for (var i = 0; i < 2000; i++)
        {
            var a = RandomUnit(random);
            var b = Near(a, random.NextSingle(), random);
            var qa = new sbyte[Dimensions];
            var qb = new sbyte[Dimensions];
            var approximate = FaceIndex.DotInt8(qa, qb); // zero before quantising
            Assert.Equal(0, approximate);
            var scaleA = FaceIndex.Quantise(a, qa);
            var scaleB = FaceIndex.Quantise(b, qb);
            var error = MathF.Abs(FaceIndex.DotInt8(qa, qb) * scaleA * scaleB - FaceIndex.Dot(a, b));
            worst = MathF.Max(worst, error);
        }

        Assert.True(worst < FaceIndex.QuantisationMargin / 5, $"worst error {worst}");
    }

    [Fact]
    public void Setting_an_identity_again_replaces_its_rows_and_null_removes_it()
    {
        var random = new Random(3);
        var index = new FaceIndex(Dimensions);
        var a = RandomUnit(random);
        var b = RandomUnit(random);
        var c = RandomUnit(random);
        index.Set("x", new IndexedIdentity("x", "X", FaceCategories.Employee), [a, b]);
        index.Set("y", new IndexedIdentity("y", "Y", FaceCategories.Watchlist), [c]);

        index.Set("x", new IndexedIdentity("x", "X2", FaceCategories.Vip), [b]);

        Assert.Equal(2, index.EmbeddingCount);
        Assert.Empty(index.Search(a, 0.9f));
        var match = Assert.Single(index.Search(b, 0.9f));
        Assert.Equal(("X2", FaceCategories.Vip), (match.Identity.Name, match.Identity.Category));
        Assert.Equal("y", Assert.Single(index.Search(c, 0.9f, FaceCategories.Watchlist)).Identity.PersonId);
        Assert.Empty(index.Search(c, 0.9f, FaceCategories.Employee));

        index.Set("y", null, []);

        Assert.False(index.Contains("y"));
        Assert.Equal(1, index.IdentityCount);
        Assert.Empty(index.Search(c, 0.9f));
        Assert.Throws<ArgumentException>(() => index.Search(new float[128], 0.5f));
    }

    [Fact]
    public void Simd_dot_products_equal_scalar_sums()
    {
        var random = new Random(11);
        var a = Enumerable.Range(0, Dimensions).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var b = Enumerable.Range(0, Dimensions).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var qa = a.Select(v => (sbyte)(v * 200)).ToArray();
        var qb = b.Select(v => (sbyte)(v * 200)).ToArray();

        Assert.Equal(a.Zip(b).Sum(p => (double)p.First * p.Second), FaceIndex.Dot(a, b), 4);
        Assert.Equal(qa.Zip(qb).Sum(p => p.First * p.Second), FaceIndex.DotInt8(qa, qb));
    }

    private static float[] RandomUnit(Random random)
    {
        var v = Enumerable.Range(0, Dimensions).Select(_ => (float)Gaussian(random)).ToArray();
        return FaceTensors.L2Normalise(v);
    }

    /// <summary>A unit vector with cosine similarity about <paramref name="similarity"/> to <paramref name="v"/>.</summary>
    private static float[] Near(float[] v, float similarity, Random random)
    {
        var noise = RandomUnit(random);
        var mixed = v.Zip(noise, (x, n) => similarity * x + MathF.Sqrt(1 - similarity * similarity) * n).ToArray();
        return FaceTensors.L2Normalise(mixed);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
