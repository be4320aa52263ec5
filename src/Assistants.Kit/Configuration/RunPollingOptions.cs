namespace Assistants.Kit;

/// <summary>
/// How the kit waits for a run. The delay before each status check is a pure function of the attempt, the time waited,
/// the server's <c>openai-poll-after-ms</c> hint, and the durations the kit has observed for the same assistant.
/// </summary>
/// <remarks>
/// <para>Precedence: the server's hint wins when <see cref="HonorServerHint"/> is on. Otherwise, once the kit has seen at
/// least <see cref="MinObservationsForAdaptation"/> runs of the same assistant, it polls sparsely until the earliest
/// expected finish (halving the remaining time with each check), densely inside the window where runs usually finish
/// (<see cref="PollsPerExpectedWindow"/> checks spread over it, never further apart than <see cref="MaxDelayNearExpectedFinish"/>),
/// and backs off again when a run is later than usual. Without history it uses exponential backoff from
/// <see cref="InitialDelay"/> by <see cref="BackoffFactor"/> up to <see cref="MaxColdDelay"/>. Every delay gets
/// ±<see cref="Jitter"/> random spread, stays within [<see cref="MinDelay"/>, <see cref="MaxDelay"/>], and never sleeps
/// past the run's <c>expires_at</c> or the <see cref="Timeout"/>.</para>
/// <para>Why: a fixed 1 s poller (openai-python) spends one request per second of run time; a fixed 5 s poller
/// (openai-node) detects completion 2.5 s late on average. Knowing how long an assistant's runs take lets the kit spend
/// its requests where runs actually finish.</para>
/// </remarks>
public sealed class RunPollingOptions
{
    /// <summary>Gets or sets the first delay without history. Default: 200 ms.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the growth of the delay per check without history, and when a run is late. Default: 1.5.</summary>
    public double BackoffFactor { get; set; } = 1.5;

    /// <summary>Gets or sets the longest delay without history. Default: 2 seconds.</summary>
    public TimeSpan MaxColdDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the shortest delay. Default: 100 ms.</summary>
    public TimeSpan MinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets the longest delay without history and when a run is later than usual (the sparse checks before an
    /// assistant's earliest expected finish may be longer). Default: 5 seconds.
    /// </summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the random spread applied to every computed delay (0.1 = ±10 %). Default: 0.1.</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>Gets or sets whether the server's <c>openai-poll-after-ms</c> header decides the delay. Default: <see langword="true"/>.</summary>
    public bool HonorServerHint { get; set; } = true;

    /// <summary>Gets or sets whether the schedule adapts to the durations observed for the same assistant. Default: <see langword="true"/>.</summary>
    public bool Adaptive { get; set; } = true;

    /// <summary>Gets or sets how many observed runs are needed before adapting. Default: 5.</summary>
    public int MinObservationsForAdaptation { get; set; } = 5;

    /// <summary>Gets or sets how many checks are spread over the window where runs usually finish. Default: 16.</summary>
    public int PollsPerExpectedWindow { get; set; } = 16;

    /// <summary>Gets or sets the longest delay inside that window (bounds the detection lag). Default: 1.4 seconds.</summary>
    public TimeSpan MaxDelayNearExpectedFinish { get; set; } = TimeSpan.FromSeconds(1.4);

    /// <summary>
    /// Gets or sets the longest the kit waits for one run (all tool rounds included) before cancelling it and throwing
    /// <see cref="RunTimeoutException"/>. Default: 10 minutes.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);
}
