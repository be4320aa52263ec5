namespace Assistants.Kit;

/// <summary>How a tool call ended.</summary>
public enum ToolCallStatus
{
    /// <summary>The handler returned; its result is the output.</summary>
    Succeeded,

    /// <summary>The arguments were not valid JSON, or missing, or of the wrong type; the output is an error object.</summary>
    InvalidArguments,

    /// <summary>The model called a tool that is not registered; the output is an error object.</summary>
    UnknownTool,

    /// <summary>The handler threw; the output is an error object.</summary>
    HandlerException,

    /// <summary>The handler did not finish within the per-call timeout; the output is an error object.</summary>
    TimedOut,

    /// <summary>A person rejected the call (approval gates); the output is an error object the model can read.</summary>
    Rejected,
}

/// <summary>A finished tool call: what the model asked for and what was sent back.</summary>
/// <param name="ToolCallId">The tool call ID.</param>
/// <param name="Name">The tool name the model used.</param>
/// <param name="ArgumentsJson">The arguments exactly as the model sent them.</param>
/// <param name="Output">The output submitted to the model.</param>
/// <param name="Status">How the call ended.</param>
/// <param name="Duration">How long the handler ran.</param>
public sealed record ToolCallRecord(
    string ToolCallId,
    string Name,
    string ArgumentsJson,
    string Output,
    ToolCallStatus Status,
    TimeSpan Duration);
