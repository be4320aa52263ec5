namespace Assistants.Kit;

/// <summary>The status of a run, as the server reports it (the kit trusts the status field, never an event name).</summary>
public enum RunStatus
{
    /// <summary>Accepted, not started.</summary>
    Queued,

    /// <summary>The model is working.</summary>
    InProgress,

    /// <summary>The model called tools and waits for their outputs.</summary>
    RequiresAction,

    /// <summary>A cancel was requested; the run will end <see cref="Cancelled"/>.</summary>
    Cancelling,

    /// <summary>Ended: cancelled.</summary>
    Cancelled,

    /// <summary>Ended: failed (see the run's last error).</summary>
    Failed,

    /// <summary>Ended: completed.</summary>
    Completed,

    /// <summary>Ended early: a token limit was reached (see the incomplete reason).</summary>
    Incomplete,

    /// <summary>Ended: expired (tool outputs were not submitted in time, or the run took too long).</summary>
    Expired,
}

/// <summary>Helpers for <see cref="RunStatus"/>.</summary>
public static class RunStatusExtensions
{
    /// <summary>Returns whether the status is final.</summary>
    /// <param name="status">The status.</param>
    /// <returns><see langword="true"/> for completed, failed, cancelled, expired and incomplete.</returns>
    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Completed or RunStatus.Failed or RunStatus.Cancelled or RunStatus.Expired or RunStatus.Incomplete;

    /// <summary>Returns the wire name of the status, e.g. <c>requires_action</c>.</summary>
    /// <param name="status">The status.</param>
    /// <returns>The snake_case name the server uses.</returns>
    public static string ToWireString(this RunStatus status) => status switch
    {
        RunStatus.Queued => "queued",
        RunStatus.InProgress => "in_progress",
        RunStatus.RequiresAction => "requires_action",
        RunStatus.Cancelling => "cancelling",
        RunStatus.Cancelled => "cancelled",
        RunStatus.Failed => "failed",
        RunStatus.Completed => "completed",
        RunStatus.Incomplete => "incomplete",
        RunStatus.Expired => "expired",
        _ => status.ToString(),
    };
}
