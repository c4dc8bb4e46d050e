namespace OpenNvr.Recorder.Analytics.Tracking;

/// <summary>
/// Constant-velocity Kalman filter of a box's centre, width and height, in continuous time (frames come at any
/// rate; the step is the time between their capture times).
/// <para>
/// The four quantities move independently (the motion and noise models are diagonal, as in SORT and ByteTrack), so
/// the 8x8 covariance stays block-diagonal and the filter is exactly four two-state filters (value, rate of change)
/// side by side: no matrix inversion, a few dozen multiplications per step. Every noise is a multiple of the box's
/// height, so a walker 40 px tall far from the camera and one 300 px tall close to it are gated alike.
/// </para>
/// </summary>
public struct BoxKalmanFilter
{
    private Axis _cx;
    private Axis _cy;
    private Axis _w;
    private Axis _h;

    public BoxKalmanFilter(in TrackBox box, TrackerOptions options)
    {
        var h = Math.Max(1, box.Height);
        var positionVariance = Square(options.MeasurementNoise * h);
        var sizeVariance = Square(options.SizeMeasurementNoise * h);
        _cx = new Axis(box.CenterX, positionVariance, Square(options.InitialVelocityStd * h));
        _cy = new Axis(box.CenterY, positionVariance, Square(options.InitialVelocityStd * h));
        _w = new Axis(box.Width, sizeVariance, Square(options.InitialSizeVelocityStd * h));
        _h = new Axis(box.Height, sizeVariance, Square(options.InitialSizeVelocityStd * h));
    }

    /// <summary>The box where the filter expects it now.</summary>
    public readonly TrackBox Box => TrackBox.FromCenter(_cx.Value, _cy.Value, Math.Max(1, _w.Value), Math.Max(1, _h.Value));

    /// <summary>Velocity of the centre, pixels per second.</summary>
    public readonly (double X, double Y) Velocity => (_cx.Rate, _cy.Rate);

    /// <summary>Moves the state <paramref name="seconds"/> ahead (white-noise acceleration model).</summary>
    public void Predict(double seconds, TrackerOptions options)
    {
        if (seconds <= 0)
        {
            return;
        }

        var h = Math.Max(1, _h.Value);
        var position = Square(options.AccelerationNoise * h);
        var size = Square(options.SizeAccelerationNoise * h);
        _cx.Predict(seconds, position);
        _cy.Predict(seconds, position);
        _w.Predict(seconds, size);
        _h.Predict(seconds, size);
        if (_w.Value < 1)
        {
            _w.Value = 1;
        }

        if (_h.Value < 1)
        {
            _h.Value = 1;
        }
    }

    /// <summary>
    /// Squared Mahalanobis distance of <paramref name="box"/>'s centre from the predicted centre (2 degrees of
    /// freedom: 9.21 is the 99 % gate). Uncertain tracks (new, or unseen for a while) have wide gates by themselves.
    /// </summary>
    public readonly double CenterDistanceSquared(in TrackBox box, TrackerOptions options)
    {
        var r = Square(options.MeasurementNoise * Math.Max(1, _h.Value));
        var dx = box.CenterX - _cx.Value;
        var dy = box.CenterY - _cy.Value;
        return dx * dx / (_cx.Variance + r) + dy * dy / (_cy.Variance + r);
    }

    /// <summary>Corrects the state with a detected box.</summary>
    public void Update(in TrackBox box, TrackerOptions options)
    {
        var h = Math.Max(1, _h.Value);
        var position = Square(options.MeasurementNoise * h);
        var size = Square(options.SizeMeasurementNoise * h);
        _cx.Update(box.CenterX, position);
        _cy.Update(box.CenterY, position);
        _w.Update(box.Width, size);
        _h.Update(box.Height, size);
    }

    private static double Square(double value) => value * value;

    /// <summary>One quantity and its rate of change, with their 2x2 covariance [[A, B], [B, C]].</summary>
    private struct Axis(double value, double valueVariance, double rateVariance)
    {
        public double Value = value;
        public double Rate;
        public double A = valueVariance;
        public double B;
        public double C = rateVariance;

        public readonly double Variance => A;

        /// <summary>x' = F x, P' = F P F' + Q with F = [[1, dt], [0, 1]] and Q = q [[dt^3/3, dt^2/2], [dt^2/2, dt]].</summary>
        public void Predict(double dt, double q)
        {
            Value += Rate * dt;
            var dt2 = dt * dt;
            A += 2 * dt * B + dt2 * C + q * dt2 * dt / 3;
            B += dt * C + q * dt2 / 2;
            C += q * dt;
        }

        /// <summary>Measures the value (H = [1, 0]) with variance <paramref name="r"/>.</summary>
        public void Update(double measured, double r)
        {
            var s = A + r;
            var k0 = A / s;
            var k1 = B / s;
            var innovation = measured - Value;
            Value += k0 * innovation;
            Rate += k1 * innovation;
            // P' = (I - K H) P, written out for the symmetric 2x2 block.
            var a = A;
            var b = B;
            A = a - k0 * a;
            B = b - k0 * b;
            C -= k1 * b;
        }
    }
}
