namespace Assistants.Kit;

/// <summary>The outcome of a run that ended <c>completed</c>, <c>incomplete</c>, <c>cancelled</c> or <c>expired</c>.</summary>
/// <remarks>A run that ends <c>failed</c> throws <see cref="RunFailedException"/> instead.</remarks>
public sealed class RunResult
{
    /// <summary>Initializes a new instance of the <see cref="RunResult"/> class.</summary>
    /// <param name="conversationKey">The application's conversation key.</param>
    /// <param name="threadId">The thread or conversation ID.</param>
    /// <param name="runId">The run ID.</param>
    /// <param name="assistantId">The assistant ID.</param>
    /// <param name="status">The final status.</param>
    /// <param name="messages">The assistant messages the run added, oldest first.</param>
    public RunResult(string conversationKey, string threadId, string runId, string assistantId, RunStatus status, IReadOnlyList<AssistantMessage> messages)
    {
        ConversationKey = conversationKey;
        ThreadId = threadId;
        RunId = runId;
        AssistantId = assistantId;
        Status = status;
        Messages = messages;
    }

    /// <summary>Gets the application's conversation key.</summary>
    public string ConversationKey { get; }

    /// <summary>Gets the thread (or conversation) ID.</summary>
    public string ThreadId { get; }

    /// <summary>Gets the ID of the run that produced the result (the last one, when a failed run was re-run).</summary>
    public string RunId { get; }

    /// <summary>Gets the assistant ID.</summary>
    public string AssistantId { get; }

    /// <summary>Gets the final status.</summary>
    public RunStatus Status { get; }

    /// <summary>Gets the assistant messages the run added, oldest first.</summary>
    public IReadOnlyList<AssistantMessage> Messages { get; }

    /// <summary>Gets the text of <see cref="Messages"/>, joined with newlines.</summary>
    public string Text => string.Join("\n", Messages.Select(m => m.Text));

    /// <summary>Gets the run's token usage (summed over re-runs), when the server reported it.</summary>
    public TokenUsage? Usage { get; init; }

    /// <summary>Gets the reason an <see cref="RunStatus.Incomplete"/> run stopped: <c>max_completion_tokens</c> or <c>max_prompt_tokens</c>.</summary>
    public string? IncompleteReason { get; init; }

    /// <summary>Gets the tool calls executed during the run, in completion order.</summary>
    public IReadOnlyList<ToolCallRecord> ToolCalls { get; init; } = [];

    /// <summary>Gets the version (hash) of the assistant definition the run used.</summary>
    public string? DefinitionVersion { get; init; }

    /// <summary>Gets a value indicating whether the run ended <see cref="RunStatus.Completed"/>.</summary>
    public bool IsCompleted => Status == RunStatus.Completed;

    /// <summary>Gets the run's steps (type, tool calls, status, usage, latency), when the step log is on.</summary>
    public IReadOnlyList<RunStepRecord> Steps { get; init; } = [];

    /// <summary>Gets what the run cost and the conversation's totals so far; <see cref="RunCostSummary.Cost"/> is null for an unpriced model.</summary>
    public RunCostSummary? Cost { get; init; }

    /// <summary>
    /// Gets the tool calls waiting for a person's approval. When not empty, the run is paused in
    /// <see cref="RunStatus.RequiresAction"/>: decide with <see cref="AssistantRunner.ApproveAsync"/> or
    /// <see cref="AssistantRunner.RejectAsync"/> (from any process) to continue it.
    /// </summary>
    public IReadOnlyList<ToolApproval> PendingApprovals { get; init; } = [];

    /// <summary>Gets a value indicating whether the run waits for approvals.</summary>
    public bool IsAwaitingApproval => PendingApprovals.Count > 0;

    /// <summary>Gets the reason the kit stopped the run itself (loop guard, budget), when it did, as text.</summary>
    public string? StopReason { get; init; }

    /// <summary>
    /// Gets why the tool-loop guard stopped the run (<see cref="ToolLoopStopReason.MaxToolRounds"/> or
    /// <see cref="ToolLoopStopReason.RepeatedCall"/>), or <see langword="null"/> when it did not (the run's
    /// <see cref="Status"/> is then <see cref="RunStatus.Cancelled"/> and <see cref="StopReason"/> names the tool).
    /// </summary>
    public ToolLoopStopReason? ToolLoopStop { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"Run {RunId} on {ThreadId}: {Status.ToWireString()}";
}
