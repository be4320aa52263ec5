using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Diagnostics.Internal;

/// <summary>
/// Every log message of the kit's core (event IDs 1000–1999), source-generated. No message carries prompt, output or
/// argument content, and none carries a credential.
/// </summary>
internal static partial class KitLog
{
    [LoggerMessage(1000, LogLevel.Warning, "Retrying {Method} {Path} (status {Status}), attempt {Attempt} after {Delay}.")]
    public static partial void RetryingRequest(ILogger logger, string method, string path, int status, int attempt, TimeSpan delay);

    [LoggerMessage(1001, LogLevel.Warning, "{Operation} on {Path} failed ambiguously ({Reason}); reconciling with operation ID {OperationId}.")]
    public static partial void ReconcilingWrite(ILogger logger, string operation, string path, string reason, string operationId);

    [LoggerMessage(1002, LogLevel.Information, "{Operation} with operation ID {OperationId} had landed; adopted {ObjectId}.")]
    public static partial void AdoptedWrite(ILogger logger, string operation, string operationId, string objectId);

    [LoggerMessage(1003, LogLevel.Warning, "{Operation} with operation ID {OperationId} had not landed; sending it again (attempt {Attempt}).")]
    public static partial void ResendingWrite(ILogger logger, string operation, string operationId, int attempt);

    [LoggerMessage(1010, LogLevel.Information, "Created assistant {AssistantId} for definition '{Name}' version {Version}.")]
    public static partial void AssistantCreated(ILogger logger, string assistantId, string name, string version);

    [LoggerMessage(1011, LogLevel.Information, "Updated assistant {AssistantId} for definition '{Name}' to version {Version}.")]
    public static partial void AssistantUpdated(ILogger logger, string assistantId, string name, string version);

    [LoggerMessage(1012, LogLevel.Information, "Deleted duplicate assistant {AssistantId} for definition '{Name}' (kept {KeptId}).")]
    public static partial void AssistantDuplicateDeleted(ILogger logger, string assistantId, string name, string keptId);

    [LoggerMessage(1013, LogLevel.Warning, "The stored assistant {AssistantId} for definition '{Name}' no longer exists on the server; ensuring it again.")]
    public static partial void AssistantMissing(ILogger logger, string assistantId, string name);

    [LoggerMessage(1020, LogLevel.Warning, "The stored thread {ThreadId} of conversation '{ConversationKey}' no longer exists on the server; starting a new thread.")]
    public static partial void ThreadMissing(ILogger logger, string threadId, string conversationKey);

    [LoggerMessage(1021, LogLevel.Debug, "Created thread {ThreadId} for conversation '{ConversationKey}'.")]
    public static partial void ThreadCreated(ILogger logger, string threadId, string conversationKey);

    [LoggerMessage(1030, LogLevel.Debug, "Run {RunId} on {ThreadId} created for conversation '{ConversationKey}'.")]
    public static partial void RunCreated(ILogger logger, string runId, string threadId, string conversationKey);

    [LoggerMessage(1031, LogLevel.Debug, "Run {RunId} is {Status}; next check in {Delay}.")]
    public static partial void RunPolled(ILogger logger, string runId, string status, TimeSpan delay);

    [LoggerMessage(1032, LogLevel.Debug, "Run {RunId} on {ThreadId} ended {Status} after {Polls} status checks.")]
    public static partial void RunEnded(ILogger logger, string runId, string threadId, string status, int polls);

    [LoggerMessage(1033, LogLevel.Warning, "Run {RunId} on {ThreadId} failed with {Code}; re-running in {Delay} (attempt {Attempt} of {MaxAttempts}).")]
    public static partial void RunRerun(ILogger logger, string runId, string threadId, string code, TimeSpan delay, int attempt, int maxAttempts);

    [LoggerMessage(1034, LogLevel.Warning, "The wait for run {RunId} on {ThreadId} was cancelled by the caller; cancelling the run on the server.")]
    public static partial void CancellingRunAfterCallerCancellation(ILogger logger, string runId, string threadId);

    [LoggerMessage(1035, LogLevel.Warning, "Cancelling run {RunId} on {ThreadId} failed.")]
    public static partial void CancelRunFailed(ILogger logger, Exception exception, string runId, string threadId);

    [LoggerMessage(1036, LogLevel.Warning, "Run {RunId} on {ThreadId} did not end within {Timeout}; cancelling it.")]
    public static partial void RunTimedOut(ILogger logger, string runId, string threadId, TimeSpan timeout);

    [LoggerMessage(1037, LogLevel.Debug, "Run {RunId} requires {Count} tool outputs.")]
    public static partial void RunRequiresAction(ILogger logger, string runId, int count);

    [LoggerMessage(1038, LogLevel.Warning, "Run {RunId} on {ThreadId} was stopped by the kit: {Reason}.")]
    public static partial void RunStoppedByKit(ILogger logger, string runId, string threadId, string reason);

    [LoggerMessage(1040, LogLevel.Trace, "Conversation '{ConversationKey}' user message: {Content}")]
    public static partial void UserMessageContent(ILogger logger, string conversationKey, string content);

    [LoggerMessage(1041, LogLevel.Trace, "Run {RunId} assistant message {MessageId}: {Content}")]
    public static partial void AssistantMessageContent(ILogger logger, string runId, string messageId, string content);

    [LoggerMessage(1039, LogLevel.Information, "A new message arrived for conversation '{ConversationKey}': cancelling its active run {RunId} on {ThreadId} (cancel-active policy).")]
    public static partial void CancellingActiveRun(ILogger logger, string runId, string threadId, string conversationKey);

    [LoggerMessage(1042, LogLevel.Warning, "The tool outputs for run {RunId} on {ThreadId} were refused: the run is {Status}.")]
    public static partial void ToolOutputsRefused(ILogger logger, string runId, string threadId, string status);

    [LoggerMessage(1043, LogLevel.Warning, "The conversation observer {Observer} failed in {Method}.")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, string method);

    [LoggerMessage(1044, LogLevel.Information, "Resuming the journaled run of conversation '{ConversationKey}' (phase {Phase}, run {RunId}).")]
    public static partial void ResumingRun(ILogger logger, string conversationKey, string phase, string runId);

    [LoggerMessage(1045, LogLevel.Information, "Conversation '{ConversationKey}' rolled over from {OldThreadId} to {NewThreadId} ({Reason}).")]
    public static partial void RolledOver(ILogger logger, string conversationKey, string oldThreadId, string newThreadId, string reason);

    [LoggerMessage(1046, LogLevel.Information, "Resumed {Count} journaled runs at start.")]
    public static partial void ResumedAtStart(ILogger logger, int count);

    [LoggerMessage(1047, LogLevel.Error, "Resuming journaled runs at start failed.")]
    public static partial void ResumeFailed(ILogger logger, Exception exception);

    [LoggerMessage(1048, LogLevel.Information, "Tool {ToolName} (call {ToolCallId}) of conversation '{ConversationKey}' waits for approval.")]
    public static partial void ApprovalRequested(ILogger logger, string toolName, string toolCallId, string conversationKey);

    [LoggerMessage(1049, LogLevel.Information, "Tool call {ToolCallId} of conversation '{ConversationKey}' was {Decision}.")]
    public static partial void ApprovalDecided(ILogger logger, string toolCallId, string conversationKey, string decision);

    [LoggerMessage(1050, LogLevel.Error, "The approval expiry sweep failed.")]
    public static partial void ApprovalSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(1051, LogLevel.Debug, "The approval expiry sweep skipped call {ToolCallId}: {Reason}")]
    public static partial void ApprovalSweepSkipped(ILogger logger, string toolCallId, string reason);

    [LoggerMessage(1060, LogLevel.Warning, "The tool outputs of run {RunId} could not be added to conversation {ThreadId}; the next run of its key adds what is missing.")]
    public static partial void ToolOutputsNotAdded(ILogger logger, Exception exception, string runId, string threadId);
}
