using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>A run as the engine sees it, whatever the protocol.</summary>
internal sealed record RunSnapshot(
    string Id,
    string ThreadId,
    string AssistantId,
    RunStatus Status,
    IReadOnlyList<ToolCallRequest> RequiredToolCalls,
    RunError? LastError,
    string? IncompleteReason,
    TokenUsage? Usage,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    string? Model,
    IReadOnlyDictionary<string, string> Metadata,
    TimeSpan? PollHint)
{
    /// <summary>Gets the protocol's own state the backend needs to continue the run (Responses: the response's settings).</summary>
    public object? ProtocolState { get; init; }

    /// <summary>Gets when the run (or response) finished, when known.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>
    /// Gets the assistant messages the snapshot carries (Responses: the message items of the response's output), so the
    /// engine needs no further read for them; <see langword="null"/> when the protocol keeps messages elsewhere (Assistants).
    /// </summary>
    public IReadOnlyList<AssistantMessage>? Messages { get; init; }

    /// <summary>
    /// The run as one step of the kit's run: on a protocol whose tool outputs continue the run under a new ID
    /// (<see cref="IProtocolBackend.ToolOutputsContinueInNewRun"/>; Responses: each response), every such turn is a step
    /// with its own usage; a turn that asked for tools is a tool-calls step.
    /// </summary>
    public RunStepRecord AsStep() => new(
        Id,
        RequiredToolCalls.Count > 0 ? RunStepType.ToolCalls : RunStepType.MessageCreation,
        Status switch
        {
            RunStatus.Failed => RunStepState.Failed,
            RunStatus.Cancelled or RunStatus.Cancelling => RunStepState.Cancelled,
            RunStatus.Expired => RunStepState.Expired,
            RunStatus.Queued or RunStatus.InProgress => RunStepState.InProgress,
            _ => RunStepState.Completed,
        },
        [.. RequiredToolCalls.Select(c => new RunStepToolCall(c.ToolCallId, RunStepToolCallKind.Function, c.Name))],
        Usage,
        CreatedAt,
        CompletedAt);
}

/// <summary>The assistant as stored on the server.</summary>
internal sealed record ServerAssistant(string Id, string? Name, DateTimeOffset CreatedAt, IReadOnlyDictionary<string, string> Metadata);

/// <summary>An assistant definition resolved for the wire: model chosen, tools expanded, metadata including the kit's keys.</summary>
internal sealed record AssistantSpec(
    AssistantDefinition Definition,
    string Model,
    IReadOnlyList<FunctionToolSpec> FunctionTools,
    string Version,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>What the engine asks for when it creates a run.</summary>
internal sealed record RunRequest(
    string ThreadId,
    string AssistantId,
    string OperationId,
    AssistantSpec Assistant,
    int? MaxCompletionTokens,
    int? MaxPromptTokens,
    int? TruncationLastMessages,
    bool? ParallelToolCalls,
    string? AdditionalInstructions,
    string? ModelOverride,
    IReadOnlyList<FunctionToolSpec>? ToolsOverride,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The protocol seam: everything the run engine needs from the wire, polled and streamed (<see cref="CreateRunStream"/>). The Assistants protocol implements it over
/// <c>AssistantClient</c>; the Responses protocol over <c>ResponsesClient</c> + <c>ConversationClient</c>.
/// Writes that may have landed are reconciled inside the implementation, never re-sent blindly.
/// </summary>
internal interface IProtocolBackend
{
    AssistantsProtocol Protocol { get; }

    /// <summary>
    /// Gets a value indicating whether submitting tool outputs continues the run under a new ID (Responses: each
    /// model turn is a new response), so usage and steps accumulate over several snapshots.
    /// </summary>
    bool ToolOutputsContinueInNewRun => false;

    Task<ServerAssistant?> GetAssistantAsync(string assistantId, CancellationToken cancellationToken);

    IAsyncEnumerable<ServerAssistant> ListAssistantsAsync(CancellationToken cancellationToken);

    Task<ServerAssistant> CreateAssistantAsync(AssistantSpec spec, CancellationToken cancellationToken);

    Task<ServerAssistant> UpdateAssistantAsync(string assistantId, AssistantSpec spec, CancellationToken cancellationToken);

    Task<bool> DeleteAssistantAsync(string assistantId, CancellationToken cancellationToken);

    Task<string> CreateThreadAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    Task<bool> ThreadExistsAsync(string threadId, CancellationToken cancellationToken);

    /// <summary>Creates a thread whose first message is an assistant message (a rolled-over conversation's summary).</summary>
    Task<string> CreateSeededThreadAsync(string assistantMessage, CancellationToken cancellationToken);

    /// <summary>Adds a user message carrying <paramref name="operationId"/> in its metadata (reconciled on ambiguous failure).</summary>
    Task<AssistantMessage> AddUserMessageAsync(string threadId, string text, string operationId, CancellationToken cancellationToken);

    /// <summary>Adds a user message with file attachments (Assistants protocol only; without attachments, the overload above).</summary>
    Task<AssistantMessage> AddUserMessageAsync(string threadId, string text, string operationId, IReadOnlyList<MessageAttachment> attachments, CancellationToken cancellationToken) =>
        attachments.Count == 0
            ? AddUserMessageAsync(threadId, text, operationId, cancellationToken)
            : throw new NotSupportedException(
                $"Message attachments are an Assistants protocol feature; the {Protocol} protocol has none. Add the files to a vector store and list it in AssistantDefinition.VectorStoreIds instead.");

    /// <summary>Finds a user message added earlier with <paramref name="operationId"/> (crash resume); null when it never landed.</summary>
    Task<AssistantMessage?> FindUserMessageAsync(string threadId, string operationId, string text, CancellationToken cancellationToken) =>
        Task.FromResult<AssistantMessage?>(null);

    /// <summary>Finds a run created earlier with <paramref name="operationId"/> (crash resume); null when it never landed or cannot be found.</summary>
    Task<RunSnapshot?> FindRunByOperationAsync(string threadId, string operationId, CancellationToken cancellationToken) =>
        Task.FromResult<RunSnapshot?>(null);

    /// <summary>Creates a run carrying <see cref="RunRequest.OperationId"/> in its metadata (reconciled on ambiguous failure).</summary>
    Task<RunSnapshot> CreateRunAsync(RunRequest request, CancellationToken cancellationToken);

    Task<RunSnapshot> GetRunAsync(string threadId, string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Gets the streamed half of the seam for one run of <paramref name="request"/>: it opens the run's stream segments
    /// (creation, each tool-output submission) and maps the protocol's updates to the kit's events. Nothing is sent yet.
    /// </summary>
    IRunStream CreateRunStream(RunRequest request);

    /// <summary>Submits every output of one <c>requires_action</c> at once (reconciled by re-reading the run).</summary>
    Task<RunSnapshot> SubmitToolOutputsAsync(string threadId, string runId, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken);

    /// <summary>Submits every output of one <c>requires_action</c>, with the run as last seen (its protocol state).</summary>
    Task<RunSnapshot> SubmitToolOutputsAsync(RunSnapshot run, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken) =>
        SubmitToolOutputsAsync(run.ThreadId, run.Id, outputs, cancellationToken);

    Task<RunSnapshot> CancelRunAsync(string threadId, string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives tool calls that will get no output from a model turn these outputs, without starting one (Responses: a
    /// <c>function_call</c> of the conversation with no <c>function_call_output</c> would make every later response fail, so
    /// the missing outputs are added as conversation items; calls that already have an output are left alone). Assistants:
    /// nothing to do (a run that waits for outputs is cancelled or expires on the server).
    /// </summary>
    Task AnswerToolCallsAsync(string threadId, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>Gets a run's steps, oldest first (one list request).</summary>
    Task<IReadOnlyList<RunStepRecord>> GetRunStepsAsync(string threadId, string runId, CancellationToken cancellationToken);

    /// <summary>Gets the assistant messages a run added after the given user message, oldest first.</summary>
    Task<IReadOnlyList<AssistantMessage>> GetRunMessagesAsync(string threadId, string runId, string? afterMessageId, CancellationToken cancellationToken);
}
