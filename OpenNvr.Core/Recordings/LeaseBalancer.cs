namespace OpenNvr.Core.Recordings;

/// <summary>A live Recorder as the balancer sees it: its cap, its weight and the cameras it holds or is being handed.</summary>
public sealed record RecorderShare(string Id, int MaxCameras, double Weight);

/// <summary>One camera to move by graceful hand-off: <see cref="From"/> stops it, then <see cref="To"/> starts it.</summary>
public sealed record LeaseMove(int CameraId, string From, string To);

/// <summary>
/// The fair share of cameras per live Recorder and the fewest moves that reach it. Pure (no database, no clock), so
/// that every Core replica computes the same plan from the same rows. Shares are proportional to the Recorders'
/// weights (1 each by default: then counts differ by at most one), capped by each one's max_cameras; the cameras a
/// share rounds to go to the Recorders that already hold more, so that balancing never moves a camera for nothing.
/// </summary>
public static class LeaseBalancer
{
    /// <summary>How many of <paramref name="cameras"/> each Recorder should hold (summing to at most the cameras).</summary>
    public static IReadOnlyDictionary<string, int> Targets(int cameras, IReadOnlyList<RecorderShare> recorders, IReadOnlyDictionary<string, int> holding)
    {
        var targets = recorders.ToDictionary(r => r.Id, _ => 0, StringComparer.Ordinal);
        var open = recorders.Where(r => r.MaxCameras > 0 && r.Weight > 0).ToList();
        var remaining = cameras;

        // Water-filling: a Recorder whose proportional share passes its cap gets its cap, the rest is shared again.
        while (open.Count > 0 && remaining > 0)
        {
            var weights = open.Sum(r => r.Weight);
            var capped = open.Where(r => remaining * r.Weight / weights >= r.MaxCameras).ToList();
            if (capped.Count == 0)
            {
                break;
            }

            foreach (var recorder in capped)
            {
                targets[recorder.Id] = recorder.MaxCameras;
                remaining -= recorder.MaxCameras;
                open.Remove(recorder);
            }
        }

        if (open.Count == 0 || remaining <= 0)
        {
            return targets;
        }

        var total = open.Sum(r => r.Weight);
        var shares = open.Select(r => (Recorder: r, Exact: remaining * r.Weight / total)).ToList();
        foreach (var (recorder, exact) in shares)
        {
            targets[recorder.Id] = (int)Math.Floor(exact);
        }

        var left = remaining - shares.Sum(s => (int)Math.Floor(s.Exact));
        foreach (var (recorder, _) in shares
                     .OrderByDescending(s => s.Exact - Math.Floor(s.Exact))
                     .ThenByDescending(s => holding.GetValueOrDefault(s.Recorder.Id))
                     .ThenBy(s => s.Recorder.Id, StringComparer.Ordinal))
        {
            if (left == 0)
            {
                break;
            }

            if (targets[recorder.Id] < recorder.MaxCameras)
            {
                targets[recorder.Id]++;
                left--;
            }
        }

        return targets;
    }

    /// <summary>
    /// The hand-offs that bring <paramref name="leases"/> (camera → live holder; a camera already being handed over
    /// counts for its destination) to the targets of <paramref name="cameras"/> leasable cameras: each Recorder over
    /// its target gives away its newest cameras (highest ids) to the Recorders furthest under theirs.
    /// </summary>
    public static IReadOnlyList<LeaseMove> Plan(int cameras, IReadOnlyList<RecorderShare> recorders, IReadOnlyDictionary<int, string> leases)
    {
        var holding = recorders.ToDictionary(r => r.Id, r => leases.Count(l => l.Value == r.Id), StringComparer.Ordinal);
        var targets = Targets(cameras, recorders, holding);
        var deficits = recorders
            .Where(r => holding[r.Id] < targets[r.Id])
            .ToDictionary(r => r.Id, r => targets[r.Id] - holding[r.Id], StringComparer.Ordinal);
        var moves = new List<LeaseMove>();
        foreach (var recorder in recorders.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            var excess = holding[recorder.Id] - targets[recorder.Id];
            foreach (var cameraId in leases.Where(l => l.Value == recorder.Id).Select(l => l.Key).OrderDescending().Take(Math.Max(0, excess)))
            {
                var to = deficits.Where(d => d.Value > 0).OrderByDescending(d => d.Value).ThenBy(d => d.Key, StringComparer.Ordinal)
                    .Select(d => d.Key).FirstOrDefault();
                if (to is null)
                {
                    return moves;
                }

                deficits[to]--;
                moves.Add(new LeaseMove(cameraId, recorder.Id, to));
            }
        }

        return moves;
    }

    /// <summary>Where an unleased camera goes: the live Recorder furthest under its target, else the least loaded under its cap.</summary>
    public static string? PlaceOrphan(int cameras, IReadOnlyList<RecorderShare> recorders, IReadOnlyDictionary<string, int> holding)
    {
        var targets = Targets(cameras, recorders, holding);
        return recorders
            .Where(r => holding.GetValueOrDefault(r.Id) < r.MaxCameras)
            .OrderByDescending(r => targets[r.Id] - holding.GetValueOrDefault(r.Id))
            .ThenBy(r => holding.GetValueOrDefault(r.Id))
            .ThenBy(r => r.Id, StringComparer.Ordinal)
            .Select(r => r.Id)
            .FirstOrDefault();
    }
}
