using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Definitions.Internal;
using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Runs.Internal;

/// <summary>What a run belongs to and what the engine accumulated while it ran.</summary>
internal sealed class RunContext
{
    public RunContext(string? conversationKey, string threadId, EnsuredAssistant? assistant, string? userMessageId, RunOptions? options, DateTimeOffset startedAt)
    {
        ConversationKey = conversationKey;
        ThreadId = threadId;
        Assistant = assistant;
        UserMessageId = userMessageId;
        Options = options;
        StartedAt = startedAt;
    }

    public string? ConversationKey { get; }

    public string ThreadId { get; }

    /// <summary>Gets or sets the assistant (replaced when it had to be ensured again).</summary>
    public EnsuredAssistant? Assistant { get; set; }

    public string? UserMessageId { get; }

    public RunOptions? Options { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Gets the tool calls executed so far, in completion order.</summary>
    public List<ToolCallRecord> ToolCalls { get; } = [];

    /// <summary>Gets or sets the usage of earlier (failed, re-run) attempts.</summary>
    public TokenUsage? EarlierUsage { get; set; }

    public RunAccountingSession? Accounting { get; set; }

    public IReadOnlyList<RunStepRecord> Steps { get; set; } = [];

    /// <summary>
    /// Gets the steps of the run's model turns that finished before the current one, when each turn has its own ID
    /// (<see cref="Protocols.Internal.IProtocolBackend.ToolOutputsContinueInNewRun"/>; Responses: one step per response).
    /// </summary>
    public List<RunStepRecord> EarlierTurnSteps { get; } = [];

    /// <summary>Gets the assistant messages of those earlier model turns (they belong to the run's result).</summary>
    public List<AssistantMessage> EarlierTurnMessages { get; } = [];

    /// <summary>Gets or sets why the kit stopped the run itself (loop guard, budget).</summary>
    public string? StopReason { get; set; }

    /// <summary>Why the tool-loop guard stopped the run, when it did.</summary>
    public ToolLoopStopReason? ToolLoopStop { get; set; }

    public ToolLoopGuard? LoopGuard { get; set; }

    public int Attempts { get; set; } = 1;

    /// <summary>Gets or sets the approvals the run waits for (gated tool calls), when it stopped to wait for a person.</summary>
    public IReadOnlyList<ToolApproval> AwaitingApprovals { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether the run is being resumed from the journal after a crash.</summary>
    public bool Resuming { get; set; }

    /// <summary>Gets or sets the run's <c>invoke_agent</c> span.</summary>
    public System.Diagnostics.Activity? Activity { get; set; }

    /// <summary>Gets or sets when the run's telemetry started (a <see cref="TimeProvider"/> timestamp).</summary>
    public long TelemetryStart { get; set; }

    /// <summary>Gets or sets the status checks made so far.</summary>
    public int Polls { get; set; }

    /// <summary>Gets or sets the error type to record when the run's telemetry ends without a result.</summary>
    public string? ErrorType { get; set; }

    /// <summary>Gets or sets a value indicating whether the run-finished event was raised.</summary>
    public bool FinishRaised { get; set; }

    /// <summary>Gets or sets the last run snapshot seen (for the run-finished event when the wait ends early).</summary>
    public Protocols.Internal.RunSnapshot? LastRun { get; set; }

    /// <summary>Gets or sets a value indicating whether the run was counted in the active-runs metric.</summary>
    public bool CountedActive { get; set; }

    /// <summary>Gets or sets a value indicating whether the run's telemetry has ended.</summary>
    public bool TelemetryEnded { get; set; }

    /// <summary>Gets the operation ID the run was created with (reconciliation, stream recovery).</summary>
    public string? RunOperationId { get; set; }
}
