using OpenNvr.Recorder.Analytics.Tracking;

namespace OpenNvr.Tests.Tracking;

public sealed class LinearAssignmentTests
{
    [Fact]
    public void Finds_the_minimum_total_cost_where_greedy_choice_would_not()
    {
        // Greedy takes (0,0)=1 first and is then left with (1,1)=10: total 11. The optimum is 2 + 3 = 5.
        double[] cost = [1, 2, 3, 10];
        var assignment = new int[2];

        new LinearAssignment().Solve(cost, 2, 2, assignment);

        Assert.Equal([1, 0], assignment);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(2, 5)]
    [InlineData(5, 2)]
    [InlineData(6, 6)]
    public void Agrees_with_brute_force_on_random_rectangular_problems_with_forbidden_pairs(int rows, int columns)
    {
        var random = new Random(rows * 31 + columns);
        var solver = new LinearAssignment();
        for (var trial = 0; trial < 200; trial++)
        {
            var cost = new double[rows * columns];
            for (var i = 0; i < cost.Length; i++)
            {
                cost[i] = random.NextDouble() < 0.3 ? LinearAssignment.Forbidden : Math.Round(random.NextDouble() * 10, 2);
            }

            var assignment = new int[rows];
            solver.Solve(cost, rows, columns, assignment);

            var (bestPairs, bestCost) = BruteForce(cost, rows, columns);
            var pairs = assignment.Count(c => c >= 0);
            var total = assignment.Select((c, r) => c >= 0 ? cost[r * columns + c] : 0).Sum();
            Assert.Equal(bestPairs, pairs);
            Assert.Equal(bestCost, total, 6);
            Assert.Equal(pairs, assignment.Where(c => c >= 0).Distinct().Count());
            Assert.All(assignment.Select((c, r) => (c, r)).Where(x => x.c >= 0), x => Assert.True(cost[x.r * columns + x.c] < LinearAssignment.Forbidden));
        }
    }

    [Fact]
    public void Empty_problems_assign_nothing()
    {
        var assignment = new[] { 5, 5 };
        new LinearAssignment().Solve([], 2, 0, assignment);
        Assert.Equal([-1, -1], assignment);
    }

    // Most allowed pairs first, then the least total cost among those: what the tracker wants.
    private static (int Pairs, double Cost) BruteForce(double[] cost, int rows, int columns)
    {
        var best = (Pairs: -1, Cost: double.PositiveInfinity);
        var used = new bool[columns];
        void Search(int row, int pairs, double total)
        {
            if (row == rows)
            {
                if (pairs > best.Pairs || (pairs == best.Pairs && total < best.Cost - 1e-9))
                {
                    best = (pairs, total);
                }

                return;
            }

            Search(row + 1, pairs, total); // row unassigned
            for (var c = 0; c < columns; c++)
            {
                var value = cost[row * columns + c];
                if (!used[c] && value < LinearAssignment.Forbidden)
                {
                    used[c] = true;
                    Search(row + 1, pairs + 1, total + value);
                    used[c] = false;
                }
            }
        }

        Search(0, 0, 0);
        return best;
    }
}
