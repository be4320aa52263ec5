using Assistants.Kit.Runs.Internal;

namespace Assistants.Kit.Tests.Runs;

public sealed class PollDelayCalculatorTests
{
    private static readonly RunPollingOptions Defaults = new() { Jitter = 0 };

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Theory]
    [InlineData(0, 200)]
    [InlineData(1, 300)]
    [InlineData(2, 450)]
    [InlineData(3, 675)]
    [InlineData(4, 1012.5)]
    [InlineData(5, 1518.75)]
    [InlineData(6, 2000)] // capped at MaxColdDelay
    [InlineData(40, 2000)]
    public void NextDelay_NoHistory_BacksOffExponentiallyToColdCap(int attempt, double expectedMs)
    {
        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(attempt, TimeSpan.Zero, null, null, 0.5, null), Defaults);
        Assert.Equal(Ms(expectedMs), delay);
    }

    [Fact]
    public void NextDelay_ServerHint_WinsOverEverything()
    {
        var estimate = new DurationEstimate(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(80));
        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(3, TimeSpan.FromSeconds(5), Ms(1234), estimate, 0.99, null), new RunPollingOptions());
        Assert.Equal(Ms(1234), delay); // exactly, no jitter, no clamping
    }

    [Fact]
    public void NextDelay_ServerHintIgnored_WhenDisabled()
    {
        var options = new RunPollingOptions { Jitter = 0, HonorServerHint = false };
        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(0, TimeSpan.Zero, Ms(4000), null, 0.5, null), options);
        Assert.Equal(Ms(200), delay);
    }

    [Fact]
    public void NextDelay_ServerHint_StillCappedByDeadline()
    {
        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(0, TimeSpan.Zero, Ms(5000), null, 0.5, Ms(700)), Defaults);
        Assert.Equal(Ms(700), delay);
    }

    [Theory]
    [InlineData(0, 20000)]     // before the early finish: half of the 40 s left
    [InlineData(30000, 5000)]  // half of the 10 s left
    [InlineData(39000, 1400)]  // half would be 500 ms: the dense interval (40 s window / 16 = 2.5 s, capped at 1.4 s)
    [InlineData(40000, 1400)]  // inside the expected window: dense
    [InlineData(79000, 1400)]
    public void NextDelay_WithHistory_SparseEarlyDenseAroundExpectedFinish(double elapsedMs, double expectedMs)
    {
        var estimate = new DurationEstimate(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(80));
        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(5, Ms(elapsedMs), null, estimate, 0.5, null), Defaults);
        Assert.Equal(Ms(expectedMs), delay);
    }

    [Fact]
    public void NextDelay_ShortRuns_DenseIntervalShrinksWithTheWindow()
    {
        // Runs of 1.6–2.4 s: an 800 ms window / 16 checks = 50 ms, raised to MinDelay (100 ms).
        var estimate = new DurationEstimate(Ms(1600), Ms(2000), Ms(2400));
        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(2, Ms(1700), null, estimate, 0.5, null), Defaults);
        Assert.Equal(Ms(100), delay);
    }

    [Fact]
    public void NextDelay_LateRun_BacksOffButStaysWithinMaxDelay()
    {
        var estimate = new DurationEstimate(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(80));
        var justLate = PollDelayCalculator.NextDelay(new PollDelayInput(9, TimeSpan.FromSeconds(81), null, estimate, 0.5, null), Defaults);
        var veryLate = PollDelayCalculator.NextDelay(new PollDelayInput(9, TimeSpan.FromSeconds(400), null, estimate, 0.5, null), Defaults);
        Assert.True(justLate > Ms(1600), $"just late: {justLate}");
        Assert.True(justLate < Ms(3000), $"just late: {justLate}");
        Assert.Equal(Defaults.MaxDelay, veryLate);
    }

    [Theory]
    [InlineData(0.0, 180)]
    [InlineData(0.5, 200)]
    [InlineData(1.0, 220)]
    public void NextDelay_Jitter_SpreadsSymmetrically(double random, double expectedMs)
    {
        var options = new RunPollingOptions { Jitter = 0.1 };
        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(0, TimeSpan.Zero, null, null, random, null), options);
        Assert.Equal(Ms(expectedMs), delay);
    }

    [Fact]
    public void NextDelay_NeverPastDeadline_AndZeroWhenPassed()
    {
        Assert.Equal(Ms(50), PollDelayCalculator.NextDelay(new PollDelayInput(10, TimeSpan.Zero, null, null, 0.5, Ms(50)), Defaults));
        Assert.Equal(TimeSpan.Zero, PollDelayCalculator.NextDelay(new PollDelayInput(10, TimeSpan.Zero, null, null, 0.5, Ms(-5)), Defaults));
    }

    [Fact]
    public void NextDelay_AdaptiveOff_IgnoresHistory()
    {
        var options = new RunPollingOptions { Jitter = 0, Adaptive = false };
        var estimate = new DurationEstimate(TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(80));
        Assert.Equal(Ms(200), PollDelayCalculator.NextDelay(new PollDelayInput(0, TimeSpan.Zero, null, estimate, 0.5, null), options));
    }

    [Fact]
    public void Tracker_ConvergesOnObservedDurations()
    {
        var tracker = new RunDurationTracker();
        Assert.Null(tracker.Estimate("asst_1", false, 5));
        for (var i = 0; i < 4; i++)
        {
            tracker.Record("asst_1", false, TimeSpan.FromSeconds(10));
        }

        Assert.Null(tracker.Estimate("asst_1", false, 5)); // not enough yet
        for (var s = 1; s <= 100; s++)
        {
            tracker.Record("asst_1", false, TimeSpan.FromSeconds(50 + (s % 21))); // 50..70 s
        }

        var estimate = tracker.Estimate("asst_1", false, 5)!.Value;
        Assert.InRange(estimate.Median.TotalSeconds, 58, 62);
        Assert.InRange(estimate.Early.TotalSeconds, 51, 54);
        Assert.InRange(estimate.Late.TotalSeconds, 66, 69);
        Assert.Null(tracker.Estimate("asst_1", true, 5)); // the after-tools wait is tracked separately
        Assert.Null(tracker.Estimate("asst_2", false, 5));
    }
}
