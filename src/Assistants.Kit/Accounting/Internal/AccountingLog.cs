using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Accounting.Internal;

/// <summary>Source-generated log methods of accounting and budgets (event IDs 3000–3999).</summary>
internal static partial class AccountingLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning,
        Message = "No price for model '{Model}': its usage is recorded with cost=unknown. Add it under AssistantsKit:Accounting:Prices. (Logged once per model.)")]
    public static partial void UnknownModelPrice(ILogger logger, string model);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "Run refused by budget '{BudgetName}' ({Scope} {ScopeValue}, {Period} {Window}): {Reason}; limit={Limit} spent={Spent} reserved={Reserved} requested={Requested} {Unit}. Nothing was sent.")]
    public static partial void BudgetRefused(
        ILogger logger, string budgetName, BudgetScope scope, string? scopeValue, BudgetPeriod period, string window,
        BudgetRefusalReason reason, decimal limit, decimal spent, decimal reserved, decimal requested, BudgetUnit unit);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning,
        Message = "Budget '{BudgetName}' ({Scope} {ScopeValue}) exhausted during run {RunId}: spent={Spent} limit={Limit} {Unit}; behavior={Behavior}.")]
    public static partial void BudgetExhaustedDuringRun(
        ILogger logger, string budgetName, BudgetScope scope, string? scopeValue, string? runId, decimal spent, decimal limit,
        BudgetUnit unit, BudgetOverrunBehavior behavior);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning,
        Message = "Budget '{BudgetName}' ({Scope} {ScopeValue}, {Period} {Window}) reached {Threshold:P0} of its limit: spent={Spent} limit={Limit} {Unit}.")]
    public static partial void BudgetThresholdReached(
        ILogger logger, string budgetName, BudgetScope scope, string? scopeValue, BudgetPeriod period, string window,
        decimal threshold, decimal spent, decimal limit, BudgetUnit unit);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error,
        Message = "A budget alert sink ({SinkType}) threw for budget '{BudgetName}'; the run is not affected.")]
    public static partial void AlertSinkFailed(ILogger logger, Exception exception, string sinkType, string budgetName);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug,
        Message = "Run step {StepId} of run {RunId} (thread {ThreadId}): type={StepType} status={StepStatus} tools={ToolCalls} input={InputTokens} cached={CachedInputTokens} output={OutputTokens} reasoning={ReasoningTokens} latency_ms={LatencyMs}")]
    public static partial void RunStep(
        ILogger logger, string stepId, string? runId, string? threadId, RunStepType stepType, RunStepState stepStatus, string toolCalls,
        long inputTokens, long cachedInputTokens, long outputTokens, long reasoningTokens, double? latencyMs);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Debug,
        Message = "Run {RunId} (thread {ThreadId}, conversation {ConversationKey}, assistant {AssistantId}, model {Model}): input={InputTokens} cached={CachedInputTokens} output={OutputTokens} reasoning={ReasoningTokens} steps={StepCount} code_interpreter_sessions={CodeInterpreterSessions} file_search_calls={FileSearchCalls} cost={Cost} conversation_cost={ConversationCost}")]
    public static partial void RunAccounted(
        ILogger logger, string? runId, string? threadId, string conversationKey, string? assistantId, string? model,
        long inputTokens, long cachedInputTokens, long outputTokens, long reasoningTokens, int stepCount,
        int codeInterpreterSessions, int fileSearchCalls, string cost, string conversationCost);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information,
        Message = "Run {RunId} (conversation {ConversationKey}) ended without completing; recorded the usage of its reported steps.")]
    public static partial void RunAbandoned(ILogger logger, string? runId, string conversationKey);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Error,
        Message = "Recording the usage of run {RunId} (conversation {ConversationKey}) failed; the reservation was released.")]
    public static partial void RecordingFailed(ILogger logger, Exception exception, string? runId, string conversationKey);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug,
        Message = "Vector store {VectorStoreId}: {GigabyteDays} GB-days accrued, cost={Cost}.")]
    public static partial void VectorStorageAccrued(ILogger logger, string vectorStoreId, decimal gigabyteDays, decimal cost);
}
