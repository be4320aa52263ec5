namespace Assistants.Kit;

/// <summary>
/// Options of <see cref="AssistantFiles"/>, bound from the configuration section <see cref="SectionName"/> (for example
/// <c>AssistantsKit:Files:Processing:Timeout</c>) and from <c>AddFiles(…)</c>.
/// </summary>
public sealed class AssistantFilesOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "AssistantsKit:Files";

    /// <summary>Gets or sets how the kit waits until added files are processed (indexed) by the service.</summary>
    public FileProcessingOptions Processing { get; set; } = new();
}

/// <summary>
/// How <see cref="AssistantFiles"/> waits for a file batch: the kit's polling engine (the same pure delay function runs
/// use) with exponential backoff from <see cref="InitialDelay"/> by <see cref="BackoffFactor"/> up to
/// <see cref="MaxDelay"/>, ±<see cref="Jitter"/>, the server's <c>openai-poll-after-ms</c> when it sends one, and a
/// deadline: after <see cref="Timeout"/> the wait throws <see cref="FileProcessingTimeoutException"/>. Cancelling the
/// caller's token stops the wait; the service keeps processing (re-ingesting later finds the files).
/// </summary>
public sealed class FileProcessingOptions
{
    /// <summary>Gets or sets the first delay. Default: 500 ms.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the growth of the delay per check. Default: 1.5.</summary>
    public double BackoffFactor { get; set; } = 1.5;

    /// <summary>Gets or sets the longest delay. Default: 10 seconds.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the random spread applied to every delay (0.1 = ±10 %). Default: 0.1.</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>Gets or sets whether the server's <c>openai-poll-after-ms</c> header decides the delay. Default: <see langword="true"/>.</summary>
    public bool HonorServerHint { get; set; } = true;

    /// <summary>Gets or sets the longest the kit waits for one ingestion's files to be processed. Default: 30 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The same schedule in the shape the kit's polling engine takes (no adaptation: file batches have no history).</summary>
    internal RunPollingOptions ToPolling() => new()
    {
        InitialDelay = InitialDelay,
        BackoffFactor = BackoffFactor,
        MaxColdDelay = MaxDelay,
        MaxDelay = MaxDelay,
        MinDelay = TimeSpan.Zero,
        Jitter = Jitter,
        HonorServerHint = HonorServerHint,
        Adaptive = false,
        Timeout = Timeout,
    };
}
