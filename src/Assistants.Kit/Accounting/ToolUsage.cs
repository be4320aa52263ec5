namespace Assistants.Kit;

/// <summary>What a run used of the built-in tools that are billed apart from tokens.</summary>
/// <param name="CodeInterpreterUsed">Whether the run called code interpreter at least once.</param>
/// <param name="FileSearchCalls">How many file search tool calls the run made.</param>
public readonly record struct ToolUsage(bool CodeInterpreterUsed = false, int FileSearchCalls = 0)
{
    /// <summary>Gets a run that used no billed tool.</summary>
    public static ToolUsage None => default;
}

/// <summary>How code interpreter sessions are counted.</summary>
public enum CodeInterpreterBilling
{
    /// <summary>
    /// As the provider bills the Assistants protocol: one session per thread per window of
    /// <see cref="AccountingOptions.CodeInterpreterSessionDuration"/> (one hour by default). A run that uses code
    /// interpreter on a thread whose session is still open is not charged again; two threads are two sessions.
    /// Sessions are tracked in this process, so several processes sharing a thread may each charge one (an overestimate).
    /// </summary>
    PerThreadSession,

    /// <summary>Every run that used code interpreter is charged one session (simpler, and an upper bound).</summary>
    PerRun,
}
