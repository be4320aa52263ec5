namespace Assistants.Kit;

/// <summary>
/// An opt-in policy that starts a new run when a run ends <c>failed</c> with a transient error code
/// (<c>rate_limit_exceeded</c> or <c>server_error</c>): users see rate limits as failed runs, not as HTTP 429s.
/// </summary>
public sealed class FailedRunRetryOptions
{
    /// <summary>Gets or sets how many times a failed run is re-run. Default: 0 (off).</summary>
    public int MaxAttempts { get; set; }

    /// <summary>Gets or sets the delay before the first re-run; doubled for each further one. Default: 2 seconds.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets the run error codes that are re-run. Default: <c>rate_limit_exceeded</c>, <c>server_error</c>.</summary>
    public ISet<string> ErrorCodes { get; } = new HashSet<string>(StringComparer.Ordinal) { "rate_limit_exceeded", "server_error" };
}
