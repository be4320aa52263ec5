namespace Assistants.Kit;

/// <summary>The kinds of <see cref="RunStreamEvent"/> (a closed set).</summary>
public enum RunStreamEventKind
{
    /// <summary><see cref="RunStatusChangedEvent"/>.</summary>
    RunStatusChanged,

    /// <summary><see cref="MessageCreatedEvent"/>.</summary>
    MessageCreated,

    /// <summary><see cref="TextDeltaEvent"/>.</summary>
    TextDelta,

    /// <summary><see cref="MessageCompletedEvent"/>.</summary>
    MessageCompleted,

    /// <summary><see cref="ToolCallStartedEvent"/>.</summary>
    ToolCallStarted,

    /// <summary><see cref="ToolCallArgumentsDeltaEvent"/>.</summary>
    ToolCallArgumentsDelta,

    /// <summary><see cref="ToolCallCompletedEvent"/>.</summary>
    ToolCallCompleted,

    /// <summary><see cref="RunStepCompletedEvent"/>.</summary>
    RunStepCompleted,

    /// <summary><see cref="RunFinishedEvent"/>.</summary>
    RunFinished,

    /// <summary><see cref="RunErrorEvent"/>.</summary>
    Error,
}

/// <summary>The kind of tool a call is for.</summary>
public enum ToolCallType
{
    /// <summary>A function: one of the app's tools, executed by the kit.</summary>
    Function,

    /// <summary>The built-in code interpreter.</summary>
    CodeInterpreter,

    /// <summary>The built-in file search.</summary>
    FileSearch,
}

/// <summary>
/// An event of a streamed run. The set is closed: <see cref="RunStatusChangedEvent"/>, <see cref="MessageCreatedEvent"/>,
/// <see cref="TextDeltaEvent"/>, <see cref="MessageCompletedEvent"/>, <see cref="ToolCallStartedEvent"/>,
/// <see cref="ToolCallArgumentsDeltaEvent"/>, <see cref="ToolCallCompletedEvent"/>, <see cref="RunStepCompletedEvent"/>,
/// <see cref="RunFinishedEvent"/> (exactly one, last) and <see cref="RunErrorEvent"/>.
/// </summary>
public abstract class RunStreamEvent
{
    private protected RunStreamEvent(string threadId, string? runId)
    {
        ThreadId = threadId;
        RunId = runId;
    }

    /// <summary>Gets the kind of the event.</summary>
    public abstract RunStreamEventKind Kind { get; }

    /// <summary>Gets the thread (or conversation) ID.</summary>
    public string ThreadId { get; }

    /// <summary>Gets the run ID, once the run exists.</summary>
    public string? RunId { get; }
}

/// <summary>The run's status changed (from the run's <c>status</c> field, never from an event name).</summary>
public sealed class RunStatusChangedEvent : RunStreamEvent
{
    internal RunStatusChangedEvent(string threadId, string runId, RunStatus status)
        : base(threadId, runId) => Status = status;

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.RunStatusChanged;

    /// <summary>Gets the new status.</summary>
    public RunStatus Status { get; }
}

/// <summary>The assistant started a message.</summary>
public sealed class MessageCreatedEvent : RunStreamEvent
{
    internal MessageCreatedEvent(string threadId, string? runId, string messageId)
        : base(threadId, runId) => MessageId = messageId;

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.MessageCreated;

    /// <summary>Gets the message ID.</summary>
    public string MessageId { get; }
}

/// <summary>A piece of a message's text, as it arrives.</summary>
public sealed class TextDeltaEvent : RunStreamEvent
{
    internal TextDeltaEvent(string threadId, string? runId, string messageId, string text)
        : base(threadId, runId)
    {
        MessageId = messageId;
        Text = text;
    }

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.TextDelta;

    /// <summary>Gets the message ID.</summary>
    public string MessageId { get; }

    /// <summary>Gets the text piece.</summary>
    public string Text { get; }
}

/// <summary>A message is complete (or incomplete, when the run hit a token limit), with its annotations and image files.</summary>
public sealed class MessageCompletedEvent : RunStreamEvent
{
    internal MessageCompletedEvent(string threadId, string? runId, AssistantMessage message, bool incomplete)
        : base(threadId, runId)
    {
        Message = message;
        IsIncomplete = incomplete;
    }

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.MessageCompleted;

    /// <summary>Gets the message.</summary>
    public AssistantMessage Message { get; }

    /// <summary>Gets a value indicating whether the message ended incomplete.</summary>
    public bool IsIncomplete { get; }
}

/// <summary>The model started a tool call.</summary>
public sealed class ToolCallStartedEvent : RunStreamEvent
{
    internal ToolCallStartedEvent(string threadId, string? runId, string toolCallId, ToolCallType type, string? name, int index)
        : base(threadId, runId)
    {
        ToolCallId = toolCallId;
        Type = type;
        Name = name;
        Index = index;
    }

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.ToolCallStarted;

    /// <summary>Gets the tool call ID.</summary>
    public string ToolCallId { get; }

    /// <summary>Gets the kind of tool.</summary>
    public ToolCallType Type { get; }

    /// <summary>Gets the function name (functions only).</summary>
    public string? Name { get; }

    /// <summary>Gets the call's index within its step.</summary>
    public int Index { get; }
}

/// <summary>A piece of a tool call's arguments (functions) or input code (code interpreter), for display.</summary>
public sealed class ToolCallArgumentsDeltaEvent : RunStreamEvent
{
    internal ToolCallArgumentsDeltaEvent(string threadId, string? runId, string toolCallId, int index, string delta, ToolCallType type = ToolCallType.Function)
        : base(threadId, runId)
    {
        ToolCallId = toolCallId;
        Index = index;
        Delta = delta;
        Type = type;
    }

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.ToolCallArgumentsDelta;

    /// <summary>Gets the tool call ID.</summary>
    public string ToolCallId { get; }

    /// <summary>Gets the call's index within its step.</summary>
    public int Index { get; }

    /// <summary>Gets the piece of arguments or input.</summary>
    public string Delta { get; }

    /// <summary>Gets the kind of call: <see cref="ToolCallType.Function"/> (arguments) or <see cref="ToolCallType.CodeInterpreter"/> (input code).</summary>
    public ToolCallType Type { get; }
}

/// <summary>A search result of a file search call.</summary>
/// <param name="FileId">The file ID.</param>
/// <param name="FileName">The file name.</param>
/// <param name="Score">The ranking score.</param>
/// <param name="Content">The matched text, when requested with <c>include[]</c>.</param>
public sealed record FileSearchResult(string FileId, string? FileName, float Score, string? Content);

/// <summary>
/// A tool call finished. For a function, <see cref="Record"/> holds what the kit executed and submitted; for the code
/// interpreter, its input, logs and image files; for file search, its results.
/// </summary>
public sealed class ToolCallCompletedEvent : RunStreamEvent
{
    internal ToolCallCompletedEvent(string threadId, string? runId, string toolCallId, ToolCallType type)
        : base(threadId, runId)
    {
        ToolCallId = toolCallId;
        Type = type;
    }

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.ToolCallCompleted;

    /// <summary>Gets the tool call ID.</summary>
    public string ToolCallId { get; }

    /// <summary>Gets the kind of tool.</summary>
    public ToolCallType Type { get; }

    /// <summary>Gets the function call the kit executed (functions only).</summary>
    public ToolCallRecord? Record { get; init; }

    /// <summary>Gets the code the code interpreter ran.</summary>
    public string? CodeInterpreterInput { get; init; }

    /// <summary>Gets the code interpreter's logs.</summary>
    public IReadOnlyList<string> CodeInterpreterLogs { get; init; } = [];

    /// <summary>Gets the image files the code interpreter produced.</summary>
    public IReadOnlyList<string> ImageFileIds { get; init; } = [];

    /// <summary>Gets the file search results.</summary>
    public IReadOnlyList<FileSearchResult> FileSearchResults { get; init; } = [];
}

/// <summary>A run step finished, with its usage and latency.</summary>
public sealed class RunStepCompletedEvent : RunStreamEvent
{
    internal RunStepCompletedEvent(string threadId, string? runId, RunStepRecord step)
        : base(threadId, runId) => Step = step;

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.RunStepCompleted;

    /// <summary>Gets the step.</summary>
    public RunStepRecord Step { get; }
}

/// <summary>
/// The run ended — completed, incomplete, failed, cancelled or expired. Always the last event, exactly once. For a
/// failed run <see cref="Result"/> is null and <see cref="Error"/> holds the run's last error.
/// </summary>
public sealed class RunFinishedEvent : RunStreamEvent
{
    internal RunFinishedEvent(string threadId, string runId, RunStatus status, RunResult? result, RunError? error, TokenUsage? usage)
        : base(threadId, runId)
    {
        Status = status;
        Result = result;
        Error = error;
        Usage = usage;
    }

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.RunFinished;

    /// <summary>Gets the final status.</summary>
    public RunStatus Status { get; }

    /// <summary>Gets the result (null when the run failed).</summary>
    public RunResult? Result { get; }

    /// <summary>Gets the run's last error (failed runs).</summary>
    public RunError? Error { get; }

    /// <summary>Gets the run's token usage.</summary>
    public TokenUsage? Usage { get; }
}

/// <summary>The server sent an <c>error</c> event; the kit recovers by following the run by polling when the run exists.</summary>
public sealed class RunErrorEvent : RunStreamEvent
{
    internal RunErrorEvent(string threadId, string? runId, string? code, string message)
        : base(threadId, runId)
    {
        Code = code;
        Message = message;
    }

    /// <inheritdoc />
    public override RunStreamEventKind Kind => RunStreamEventKind.Error;

    /// <summary>Gets the error code, when the server sent one.</summary>
    public string? Code { get; }

    /// <summary>Gets the error message.</summary>
    public string Message { get; }
}
