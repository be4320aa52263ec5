using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Streaming.Internal;

/// <summary>
/// What every protocol's stream mapper remembers of a run and how it catches up on what its stream did not show: the
/// follow-and-catch-up half of <see cref="IRunStream"/> (the wire half, reading updates, is protocol-specific).
/// </summary>
internal interface IStreamMapper
{
    /// <summary>Gets the run (Responses: the current response) as last seen.</summary>
    RunSnapshot? Run { get; }

    /// <summary>Gets the finished steps seen so far.</summary>
    IReadOnlyList<RunStepRecord> Steps { get; }

    /// <summary>Gets the messages seen completed, in the order they were announced.</summary>
    IReadOnlyList<AssistantMessage> CompletedMessages { get; }

    /// <summary>Gets whether every message announced was also seen completed.</summary>
    bool AllMessagesCompleted { get; }

    void Follow(RunSnapshot run);

    IEnumerable<RunStreamEvent> OnPolledStatus(RunSnapshot run);

    IEnumerable<RunStreamEvent> OnPolledStep(RunStepRecord step);

    IEnumerable<RunStreamEvent> CatchUp(AssistantMessage message);

    IEnumerable<RunStreamEvent> CatchUp(ToolCallRequest call, int index);
}
