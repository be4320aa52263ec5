namespace Assistants.Kit;

/// <summary>
/// A callback-style consumer of a streamed run: override the methods you need (all do nothing by default) and pass an
/// instance to <see cref="AssistantRunner.StreamAsync(string, string, RunStreamHandler, RunOptions?, CancellationToken)"/>.
/// It receives exactly the events <see cref="AssistantRunner.StreamAsync(string, string, RunOptions?, CancellationToken)"/> yields, in order.
/// </summary>
public class RunStreamHandler
{
    /// <summary>Called for every event before the specific method; dispatches to it.</summary>
    /// <param name="streamEvent">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    public virtual ValueTask OnEventAsync(RunStreamEvent streamEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(streamEvent);
        return streamEvent switch
        {
            RunStatusChangedEvent e => OnRunStatusChangedAsync(e, cancellationToken),
            MessageCreatedEvent e => OnMessageCreatedAsync(e, cancellationToken),
            TextDeltaEvent e => OnTextDeltaAsync(e, cancellationToken),
            MessageCompletedEvent e => OnMessageCompletedAsync(e, cancellationToken),
            ToolCallStartedEvent e => OnToolCallCreatedAsync(e, cancellationToken),
            ToolCallArgumentsDeltaEvent { Type: ToolCallType.CodeInterpreter } e => OnCodeInterpreterInputAsync(e, cancellationToken),
            ToolCallArgumentsDeltaEvent e => OnToolCallArgumentsDeltaAsync(e, cancellationToken),
            ToolCallCompletedEvent e => OnToolCallCompletedAsync(e, cancellationToken),
            RunStepCompletedEvent e => OnRunStepCompletedAsync(e, cancellationToken),
            RunFinishedEvent e => OnRunFinishedAsync(e, cancellationToken),
            RunErrorEvent e => OnErrorAsync(e, cancellationToken),
            _ => ValueTask.CompletedTask,
        };
    }

    /// <summary>The run's status changed.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnRunStatusChangedAsync(RunStatusChangedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A message started.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnMessageCreatedAsync(MessageCreatedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A piece of text arrived.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnTextDeltaAsync(TextDeltaEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A message is complete.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnMessageCompletedAsync(MessageCompletedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A tool call was created (its name and index are known; arguments or input follow).</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnToolCallCreatedAsync(ToolCallStartedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A piece of a tool call's arguments (or code interpreter input) arrived.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnToolCallArgumentsDeltaAsync(ToolCallArgumentsDeltaEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// A piece of the code a code interpreter call runs arrived. By default it goes to
    /// <see cref="OnToolCallArgumentsDeltaAsync"/>, like a function's arguments.
    /// </summary>
    /// <param name="e">The event (<see cref="ToolCallArgumentsDeltaEvent.Type"/> is <see cref="ToolCallType.CodeInterpreter"/>).</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The task of <see cref="OnToolCallArgumentsDeltaAsync"/> by default.</returns>
    protected virtual ValueTask OnCodeInterpreterInputAsync(ToolCallArgumentsDeltaEvent e, CancellationToken cancellationToken) =>
        OnToolCallArgumentsDeltaAsync(e, cancellationToken);

    /// <summary>A tool call finished (functions: executed and about to be submitted).</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnToolCallCompletedAsync(ToolCallCompletedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>A run step finished.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnRunStepCompletedAsync(RunStepCompletedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// The run ended (completed, incomplete, failed, cancelled, expired, or paused for approvals). By default a completed
    /// run goes on to <see cref="OnRunCompletedAsync"/>; an override that does not call the base skips it.
    /// </summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The task of <see cref="OnRunCompletedAsync"/> for a completed run; a completed task otherwise.</returns>
    protected virtual ValueTask OnRunFinishedAsync(RunFinishedEvent e, CancellationToken cancellationToken) =>
        e?.Status == RunStatus.Completed ? OnRunCompletedAsync(e, cancellationToken) : ValueTask.CompletedTask;

    /// <summary>The run completed (reached from <see cref="OnRunFinishedAsync"/>); <see cref="RunFinishedEvent.Result"/> holds the result.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnRunCompletedAsync(RunFinishedEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>The server sent an error event.</summary>
    /// <param name="e">The event.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A completed task by default.</returns>
    protected virtual ValueTask OnErrorAsync(RunErrorEvent e, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
