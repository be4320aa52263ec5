namespace Assistants.Kit;

/// <summary>
/// What the kit remembers about one conversation key under one protocol: which server thread (or conversation) it is
/// bound to, the assistant, the active run and its pending tool calls, and bookkeeping. Immutable; change it with
/// <c>with</c> and save it through <see cref="IConversationStore.SaveAsync"/>, which checks <see cref="Version"/>.
/// </summary>
public sealed record ConversationBinding
{
    /// <summary>Gets the application's conversation key.</summary>
    public required string ConversationKey { get; init; }

    /// <summary>Gets the protocol the binding belongs to (bindings are per key and protocol).</summary>
    public required AssistantsProtocol Protocol { get; init; }

    /// <summary>Gets the thread (Assistants) or conversation (Responses) ID.</summary>
    public required string ThreadId { get; init; }

    /// <summary>Gets the assistant ID used last.</summary>
    public string? AssistantId { get; init; }

    /// <summary>Gets the version (hash) of the assistant definition used last.</summary>
    public string? DefinitionVersion { get; init; }

    /// <summary>Gets the run in flight, if any.</summary>
    public string? ActiveRunId { get; init; }

    /// <summary>Gets the last known status of <see cref="ActiveRunId"/>.</summary>
    public RunStatus? ActiveRunStatus { get; init; }

    /// <summary>Gets the tool calls the active run waits for.</summary>
    public IReadOnlyList<PendingToolCall> PendingToolCalls { get; init; } = [];

    /// <summary>
    /// Gets the journal of the run in flight (written before each step, cleared when the run ends), from which
    /// <c>AssistantRunner.ResumeAsync</c> resumes after a crash.
    /// </summary>
    public RunJournal? Journal { get; init; }

    /// <summary>Gets how many messages the kit added to or received on the thread.</summary>
    public int MessageCount { get; init; }

    /// <summary>Gets when the binding was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Gets when the binding was last saved.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Gets the threads this key was bound to before (oldest first), e.g. after a rollover or a 404.</summary>
    public IReadOnlyList<string> PreviousThreadIds { get; init; } = [];

    /// <summary>
    /// Gets the fencing token of the lease the last writer held (0 when writes are not fenced). A store rejects a save
    /// whose token is lower than the stored one with <see cref="ConversationFencedException"/>.
    /// </summary>
    public long FencingToken { get; init; }

    /// <summary>
    /// Gets the optimistic-concurrency version: 0 for a binding never saved; each save increments it. A save whose
    /// version is not the stored one fails with <see cref="ConversationConcurrencyException"/>.
    /// </summary>
    public long Version { get; init; }
}

/// <summary>A tool call a run waits for, as recorded in a binding.</summary>
/// <param name="ToolCallId">The tool call ID.</param>
/// <param name="Name">The tool name.</param>
/// <param name="ArgumentsJson">The arguments JSON.</param>
/// <param name="Output">The output, once computed and journaled (submitted on resume instead of executing the call again).</param>
public sealed record PendingToolCall(string ToolCallId, string Name, string ArgumentsJson, string? Output = null)
{
    /// <summary>Gets the approval state of a call that needs a person's decision; <see langword="null"/> for other calls.</summary>
    public ApprovalState? Approval { get; init; }

    /// <summary>Gets when the approval was requested.</summary>
    public DateTimeOffset? ApprovalRequestedAt { get; init; }

    /// <summary>Gets when the approval expires (the run's expiry, or the kit's approval timeout).</summary>
    public DateTimeOffset? ApprovalExpiresAt { get; init; }
}

/// <summary>What the kit remembers about an assistant definition it ensured on a server.</summary>
/// <param name="Name">The definition's name.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="AssistantId">The assistant ID on the server.</param>
/// <param name="DefinitionVersion">The definition hash the assistant was created or updated with.</param>
/// <param name="UpdatedAt">When it was recorded.</param>
public sealed record AssistantRecord(string Name, AssistantsProtocol Protocol, string AssistantId, string DefinitionVersion, DateTimeOffset UpdatedAt);
