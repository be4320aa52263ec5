namespace Assistants.Kit.Runs.Internal;

/// <summary>What the kit knows about how long runs of one assistant take (from observed durations).</summary>
/// <param name="Early">An early finish (about the 10th percentile).</param>
/// <param name="Median">The median.</param>
/// <param name="Late">A late finish (about the 90th percentile).</param>
internal readonly record struct DurationEstimate(TimeSpan Early, TimeSpan Median, TimeSpan Late);

/// <summary>The inputs of one delay decision.</summary>
/// <param name="Attempt">How many status checks were made already in this wait (0 before the first).</param>
/// <param name="Elapsed">How long the kit has been waiting in this wait.</param>
/// <param name="ServerHint">The server's <c>openai-poll-after-ms</c> from the last response, if any.</param>
/// <param name="Estimate">The observed durations for the assistant, if enough are known.</param>
/// <param name="Random">A random number in [0, 1).</param>
/// <param name="Remaining">Time left before the run's expiry or the kit's deadline, whichever is first; null when unknown.</param>
internal readonly record struct PollDelayInput(
    int Attempt,
    TimeSpan Elapsed,
    TimeSpan? ServerHint,
    DurationEstimate? Estimate,
    double Random,
    TimeSpan? Remaining);

/// <summary>The polling schedule as a pure function (see <see cref="RunPollingOptions"/> for the policy).</summary>
internal static class PollDelayCalculator
{
    public static TimeSpan NextDelay(in PollDelayInput input, RunPollingOptions options)
    {
        TimeSpan delay;
        if (options.HonorServerHint && input.ServerHint is { } hint && hint >= TimeSpan.Zero)
        {
            // The server knows best; honour it exactly (only the deadline can shorten it).
            delay = hint;
            return CapToRemaining(delay, input.Remaining);
        }

        var max = options.MaxDelay;
        if (options.Adaptive && input.Estimate is { } estimate)
        {
            delay = AdaptiveDelay(input.Elapsed, estimate, options);

            // Before the earliest expected finish the halving schedule may wait longer than MaxDelay: that is the point.
            if (input.Elapsed < estimate.Early)
            {
                max = TimeSpan.MaxValue;
            }
        }
        else
        {
            delay = ColdDelay(input.Attempt, options);
        }

        delay = ApplyJitter(delay, input.Random, options.Jitter);
        delay = Clamp(delay, options.MinDelay, max);
        return CapToRemaining(delay, input.Remaining);
    }

    private static TimeSpan ColdDelay(int attempt, RunPollingOptions options)
    {
        var factor = Math.Pow(Math.Max(1.0, options.BackoffFactor), Math.Min(attempt, 64));
        var ms = options.InitialDelay.TotalMilliseconds * factor;
        return TimeSpan.FromMilliseconds(Math.Min(ms, options.MaxColdDelay.TotalMilliseconds));
    }

    private static TimeSpan AdaptiveDelay(TimeSpan elapsed, DurationEstimate estimate, RunPollingOptions options)
    {
        var window = estimate.Late - estimate.Early;
        var dense = TimeSpan.FromTicks(Math.Max(window.Ticks, 0) / Math.Max(1, options.PollsPerExpectedWindow));
        dense = Clamp(dense, options.MinDelay, options.MaxDelayNearExpectedFinish);

        if (elapsed < estimate.Early)
        {
            // Sparse before the earliest expected finish: halve the remaining time with each check, so a run that is
            // unexpectedly fast is still found within half the time it took.
            var half = TimeSpan.FromTicks((estimate.Early - elapsed).Ticks / 2);
            return half < dense ? dense : half;
        }

        if (elapsed <= estimate.Late)
        {
            return dense;
        }

        // Later than usual: back off from the dense interval in proportion to how late the run is.
        var lateBy = elapsed - estimate.Late;
        var spread = Math.Max(Math.Max(window.TotalMilliseconds, dense.TotalMilliseconds), 1.0); // never 0 (identical durations, MinDelay 0)
        var steps = lateBy.TotalMilliseconds / spread;
        var ms = dense.TotalMilliseconds * Math.Pow(Math.Max(1.0, options.BackoffFactor), 1 + steps);
        return TimeSpan.FromMilliseconds(Math.Min(ms, options.MaxDelay.TotalMilliseconds));
    }

    private static TimeSpan ApplyJitter(TimeSpan delay, double random, double jitter)
    {
        if (jitter <= 0)
        {
            return delay;
        }

        var r = Math.Clamp(random, 0.0, 1.0);
        var factor = 1.0 + (((r * 2.0) - 1.0) * jitter);
        return TimeSpan.FromTicks((long)(delay.Ticks * factor));
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) =>
        value < min ? min : value > max ? max : value;

    private static TimeSpan CapToRemaining(TimeSpan delay, TimeSpan? remaining)
    {
        if (remaining is { } r)
        {
            if (r <= TimeSpan.Zero)
            {
                return TimeSpan.Zero;
            }

            if (delay > r)
            {
                return r;
            }
        }

        return delay;
    }
}
