namespace Assistants.Kit;

/// <summary>Where a journaled run was when the journal was last written.</summary>
public enum RunJournalPhase
{
    /// <summary>The user message is about to be added (it may or may not have landed).</summary>
    AddingMessage,

    /// <summary>The user message was added; the run is about to be created (it may or may not have landed).</summary>
    CreatingRun,

    /// <summary>The run exists and is being waited for (tool outputs, when computed, are in the binding's pending calls).</summary>
    RunActive,
}

/// <summary>
/// The engine's journal of the run in flight for a conversation key, written to the conversation store before each
/// step, so a restarted process can resume the run (see <c>AssistantRunner.ResumeAsync</c>): no message added twice,
/// no run started twice, no tool output submitted twice. Cleared when the run ends.
/// </summary>
public sealed record RunJournal
{
    /// <summary>Gets the phase.</summary>
    public required RunJournalPhase Phase { get; init; }

    /// <summary>Gets the user message's text.</summary>
    public required string MessageText { get; init; }

    /// <summary>Gets the operation ID the user message carries in its metadata.</summary>
    public required string MessageOperationId { get; init; }

    /// <summary>Gets the user message's ID once it was added.</summary>
    public string? MessageId { get; init; }

    /// <summary>Gets the operation ID the run carries in its metadata, once the run is being created.</summary>
    public string? RunOperationId { get; init; }

    /// <summary>Gets the run (or, on Responses, current response) ID once it exists.</summary>
    public string? RunId { get; init; }

    /// <summary>Gets the name of the assistant definition the run uses.</summary>
    public string? AssistantName { get; init; }

    /// <summary>Gets when the run was started.</summary>
    public DateTimeOffset StartedAt { get; init; }
}
