using Assistants.Kit.Internal;
using Assistants.Kit.Runs.Internal;

namespace Assistants.Kit;

/// <summary>
/// The kit's entry point: runs a user message on a conversation (thread resolved through the
/// <see cref="IConversationStore"/>), waits for the run with the adaptive poller, executes tool calls, and returns a
/// kit-typed result. Registered as a singleton by <c>AddAssistantsKit</c>; thread-safe.
/// </summary>
/// <remarks>
/// Outcomes by run status: <c>completed</c> → <see cref="RunResult"/>; <c>requires_action</c> → tool calls executed,
/// outputs submitted, waiting continues (repeatedly); <c>incomplete</c> → <see cref="RunResult"/> with
/// <see cref="RunResult.IncompleteReason"/>; <c>cancelled</c> and <c>expired</c> → <see cref="RunResult"/> with that
/// status; <c>failed</c> → <see cref="RunFailedException"/> (after the opt-in re-runs of
/// <see cref="AssistantsKitOptions.FailedRunRetry"/>).
/// </remarks>
public sealed class AssistantRunner
{
    private readonly RunEngine _engine;

    internal AssistantRunner(RunEngine engine)
    {
        _engine = engine;
    }

    /// <summary>Adds <paramref name="message"/> to the conversation, runs the assistant, and waits for the result.</summary>
    /// <param name="conversationKey">The application's key for the conversation (e.g. a user or ticket ID).</param>
    /// <param name="message">The user's message.</param>
    /// <param name="options">Per-run settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">
    /// A cancellation token. Cancelling it stops waiting and, by default, cancels the run on the server.
    /// </param>
    /// <returns>The result of a completed, incomplete, cancelled or expired run.</returns>
    /// <exception cref="ArgumentException">The key or message is empty.</exception>
    /// <exception cref="RunFailedException">The run ended <c>failed</c>.</exception>
    /// <exception cref="RunTimeoutException">The run did not end within <see cref="RunPollingOptions.Timeout"/>.</exception>
    /// <exception cref="AssistantsServerException">The server answered with an error the kit cannot handle.</exception>
    /// <exception cref="BudgetExceededException">A budget refused the run; nothing was sent.</exception>
    /// <exception cref="ConversationAwaitingApprovalException">The conversation's run waits for approvals.</exception>
    /// <exception cref="ConversationFencedException">Another instance took over the conversation (its lease was lost).</exception>
    public async Task<RunResult> RunAsync(string conversationKey, string message, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(conversationKey);
        _ = Throw.IfNullOrWhiteSpace(message);
        var turn = await _engine.EnterConversationAsync(conversationKey, cancellationToken).ConfigureAwait(false);
        await using var turnDisposal = turn.ConfigureAwait(false);
        ThrowIfAwaitingApproval(conversationKey, await _engine.ResumePendingAsync(conversationKey, cancellationToken).ConfigureAwait(false));
        var operation = await _engine.StartAsync(conversationKey, message, options, cancellationToken).ConfigureAwait(false);
        var result = await operation.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
        await _engine.RollOverIfNeededAsync(conversationKey, result, options, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Adds <paramref name="message"/> to the conversation and creates a run, without waiting for it. Unlike
    /// <see cref="RunAsync"/> and <c>StreamAsync</c>, this does not wait for the key's previous run to end (see
    /// <see cref="AssistantsKitOptions.Concurrency"/>): the server refuses a message while a run is active.
    /// </summary>
    /// <param name="conversationKey">The application's key for the conversation.</param>
    /// <param name="message">The user's message.</param>
    /// <param name="options">Per-run settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A handle on the run.</returns>
    /// <exception cref="ArgumentException">The key or message is empty.</exception>
    /// <exception cref="AssistantsServerException">The server answered with an error the kit cannot handle.</exception>
    public Task<RunOperation> StartRunAsync(string conversationKey, string message, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(conversationKey);
        _ = Throw.IfNullOrWhiteSpace(message);
        return _engine.StartAsync(conversationKey, message, options, cancellationToken);
    }

    /// <summary>
    /// Adds <paramref name="message"/> to the conversation and streams the run as kit events: status changes, text as
    /// it arrives, tool calls (executed by the kit, their outputs submitted, the stream continued), steps, and exactly one
    /// final <see cref="RunFinishedEvent"/>. A broken stream is recovered by following the same run.
    /// </summary>
    /// <param name="conversationKey">The application's key for the conversation.</param>
    /// <param name="message">The user's message.</param>
    /// <param name="options">Per-run settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">A cancellation token; cancelling it mid-stream cancels the run on the server (by default).</param>
    /// <returns>The events, in order.</returns>
    /// <exception cref="ArgumentException">The key or message is empty.</exception>
    /// <exception cref="BudgetExceededException">A budget refused the run; nothing was sent.</exception>
    /// <exception cref="AssistantsServerException">The server answered with an error the kit cannot handle.</exception>
    public IAsyncEnumerable<RunStreamEvent> StreamAsync(string conversationKey, string message, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(conversationKey);
        _ = Throw.IfNullOrWhiteSpace(message);
        return StreamInTurnAsync(conversationKey, message, options, cancellationToken);
    }

    private async IAsyncEnumerable<RunStreamEvent> StreamInTurnAsync(
        string conversationKey, string message, RunOptions? options, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var turn = await _engine.EnterConversationAsync(conversationKey, cancellationToken).ConfigureAwait(false);
        await using var turnDisposal = turn.ConfigureAwait(false);
        ThrowIfAwaitingApproval(conversationKey, await _engine.ResumePendingAsync(conversationKey, cancellationToken).ConfigureAwait(false));
        RunResult? result = null;
        await foreach (var streamEvent in _engine.StreamAsync(conversationKey, message, options, cancellationToken).ConfigureAwait(false))
        {
            result = (streamEvent as RunFinishedEvent)?.Result ?? result;
            yield return streamEvent;
        }

        await _engine.RollOverIfNeededAsync(conversationKey, result, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams a run into a <see cref="RunStreamHandler"/> (it receives exactly the events
    /// <see cref="StreamAsync(string, string, RunOptions?, CancellationToken)"/> yields) and returns the result.
    /// </summary>
    /// <param name="conversationKey">The application's key for the conversation.</param>
    /// <param name="message">The user's message.</param>
    /// <param name="handler">The handler.</param>
    /// <param name="options">Per-run settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The result of a completed, incomplete, cancelled or expired run.</returns>
    /// <exception cref="RunFailedException">The run ended <c>failed</c> (after the handler saw its <see cref="RunFinishedEvent"/>).</exception>
    /// <exception cref="BudgetExceededException">A budget refused the run; nothing was sent.</exception>
    /// <exception cref="AssistantsServerException">The server answered with an error the kit cannot handle.</exception>
    public async Task<RunResult> StreamAsync(string conversationKey, string message, RunStreamHandler handler, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNull(handler);
        RunFinishedEvent? finished = null;
        await foreach (var streamEvent in StreamAsync(conversationKey, message, options, cancellationToken).ConfigureAwait(false))
        {
            await handler.OnEventAsync(streamEvent, cancellationToken).ConfigureAwait(false);
            finished = streamEvent as RunFinishedEvent ?? finished;
        }

        return finished switch
        {
            { Result: { } result } => result,
            { Error: { } error } => throw new RunFailedException(error, finished.ThreadId, finished.RunId ?? string.Empty),
            _ => throw new InvalidOperationException("The run stream ended without a final event."),
        };
    }

    /// <summary>
    /// Resumes every run a crashed process left in flight, from the journal in the conversation store: the user message
    /// and the run are found by their operation IDs instead of being sent again, journaled tool outputs are submitted,
    /// only idempotent tools are run again (others get an error output and raise
    /// <see cref="IConversationObserver.OnToolCallNotReexecutedAsync"/>), and each run is waited for. A key's pending run is
    /// also resumed before its next message is run. Needs a durable store to be useful across processes.
    /// </summary>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>One outcome per resumed run.</returns>
    /// <exception cref="AssistantsServerException">The server answered with an error the kit cannot handle.</exception>
    public Task<IReadOnlyList<ResumedRun>> ResumeAsync(CancellationToken cancellationToken = default) => _engine.ResumeAsync(cancellationToken);

    /// <summary>
    /// Approves a tool call that waits for a person (see <see cref="RunResult.PendingApprovals"/>) — from any process or
    /// instance sharing the conversation store: the tool runs once, and when every call of the round has its output the
    /// outputs are submitted once and the run continues to its end.
    /// </summary>
    /// <param name="approvalId">The approval's ID.</param>
    /// <param name="options">Per-run settings for the rest of the run (e.g. the assistant definition), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The run's result (still awaiting approval when other calls of the round wait too).</returns>
    /// <exception cref="ApprovalNotFoundException">No such approval.</exception>
    /// <exception cref="ApprovalAlreadyDecidedException">Someone decided it already; nothing was done.</exception>
    /// <exception cref="ApprovalExpiredException">The run expired or ended first; the conversation can continue.</exception>
    public Task<RunResult> ApproveAsync(string approvalId, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(approvalId);
        return _engine.DecideAsync(approvalId, approve: true, reason: null, options, cancellationToken);
    }

    /// <summary>
    /// Rejects a tool call that waits for a person: the model gets
    /// <c>{"error":{"type":"rejected","message":"…"}}</c> as the call's output, and the run continues.
    /// </summary>
    /// <param name="approvalId">The approval's ID.</param>
    /// <param name="reason">Why, for the model.</param>
    /// <param name="options">Per-run settings for the rest of the run, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The run's result.</returns>
    /// <exception cref="ApprovalNotFoundException">No such approval.</exception>
    /// <exception cref="ApprovalAlreadyDecidedException">Someone decided it already; nothing was done.</exception>
    /// <exception cref="ApprovalExpiredException">The run expired or ended first; the conversation can continue.</exception>
    public Task<RunResult> RejectAsync(string approvalId, string reason, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(approvalId);
        return _engine.DecideAsync(approvalId, approve: false, reason, options, cancellationToken);
    }

    /// <summary>
    /// Approves a tool call that waits for a person, like <see cref="ApproveAsync"/>, and continues the run as a stream:
    /// the approved call's <see cref="ToolCallCompletedEvent"/> (with the round's other outputs), then the rest of the run
    /// as it happens — text deltas, further tool rounds, and one <see cref="RunFinishedEvent"/> (still awaiting approval
    /// when other calls of the round wait too).
    /// </summary>
    /// <param name="approvalId">The approval's ID.</param>
    /// <param name="options">Per-run settings for the rest of the run (e.g. the assistant definition), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token; cancelling it mid-stream cancels the run on the server (by default).</param>
    /// <returns>The events, in order.</returns>
    /// <exception cref="ApprovalNotFoundException">No such approval.</exception>
    /// <exception cref="ApprovalAlreadyDecidedException">Someone decided it already; nothing was done.</exception>
    /// <exception cref="ApprovalExpiredException">The run expired or ended first; the conversation can continue.</exception>
    public IAsyncEnumerable<RunStreamEvent> ApproveStreamAsync(string approvalId, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(approvalId);
        return _engine.DecideStreamAsync(approvalId, approve: true, reason: null, options, cancellationToken);
    }

    /// <summary>
    /// Rejects a tool call that waits for a person, like <see cref="RejectAsync"/>, and continues the run as a stream
    /// (see <see cref="ApproveStreamAsync"/>).
    /// </summary>
    /// <param name="approvalId">The approval's ID.</param>
    /// <param name="reason">Why, for the model.</param>
    /// <param name="options">Per-run settings for the rest of the run, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token; cancelling it mid-stream cancels the run on the server (by default).</param>
    /// <returns>The events, in order.</returns>
    /// <exception cref="ApprovalNotFoundException">No such approval.</exception>
    /// <exception cref="ApprovalAlreadyDecidedException">Someone decided it already; nothing was done.</exception>
    /// <exception cref="ApprovalExpiredException">The run expired or ended first; the conversation can continue.</exception>
    public IAsyncEnumerable<RunStreamEvent> RejectStreamAsync(string approvalId, string reason, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = Throw.IfNullOrWhiteSpace(approvalId);
        return _engine.DecideStreamAsync(approvalId, approve: false, reason, options, cancellationToken);
    }

    /// <summary>Lists the approvals waiting for a decision, oldest first.</summary>
    /// <param name="conversationKey">Only this conversation's, or <see langword="null"/> for all.</param>
    /// <param name="toolName">Only this tool's, or <see langword="null"/>.</param>
    /// <param name="olderThan">Only those waiting at least this long, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The pending approvals.</returns>
    public Task<IReadOnlyList<ToolApproval>> GetPendingApprovalsAsync(string? conversationKey = null, string? toolName = null, TimeSpan? olderThan = null, CancellationToken cancellationToken = default) =>
        _engine.GetPendingApprovalsAsync(conversationKey, toolName, olderThan, cancellationToken);

    private static void ThrowIfAwaitingApproval(string conversationKey, ResumedRun? resumed)
    {
        if (resumed?.Result is { IsAwaitingApproval: true } paused)
        {
            throw new ConversationAwaitingApprovalException(conversationKey, paused.PendingApprovals);
        }
    }

    /// <summary>Re-attaches to a run started earlier (e.g. by a process that crashed), to wait for it or cancel it.</summary>
    /// <param name="threadId">The thread ID.</param>
    /// <param name="runId">The run ID.</param>
    /// <param name="conversationKey">The conversation key, so the binding is updated when the run ends; optional.</param>
    /// <returns>A handle on the run; call <see cref="RunOperation.UpdateStatusAsync"/> or <see cref="RunOperation.WaitForCompletionAsync"/>.</returns>
    public RunOperation AttachRun(string threadId, string runId, string? conversationKey = null)
    {
        _ = Throw.IfNullOrWhiteSpace(threadId);
        _ = Throw.IfNullOrWhiteSpace(runId);
        return _engine.Attach(threadId, runId, conversationKey);
    }

    /// <summary>
    /// Makes sure the assistant exists on the server and matches its definition: found by its stored ID or by the
    /// definition hash in its metadata, created when missing, updated when the definition changed. Idempotent and safe
    /// to race from several processes (they converge on one assistant).
    /// </summary>
    /// <param name="definition">The definition, or <see langword="null"/> for <see cref="AssistantsKitOptions.Assistant"/>.</param>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The assistant's ID on the server.</returns>
    /// <exception cref="AssistantsServerException">The server answered with an error the kit cannot handle.</exception>
    public async Task<string> EnsureAssistantAsync(AssistantDefinition? definition = null, CancellationToken cancellationToken = default)
    {
        var ensured = await _engine.EnsureAssistantAsync(definition ?? _engine.Options.Assistant, cancellationToken).ConfigureAwait(false);
        return ensured.Id;
    }
}
