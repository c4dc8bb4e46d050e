namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>
/// Minimum-cost one-to-one assignment of rows to columns (the Hungarian method with potentials and shortest
/// augmenting paths, O(n^2 m)). Pairs whose cost is <see cref="Forbidden"/> or more are never returned: a row may stay
/// unassigned. One instance per tracker; its buffers are reused between frames.
/// </summary>
public sealed class LinearAssignment
{
    /// <summary>Cost of a pair that must not be assigned (outside the gate).</summary>
    public const double Forbidden = 1e6;

    private double[] _u = [];
    private double[] _v = [];
    private int[] _p = [];
    private int[] _way = [];
    private double[] _minv = [];
    private bool[] _used = [];

    /// <summary>
    /// Solves for <paramref name="rows"/> x <paramref name="columns"/> costs given row-major in <paramref name="cost"/>;
    /// writes the column of each row (or -1) into <paramref name="rowToColumn"/>.
    /// </summary>
    public void Solve(ReadOnlySpan<double> cost, int rows, int columns, Span<int> rowToColumn)
    {
        rowToColumn[..rows].Fill(-1);
        if (rows == 0 || columns == 0)
        {
            return;
        }

        if (rows <= columns)
        {
            Run(cost, rows, columns, transposed: false, rowToColumn);
        }
        else
        {
            // The method needs rows <= columns: solve the transposed problem and read it back.
            Run(cost, columns, rows, transposed: true, rowToColumn);
        }
    }

    private void Run(ReadOnlySpan<double> cost, int n, int m, bool transposed, Span<int> rowToColumn)
    {
        Ensure(n, m);
        Array.Clear(_u, 0, n + 1);
        Array.Clear(_v, 0, m + 1);
        Array.Clear(_p, 0, m + 1);
        Array.Clear(_way, 0, m + 1);
        // Row i (1-based) of the working problem; column j (1-based). _p[j] = row assigned to column j.
        for (var i = 1; i <= n; i++)
        {
            _p[0] = i;
            var j0 = 0;
            Array.Fill(_minv, double.PositiveInfinity, 0, m + 1);
            Array.Clear(_used, 0, m + 1);
            do
            {
                _used[j0] = true;
                var i0 = _p[j0];
                var delta = double.PositiveInfinity;
                var j1 = 0;
                for (var j = 1; j <= m; j++)
                {
                    if (_used[j])
                    {
                        continue;
                    }

                    var c = At(cost, i0 - 1, j - 1, n, m, transposed) - _u[i0] - _v[j];
                    if (c < _minv[j])
                    {
                        _minv[j] = c;
                        _way[j] = j0;
                    }

                    if (_minv[j] < delta)
                    {
                        delta = _minv[j];
                        j1 = j;
                    }
                }

                for (var j = 0; j <= m; j++)
                {
                    if (_used[j])
                    {
                        _u[_p[j]] += delta;
                        _v[j] -= delta;
                    }
                    else
                    {
                        _minv[j] -= delta;
                    }
                }

                j0 = j1;
            }
            while (_p[j0] != 0);

            do
            {
                var j1 = _way[j0];
                _p[j0] = _p[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        for (var j = 1; j <= m; j++)
        {
            if (_p[j] == 0)
            {
                continue;
            }

            var row = _p[j] - 1;
            var column = j - 1;
            if (At(cost, row, column, n, m, transposed) >= Forbidden)
            {
                continue;
            }

            if (transposed)
            {
                rowToColumn[column] = row;
            }
            else
            {
                rowToColumn[row] = column;
            }
        }
    }

    // Working problem (n x m) over the caller's matrix, which is m x n when transposed.
    private static double At(ReadOnlySpan<double> cost, int row, int column, int n, int m, bool transposed) =>
        transposed ? cost[column * n + row] : cost[row * m + column];

    private void Ensure(int n, int m)
    {
        if (_u.Length < n + 1)
        {
            _u = new double[n + 1];
        }

        if (_v.Length < m + 1)
        {
            _v = new double[m + 1];
            _p = new int[m + 1];
            _way = new int[m + 1];
            _minv = new double[m + 1];
            _used = new bool[m + 1];
        }
    }
}
