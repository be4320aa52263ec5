using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Streaming.Internal;

/// <summary>
/// What every protocol's stream mapper remembers of a run and how it catches up on what its stream did not show: the
/// follow-and-catch-up half of <see cref="IRunStream"/> (the wire half, reading updates, is protocol-specific).
/// </summary>
internal interface IStreamMapper
{
    /// <summary>Gets the run (Responses: the current response) as last seen; null before the stream announced it.</summary>
    RunSnapshot? Run { get; }

    /// <summary>Gets the finished steps of the current run seen so far, oldest first.</summary>
    IReadOnlyList<RunStepRecord> Steps { get; }

    /// <summary>Gets the assistant messages seen completed, in the order they were announced.</summary>
    IReadOnlyList<AssistantMessage> CompletedMessages { get; }

    /// <summary>Gets a value indicating whether every message the stream announced was also seen completed.</summary>
    bool AllMessagesCompleted { get; }

    /// <summary>
    /// Follows <paramref name="run"/> without emitting anything (a snapshot seen other than in the stream). A different
    /// run (a re-run after a failure) starts afresh: its own statuses, steps and pending calls.
    /// </summary>
    void Follow(RunSnapshot run);

    /// <summary>Emits the status change a snapshot seen while polling shows (the run's status field, never an event name).</summary>
    IEnumerable<RunStreamEvent> OnPolledStatus(RunSnapshot run);

    /// <summary>Records a step read from the server, emitting it when the stream did not.</summary>
    IEnumerable<RunStreamEvent> OnPolledStep(RunStepRecord step);

    /// <summary>Emits what a message has beyond what the stream emitted, then its completion, unless the stream completed it.</summary>
    IEnumerable<RunStreamEvent> CatchUp(AssistantMessage message);

    /// <summary>Announces a function call the stream did not (fully) deliver: its start when unseen, then the rest of its arguments.</summary>
    IEnumerable<RunStreamEvent> CatchUp(ToolCallRequest call, int index);
}
