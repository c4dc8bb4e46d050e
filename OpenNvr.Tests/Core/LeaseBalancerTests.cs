using OpenNvr.Core.Recordings;

namespace OpenNvr.Tests.Core;

/// <summary>Fair shares and the fewest hand-offs that reach them.</summary>
public sealed class LeaseBalancerTests
{
    private static RecorderShare R(string id, int max = 32, double weight = 1) => new(id, max, weight);

    [Theory]
    [InlineData(4, 2, new[] { 2, 2 })]
    [InlineData(4, 3, new[] { 2, 1, 1 })]
    [InlineData(7, 3, new[] { 3, 2, 2 })]
    [InlineData(2, 3, new[] { 1, 1, 0 })]
    [InlineData(0, 2, new[] { 0, 0 })]
    public void Equal_weights_give_counts_that_differ_by_at_most_one(int cameras, int recorders, int[] expected)
    {
        var shares = Enumerable.Range(0, recorders).Select(i => R($"r{i}")).ToList();

        var targets = LeaseBalancer.Targets(cameras, shares, new Dictionary<string, int>());

        Assert.Equal(expected, shares.Select(s => targets[s.Id]));
    }

    [Fact]
    public void The_rounded_up_share_goes_to_who_already_holds_more()
    {
        var shares = new[] { R("a"), R("b"), R("c") };

        var targets = LeaseBalancer.Targets(4, shares, new Dictionary<string, int> { ["a"] = 0, ["b"] = 0, ["c"] = 4 });

        Assert.Equal([1, 1, 2], shares.Select(s => targets[s.Id]));
    }

    [Fact]
    public void Weights_and_caps_shape_the_shares()
    {
        var shares = new[] { R("big", weight: 3), R("small", weight: 1), R("capped", max: 1, weight: 4) };

        var targets = LeaseBalancer.Targets(9, shares, new Dictionary<string, int>());

        // capped would get 4.5 of 9: it takes its 1; the other 8 go 3:1.
        Assert.Equal([6, 2, 1], shares.Select(s => targets[s.Id]));
    }

    [Fact]
    public void More_cameras_than_capacity_fill_every_cap()
    {
        var targets = LeaseBalancer.Targets(10, [R("a", max: 3), R("b", max: 2)], new Dictionary<string, int>());

        Assert.Equal((3, 2), (targets["a"], targets["b"]));
    }

    [Fact]
    public void A_joining_recorder_gets_its_share_by_moving_the_newest_cameras_of_the_fullest()
    {
        var leases = new Dictionary<int, string> { [1] = "a", [2] = "a", [3] = "b", [4] = "b" };

        var moves = LeaseBalancer.Plan(4, [R("a"), R("b"), R("c")], leases);

        // 2/2/0 becomes 2/1/1 or 1/2/1: one move, never more.
        var move = Assert.Single(moves);
        Assert.Equal("c", move.To);
        Assert.Contains(move.From, new[] { "a", "b" });
        Assert.Equal(move.From == "a" ? 2 : 4, move.CameraId);
    }

    [Fact]
    public void A_balanced_split_plans_no_move()
    {
        var leases = new Dictionary<int, string> { [1] = "a", [2] = "b", [3] = "a", [4] = "b", [5] = "c" };

        Assert.Empty(LeaseBalancer.Plan(5, [R("a"), R("b"), R("c")], leases));
    }

    [Fact]
    public void Three_one_becomes_two_two_with_one_move()
    {
        var leases = new Dictionary<int, string> { [1] = "a", [2] = "a", [3] = "a", [4] = "b" };

        var moves = LeaseBalancer.Plan(4, [R("a"), R("b")], leases);

        Assert.Equal([new LeaseMove(3, "a", "b")], moves);
    }

    [Fact]
    public void Orphans_go_to_the_recorder_furthest_under_its_share()
    {
        var shares = new[] { R("a"), R("b"), R("c", max: 0) };

        Assert.Equal("b", LeaseBalancer.PlaceOrphan(4, shares, new Dictionary<string, int> { ["a"] = 2, ["b"] = 1 }));
        Assert.Null(LeaseBalancer.PlaceOrphan(1, [R("full", max: 1)], new Dictionary<string, int> { ["full"] = 1 }));
    }
}
