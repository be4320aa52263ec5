using System.Globalization;
using System.Text;
using Assistants.Kit;

namespace Assistants.Kit.Benchmarks.Poller;

/// <summary>The <c>poller</c> console mode: prints the simulation's tables (Markdown) and the target verdicts.</summary>
internal static class PollerReport
{
    /// <summary>
    /// <c>poller [--runs N] [--seed S] [--sigma σ] [--max-near-ms MS] [--polls-per-window N] [--max-delay-ms MS]</c>: the
    /// last three change the kit's options, to try a tuning.
    /// </summary>
    public static int Run(string[] args)
    {
        var runs = PollerSimulation.DefaultRuns;
        var seed = PollerSimulation.DefaultSeed;
        var sigma = 0.5;
        var options = new RunPollingOptions();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--runs":
                    runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--seed":
                    seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--sigma":
                    sigma = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--max-near-ms": // what-if for the poller's owner: MaxDelayNearExpectedFinish
                    options.MaxDelayNearExpectedFinish = TimeSpan.FromMilliseconds(double.Parse(args[i + 1], CultureInfo.InvariantCulture));
                    break;
                case "--polls-per-window": // what-if: PollsPerExpectedWindow
                    options.PollsPerExpectedWindow = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--max-delay-ms": // what-if: MaxDelay
                    options.MaxDelay = TimeSpan.FromMilliseconds(double.Parse(args[i + 1], CultureInfo.InvariantCulture));
                    break;
            }
        }

        var distributions = PollerSimulation.Distributions.Select(d => d with { Sigma = sigma }).ToList();
        var figures = PollerSimulation.RunAll(runs, seed, options, distributions);
        Console.Write(Format(figures, runs, seed, sigma, options));
        return 0;
    }

    public static string Format(IReadOnlyList<PollerFigures> figures, int runs, int seed, double sigma, RunPollingOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.AppendLine(culture, $"Poller simulation (virtual time): {runs} runs per distribution, seed {seed}, log-normal σ = {sigma}, kit warmed on {PollerSimulation.WarmupRuns} runs of a separate sample.");
        text.AppendLine(culture, $"Kit options: InitialDelay {defaults.InitialDelay.TotalMilliseconds} ms, ×{defaults.BackoffFactor}, MaxColdDelay {defaults.MaxColdDelay.TotalSeconds} s, MinDelay {defaults.MinDelay.TotalMilliseconds} ms, MaxDelay {defaults.MaxDelay.TotalSeconds} s, jitter ±{defaults.Jitter:P0}, {defaults.PollsPerExpectedWindow} checks per p10–p90 window, ≤ {defaults.MaxDelayNearExpectedFinish.TotalSeconds} s near the expected finish.");
        foreach (var byHint in figures.GroupBy(f => f.Hint))
        {
            text.AppendLine();
            text.AppendLine(byHint.Key is { } h ? $"With a server hint (openai-poll-after-ms = {h.TotalMilliseconds:0}):" : "Without a server hint:");
            text.AppendLine();
            text.AppendLine("| runs | poller | requests / run | ×kit | mean lag (s) | p95 lag (s) |");
            text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
            foreach (var byDistribution in byHint.GroupBy(f => f.Distribution))
            {
                var kit = byDistribution.Single(f => f.Poller == PollerKind.Kit);
                foreach (var f in byDistribution)
                {
                    text.AppendLine(culture, $"| {f.Distribution} | {PollerSimulation.Label(f.Poller)} | {f.MeanRequests:0.00} | {f.MeanRequests / kit.MeanRequests:0.00} | {f.MeanLagSeconds:0.000} | {f.P95LagSeconds:0.000} |");
                }
            }
        }

        text.AppendLine();
        text.AppendLine("Targets:");
        text.AppendLine();
        foreach (var verdict in PollerTargets.Evaluate(figures))
        {
            text.AppendLine(culture, $"- {(verdict.Met ? "MET   " : "MISSED")} {verdict.Name} — {verdict.Detail}");
        }

        return text.ToString();
    }
}
