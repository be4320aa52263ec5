using System.Globalization;

namespace Assistants.Kit;

/// <summary>What a run step did.</summary>
public enum RunStepType
{
    /// <summary>The model wrote a message.</summary>
    MessageCreation,

    /// <summary>The model called tools.</summary>
    ToolCalls,
}

/// <summary>Where a run step is in its life.</summary>
public enum RunStepState
{
    /// <summary>The step is running.</summary>
    InProgress,

    /// <summary>The step completed.</summary>
    Completed,

    /// <summary>The step failed.</summary>
    Failed,

    /// <summary>The step was cancelled.</summary>
    Cancelled,

    /// <summary>The step expired.</summary>
    Expired,
}

/// <summary>The kind of a tool call in a run step.</summary>
public enum RunStepToolCallKind
{
    /// <summary>A function (the app's own tool).</summary>
    Function,

    /// <summary>The built-in code interpreter (billed per session).</summary>
    CodeInterpreter,

    /// <summary>The built-in file search (billed per call).</summary>
    FileSearch,

    /// <summary>Any other built-in tool.</summary>
    Other,
}

/// <summary>A tool call made in a run step, with what the built-in tools returned.</summary>
/// <param name="Id">The tool call ID.</param>
/// <param name="Kind">The kind of tool.</param>
/// <param name="Name">The function name, for <see cref="RunStepToolCallKind.Function"/>; the tool type otherwise.</param>
public sealed record RunStepToolCall(string Id, RunStepToolCallKind Kind, string? Name = null)
{
    /// <summary>Gets the results of a file search call (with their text: the kit's client asks for it with <c>include[]</c>).</summary>
    public IReadOnlyList<FileSearchResult> FileSearchResults { get; init; } = [];

    /// <summary>Gets the code a code interpreter call ran.</summary>
    public string? CodeInterpreterInput { get; init; }

    /// <summary>Gets the logs of a code interpreter call.</summary>
    public IReadOnlyList<string> CodeInterpreterLogs { get; init; } = [];

    /// <summary>Gets the image files a code interpreter call produced (download them with <c>AssistantFiles</c>).</summary>
    public IReadOnlyList<string> CodeInterpreterImageFileIds { get; init; } = [];
}

/// <summary>
/// One step of a run (Assistants run step; on Responses, one response of the tool loop), with its usage and latency.
/// </summary>
/// <param name="StepId">The step ID (Assistants) or response ID (Responses).</param>
/// <param name="Type">What the step did.</param>
/// <param name="Status">Where the step is.</param>
/// <param name="ToolCalls">The tool calls of the step (empty for a message step).</param>
/// <param name="Usage">The step's tokens; <see langword="null"/> until the step is finished.</param>
/// <param name="CreatedAt">When the step was created.</param>
/// <param name="CompletedAt">When the step finished (completed, failed, cancelled or expired).</param>
public sealed record RunStepRecord(
    string StepId,
    RunStepType Type,
    RunStepState Status,
    IReadOnlyList<RunStepToolCall> ToolCalls,
    TokenUsage? Usage,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt)
{
    /// <summary>Gets the step's latency, created to finished; <see langword="null"/> while it runs.</summary>
    public TimeSpan? Latency => CompletedAt is { } completed ? completed - CreatedAt : null;

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"step {StepId} {Type} {Status} tools=[{string.Join(",", ToolCalls.Select(c => c.Name ?? c.Kind.ToString()))}] {(Usage is { } u ? u.ToString() : "usage=none")} latency={(Latency is { } l ? $"{l.TotalMilliseconds:0}ms" : "n/a")}");
}

/// <summary>What a run cost, with its conversation's totals so far. <see cref="ToString"/> prints <c>cost=unknown</c> for an unpriced model.</summary>
public sealed record RunCostSummary
{
    /// <summary>Gets the model the run was priced as (as the service reported it).</summary>
    public string? Model { get; init; }

    /// <summary>Gets the run's tokens.</summary>
    public TokenUsage Usage { get; init; }

    /// <summary>Gets the cost of the tokens in US dollars; <see langword="null"/> when the model is not priced.</summary>
    public decimal? TokenCost { get; init; }

    /// <summary>Gets the tool fees in US dollars (code interpreter sessions and file search calls).</summary>
    public decimal ToolCost { get; init; }

    /// <summary>Gets the run's cost in US dollars; <see langword="null"/> when the model is not priced.</summary>
    public decimal? Cost => TokenCost + ToolCost;

    /// <summary>Gets the code interpreter sessions charged to the run.</summary>
    public int CodeInterpreterSessions { get; init; }

    /// <summary>Gets the file search calls charged to the run.</summary>
    public int FileSearchCalls { get; init; }

    /// <summary>Gets the run's steps, in the order they were first reported.</summary>
    public IReadOnlyList<RunStepRecord> Steps { get; init; } = [];

    /// <summary>Gets the totals of the run's conversation key, all time, this run included.</summary>
    public UsageTotals ConversationTotals { get; init; } = UsageTotals.Empty;

    /// <summary>Gets whether a budget asked for the run to stop.</summary>
    public bool StoppedByBudget { get; init; }

    /// <summary>Formats a cost as the kit prints it: invariant dollars, or <c>unknown</c>.</summary>
    /// <param name="cost">The cost.</param>
    /// <returns>The text.</returns>
    public static string FormatCost(decimal? cost) =>
        cost is { } value ? "$" + value.ToString(CultureInfo.InvariantCulture) : "unknown";

    /// <inheritdoc />
    public override string ToString() =>
        $"model={Model ?? "unknown"} {Usage} cost={FormatCost(Cost)} conversation_cost={FormatCost(ConversationTotals.Cost)}{(ConversationTotals.CostIsComplete ? string.Empty : "+unknown")}";
}
