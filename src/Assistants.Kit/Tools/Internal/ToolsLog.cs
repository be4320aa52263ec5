using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Tools.Internal;

/// <summary>The tools' log messages (event IDs 2000–2999). Arguments and outputs are never logged.</summary>
internal static partial class ToolsLog
{
    [LoggerMessage(2000, LogLevel.Debug, "Executing tool {ToolName} for call {ToolCallId} of run {RunId}.")]
    public static partial void Executing(ILogger logger, string toolName, string toolCallId, string runId);

    [LoggerMessage(2001, LogLevel.Debug, "Tool {ToolName} completed call {ToolCallId} in {DurationMs} ms.")]
    public static partial void Succeeded(ILogger logger, string toolName, string toolCallId, double durationMs);

    [LoggerMessage(2002, LogLevel.Warning, "The model called unknown tool {ToolName} (call {ToolCallId}).")]
    public static partial void UnknownTool(ILogger logger, string toolName, string toolCallId);

    [LoggerMessage(2003, LogLevel.Warning, "Invalid arguments for tool {ToolName} (call {ToolCallId}): {Problem}")]
    public static partial void InvalidArguments(ILogger logger, string toolName, string toolCallId, string problem);

    [LoggerMessage(2004, LogLevel.Error, "Tool {ToolName} threw while handling call {ToolCallId}.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string toolName, string toolCallId);

    [LoggerMessage(2005, LogLevel.Warning, "Tool {ToolName} did not complete call {ToolCallId} within {Timeout}.")]
    public static partial void TimedOut(ILogger logger, string toolName, string toolCallId, TimeSpan timeout);

    [LoggerMessage(2006, LogLevel.Warning, "The output of tool {ToolName} for call {ToolCallId} was truncated from {Length} to {MaxLength} characters.")]
    public static partial void OutputTruncated(ILogger logger, string toolName, string toolCallId, int length, int maxLength);

    [LoggerMessage(2007, LogLevel.Warning, "Tool {ToolName} failed after call {ToolCallId} had been abandoned (timeout or cancellation).")]
    public static partial void AbandonedHandlerFailed(ILogger logger, Exception exception, string toolName, string toolCallId);

    [LoggerMessage(2008, LogLevel.Debug, "Tool {ToolName} call {ToolCallId} was cancelled by the caller.")]
    public static partial void Canceled(ILogger logger, string toolName, string toolCallId);
}
