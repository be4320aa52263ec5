using Assistants.Kit.Runs.Internal;

namespace Assistants.Kit.Benchmarks.Poller;

/// <summary>A seeded distribution of run durations: log-normal with the given median and σ (of the log).</summary>
/// <param name="Name">The label used in tables.</param>
/// <param name="MedianSeconds">The median duration.</param>
/// <param name="Sigma">The standard deviation of the duration's natural log.</param>
internal sealed record RunDurationDistribution(string Name, double MedianSeconds, double Sigma)
{
    /// <summary>Draws <paramref name="count"/> durations with a seeded generator (Box–Muller).</summary>
    public TimeSpan[] Sample(int count, int seed)
    {
        var random = new Random(seed);
        var durations = new TimeSpan[count];
        for (var i = 0; i < count; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
            durations[i] = TimeSpan.FromSeconds(MedianSeconds * Math.Exp(Sigma * z));
        }

        return durations;
    }
}

/// <summary>The pollers compared.</summary>
public enum PollerKind
{
    /// <summary>The kit's default <see cref="RunPollingOptions"/>, warmed on a separate sample of the same distribution.</summary>
    Kit,

    /// <summary>The kit's default with no history (the cold exponential schedule), for reference.</summary>
    KitCold,

    /// <summary>openai-python <c>runs.poll</c>: GET at once, then every 1 s; honours <c>openai-poll-after-ms</c>.</summary>
    OpenAIPython,

    /// <summary>Semantic Kernel <c>OpenAIAssistantAgent</c>: GET at once, twice after 500 ms, then every 1 s; ignores the hint.</summary>
    SemanticKernel,

    /// <summary>openai-node <c>runs.poll</c>: GET at once, then every 5 s; honours <c>openai-poll-after-ms</c>.</summary>
    OpenAINode,
}

/// <summary>The figures of one poller on one distribution.</summary>
internal sealed record PollerFigures(
    PollerKind Poller,
    string Distribution,
    TimeSpan? Hint,
    int Runs,
    double MeanRequests,
    double MeanLagSeconds,
    double P95LagSeconds,
    bool HintHonouredExactly)
{
    /// <summary>Whether this poller is better than <paramref name="other"/> on both requests and mean lag.</summary>
    public bool DominatesOnMean(PollerFigures other) => MeanRequests < other.MeanRequests && MeanLagSeconds < other.MeanLagSeconds;

    /// <summary>Whether this poller is better than <paramref name="other"/> on both requests and p95 lag.</summary>
    public bool DominatesOnP95(PollerFigures other) => MeanRequests < other.MeanRequests && P95LagSeconds < other.P95LagSeconds;
}

/// <summary>
/// Virtual-time simulation of waiting for runs: no HTTP and no clock, only the delay schedules. A run created at t = 0
/// finishes at its drawn duration D; each poller checks at the times its schedule gives; the first check at or after D
/// detects it. Requests = status checks (GET run) per run; lag = detection time − D.
/// </summary>
/// <remarks>
/// <para>The kit's side is its real code: <see cref="PollDelayCalculator.NextDelay"/> with <see cref="RunDurationTracker"/>
/// fed exactly as <c>RunEngine.PollUntilSettledAsync</c> feeds it (after each run, the detected duration minus half the
/// last delay), the default <see cref="RunPollingOptions"/> (jitter included, from a seeded generator), the create
/// response's hint used for the first delay. Warm-up: <see cref="WarmupRuns"/> runs of a separate sample of the same
/// distribution go through the same loop first and are not counted.</para>
/// <para>The peers are the simple functions they are (defaults from shared research anchors §1–2): openai-python
/// <c>poll()</c> retrieves first and then sleeps <c>poll_interval_ms</c> or the header or 1,000 ms (constant hint: every
/// sleep is the hint); openai-node <c>pollWithResponse</c> the same with a 5,000 ms default and the header read on every
/// iteration; Semantic Kernel's <c>PollRunStatusAsync</c> retrieves first, then waits <c>RunPollingInterval</c> = 500 ms
/// while the iteration count is ≤ <c>RunPollingBackoffThreshold</c> = 2 and <c>RunPollingBackoff</c> = 1 s after, and
/// never reads the header.</para>
/// </remarks>
internal static class PollerSimulation
{
    public const int DefaultSeed = 20261125;
    public const int DefaultRuns = 2_000;
    public const int WarmupRuns = 64;
    private const string AssistantId = "asst_sim";

    /// <summary>The distributions of the report: log-normal around 2, 10 and 60 s, σ = 0.5.</summary>
    public static readonly IReadOnlyList<RunDurationDistribution> Distributions =
    [
        new("~2 s", 2, 0.5),
        new("~10 s", 10, 0.5),
        new("~60 s", 60, 0.5),
    ];

    /// <summary>The server hint used in the "with hint" half of the report.</summary>
    public static readonly TimeSpan ServerHint = TimeSpan.FromMilliseconds(750);

    public static IReadOnlyList<PollerKind> Pollers { get; } = Enum.GetValues<PollerKind>();

    /// <summary>Simulates every poller on every distribution, without and with the server hint.</summary>
    public static IReadOnlyList<PollerFigures> RunAll(
        int runs = DefaultRuns, int seed = DefaultSeed, RunPollingOptions? kitOptions = null, IReadOnlyList<RunDurationDistribution>? distributions = null)
    {
        distributions ??= Distributions;
        var figures = new List<PollerFigures>();
        foreach (TimeSpan? hint in new TimeSpan?[] { null, ServerHint })
        {
            for (var d = 0; d < distributions.Count; d++)
            {
                foreach (var poller in Pollers)
                {
                    figures.Add(Simulate(poller, distributions[d], hint, runs, seed + (d * 7919), kitOptions));
                }
            }
        }

        return figures;
    }

    /// <summary>Simulates one poller on <paramref name="runs"/> runs drawn from <paramref name="distribution"/>.</summary>
    public static PollerFigures Simulate(
        PollerKind poller, RunDurationDistribution distribution, TimeSpan? hint, int runs, int seed, RunPollingOptions? kitOptions = null)
    {
        var options = kitOptions ?? new RunPollingOptions();
        var durations = distribution.Sample(runs, seed);
        var jitter = new Random(seed ^ 0x5EED);
        var tracker = new RunDurationTracker();
        var hintHonoured = true;

        if (poller == PollerKind.Kit)
        {
            foreach (var warm in distribution.Sample(WarmupRuns, seed + 1))
            {
                _ = WaitKit(warm, hint, options, tracker, jitter, ref hintHonoured);
            }
        }

        var requests = 0L;
        var lags = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            (int checks, TimeSpan detectedAt) = poller switch
            {
                PollerKind.Kit => WaitKit(durations[i], hint, options, tracker, jitter, ref hintHonoured),
                PollerKind.KitCold => WaitKit(durations[i], hint, options, tracker: null, jitter, ref hintHonoured),
                _ => WaitPeer(poller, durations[i], hint),
            };
            requests += checks;
            lags[i] = (detectedAt - durations[i]).TotalSeconds;
        }

        Array.Sort(lags);
        return new PollerFigures(
            poller,
            distribution.Name,
            hint,
            runs,
            (double)requests / runs,
            lags.Average(),
            Percentile(lags, 0.95),
            hint is null || hintHonoured);
    }

    /// <summary>The kit's loop (RunEngine.PollUntilSettledAsync) in virtual time.</summary>
    private static (int Checks, TimeSpan DetectedAt) WaitKit(
        TimeSpan duration, TimeSpan? hint, RunPollingOptions options, RunDurationTracker? tracker, Random random, ref bool hintHonoured)
    {
        var now = TimeSpan.Zero;
        var lastDelay = TimeSpan.Zero;
        var attempt = 0;
        while (true)
        {
            var estimate = options.Adaptive && tracker is not null
                ? tracker.Estimate(AssistantId, afterToolOutputs: false, options.MinObservationsForAdaptation)
                : null;
            var remaining = options.Timeout - now;
            lastDelay = PollDelayCalculator.NextDelay(new PollDelayInput(attempt, now, hint, estimate, random.NextDouble(), remaining), options);
            if (hint is { } h && lastDelay != h && lastDelay != remaining)
            {
                hintHonoured = false;
            }

            now += lastDelay;
            attempt++;
            if (now >= duration)
            {
                tracker?.Record(AssistantId, afterToolOutputs: false, now - (lastDelay / 2));
                return (attempt, now);
            }

            if (now >= options.Timeout)
            {
                return (attempt, now); // the kit gives up (never reached by these distributions)
            }
        }
    }

    private static (int Checks, TimeSpan DetectedAt) WaitPeer(PollerKind poller, TimeSpan duration, TimeSpan? hint)
    {
        var now = TimeSpan.Zero;
        for (var check = 0; ; check++)
        {
            now += PeerDelay(poller, check, hint);
            if (now >= duration)
            {
                return (check + 1, now);
            }
        }
    }

    /// <summary>The delay a peer waits before its <paramref name="check"/>-th status check (0-based).</summary>
    internal static TimeSpan PeerDelay(PollerKind poller, int check, TimeSpan? hint)
    {
        if (check == 0)
        {
            return TimeSpan.Zero; // every peer retrieves right after creating the run, then sleeps
        }

        return poller switch
        {
            PollerKind.OpenAIPython => hint ?? TimeSpan.FromSeconds(1),
            PollerKind.OpenAINode => hint ?? TimeSpan.FromSeconds(5),
            PollerKind.SemanticKernel => check > 2 ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(500),
            _ => throw new ArgumentOutOfRangeException(nameof(poller), poller, "Not a peer."),
        };
    }

    private static double Percentile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = (int)Math.Ceiling(position);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }

    /// <summary>The label of a poller in tables.</summary>
    public static string Label(PollerKind poller) => poller switch
    {
        PollerKind.Kit => "kit default (warmed)",
        PollerKind.KitCold => "kit default, no history",
        PollerKind.OpenAIPython => "fixed 1 s (openai-python)",
        PollerKind.SemanticKernel => "500 ms ×2 then 1 s (Semantic Kernel)",
        PollerKind.OpenAINode => "fixed 5 s (openai-node)",
        _ => poller.ToString(),
    };
}

/// <summary>One target of the poller comparison and whether the kit meets it.</summary>
/// <param name="Name">The target.</param>
/// <param name="Met">Whether it is met.</param>
/// <param name="Detail">The figures behind the verdict.</param>
internal sealed record PollerTargetVerdict(string Name, bool Met, string Detail);

/// <summary>The targets of the poller comparison, evaluated on simulated figures.</summary>
internal static class PollerTargets
{
    public static IReadOnlyList<PollerTargetVerdict> Evaluate(IReadOnlyList<PollerFigures> figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var verdicts = new List<PollerTargetVerdict>();
        foreach (var group in figures.GroupBy(f => (f.Distribution, f.Hint)))
        {
            var kit = group.Single(f => f.Poller == PollerKind.Kit);
            var hint = group.Key.Hint is { } h ? $"hint {h.TotalMilliseconds:0} ms" : "no hint";
            foreach (var peer in group.Where(f => f.Poller is not (PollerKind.Kit or PollerKind.KitCold)))
            {
                verdicts.Add(new(
                    $"{group.Key.Distribution}, {hint}: {PollerSimulation.Label(peer.Poller)} not better on both requests and mean lag",
                    !peer.DominatesOnMean(kit),
                    $"kit {kit.MeanRequests:0.00} req / {kit.MeanLagSeconds:0.000} s; peer {peer.MeanRequests:0.00} req / {peer.MeanLagSeconds:0.000} s"));
                verdicts.Add(new(
                    $"{group.Key.Distribution}, {hint}: {PollerSimulation.Label(peer.Poller)} not better on both requests and p95 lag",
                    !peer.DominatesOnP95(kit),
                    $"kit {kit.MeanRequests:0.00} req / p95 {kit.P95LagSeconds:0.000} s; peer {peer.MeanRequests:0.00} req / p95 {peer.P95LagSeconds:0.000} s"));
            }

            if (group.Key.Hint is { } honoured)
            {
                verdicts.Add(new($"{group.Key.Distribution}: the hint ({honoured.TotalMilliseconds:0} ms) is honoured exactly", kit.HintHonouredExactly, kit.HintHonouredExactly ? "every delay equals the hint" : "a delay differed from the hint"));
            }
        }

        var sixty = figures.Where(f => f.Distribution == "~60 s" && f.Hint is null).ToList();
        var kit60 = sixty.Single(f => f.Poller == PollerKind.Kit);
        var python60 = sixty.Single(f => f.Poller == PollerKind.OpenAIPython);
        verdicts.Add(new(
            "~60 s, no hint: kit requests ≤ half of fixed 1 s",
            kit60.MeanRequests <= python60.MeanRequests / 2,
            $"kit {kit60.MeanRequests:0.00} vs fixed 1 s {python60.MeanRequests:0.00} (ratio {kit60.MeanRequests / python60.MeanRequests:0.000})"));
        verdicts.Add(new(
            "~60 s, no hint: kit mean lag ≤ 1 s",
            kit60.MeanLagSeconds <= 1.0,
            $"kit mean lag {kit60.MeanLagSeconds:0.000} s"));
        return verdicts;
    }
}
