using Assistants.Kit.Benchmarks.Poller;
using Assistants.Kit.Runs.Internal;

namespace Assistants.Kit.Tests.Performance;

/// <summary>
/// The poller targets on the virtual-time simulation (bench/…/Poller/PollerSimulation.cs): request counts and simulated
/// lags, deterministic with the seed — no wall-clock timing. The same figures are printed by
/// <c>dotnet run -c Release --project bench/Assistants.Kit.Benchmarks -- poller</c>.
/// </summary>
public sealed class PollerSimulationTests
{
    private static readonly Lazy<IReadOnlyList<PollerFigures>> Figures = new(() => PollerSimulation.RunAll());

    private static IReadOnlyList<PollerTargetVerdict> Verdicts => PollerTargets.Evaluate(Figures.Value);

    [Fact]
    public void No_peer_is_better_on_both_requests_and_mean_lag_at_any_duration()
    {
        var missed = Verdicts.Where(v => v.Name.Contains("mean lag", StringComparison.Ordinal) && v.Name.Contains("not better", StringComparison.Ordinal) && !v.Met).ToList();

        Assert.True(missed.Count == 0, string.Join(Environment.NewLine, missed.Select(v => $"{v.Name}: {v.Detail}")));
    }

    [Fact]
    public void No_peer_is_better_on_both_requests_and_p95_lag_at_any_duration()
    {
        var missed = Verdicts.Where(v => v.Name.Contains("p95 lag", StringComparison.Ordinal) && !v.Met).ToList();

        Assert.True(missed.Count == 0, string.Join(Environment.NewLine, missed.Select(v => $"{v.Name}: {v.Detail}")));
    }

    [Fact]
    public void The_server_hint_is_honoured_exactly()
    {
        var hinted = Verdicts.Where(v => v.Name.Contains("honoured exactly", StringComparison.Ordinal)).ToList();

        Assert.Equal(PollerSimulation.Distributions.Count, hinted.Count);
        Assert.All(hinted, v => Assert.True(v.Met, v.Detail));

        // And exactly the hint's schedule: one check per hint interval, the first one hint after the create.
        var kit = Figures.Value.Where(f => f.Poller == PollerKind.Kit && f.Hint is not null).ToList();
        var python = Figures.Value.Where(f => f.Poller == PollerKind.OpenAIPython && f.Hint is not null).ToList();
        for (var i = 0; i < kit.Count; i++)
        {
            Assert.Equal(python[i].MeanRequests - 1, kit[i].MeanRequests, 9); // python honours it too, after an immediate check
            Assert.Equal(python[i].MeanLagSeconds, kit[i].MeanLagSeconds, 9);
        }
    }

    [Fact]
    public void Sixty_second_runs_take_at_most_half_the_requests_of_a_fixed_one_second_poller()
    {
        var verdict = Verdicts.Single(v => v.Name.Contains("≤ half of fixed 1 s", StringComparison.Ordinal));

        Assert.True(verdict.Met, verdict.Detail);
    }

    [Fact]
    public void Sixty_second_runs_are_detected_at_most_one_second_late_on_average()
    {
        var verdict = Verdicts.Single(v => v.Name.Contains("mean lag ≤ 1 s", StringComparison.Ordinal));

        Assert.True(verdict.Met, verdict.Detail);
    }

    [Fact]
    public void The_simulation_is_deterministic_for_a_seed()
    {
        var distribution = PollerSimulation.Distributions[1];

        var first = PollerSimulation.Simulate(PollerKind.Kit, distribution, null, 300, seed: 42);
        var second = PollerSimulation.Simulate(PollerKind.Kit, distribution, null, 300, seed: 42);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Zero_MinDelay_with_identical_observed_durations_gives_a_delay()
    {
        var options = new RunPollingOptions { MinDelay = TimeSpan.Zero, Jitter = 0 };
        var estimate = new DurationEstimate(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));

        var delay = PollDelayCalculator.NextDelay(new PollDelayInput(3, TimeSpan.FromSeconds(3), null, estimate, 0.5, TimeSpan.FromMinutes(5)), options);

        Assert.InRange(delay, TimeSpan.Zero, options.MaxDelay);
    }

    [Theory]
    [InlineData(PollerKind.OpenAIPython, new[] { 0, 1000, 1000, 1000 })]
    [InlineData(PollerKind.SemanticKernel, new[] { 0, 500, 500, 1000, 1000 })]
    [InlineData(PollerKind.OpenAINode, new[] { 0, 5000, 5000 })]
    public void Peer_schedules_are_their_published_defaults(PollerKind poller, int[] delaysMs)
    {
        var actual = delaysMs.Select((_, check) => (int)PollerSimulation.PeerDelay(poller, check, hint: null).TotalMilliseconds);

        Assert.Equal(delaysMs, actual);
    }

    [Theory]
    [InlineData(PollerKind.OpenAIPython, 750)]
    [InlineData(PollerKind.OpenAINode, 750)]
    [InlineData(PollerKind.SemanticKernel, 500)]
    public void Peers_that_read_the_hint_follow_it_and_Semantic_Kernel_does_not(PollerKind poller, int secondDelayMs)
    {
        Assert.Equal(secondDelayMs, (int)PollerSimulation.PeerDelay(poller, 1, TimeSpan.FromMilliseconds(750)).TotalMilliseconds);
    }
}
