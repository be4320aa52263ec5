using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Runs.Internal;

namespace Assistants.Kit;

/// <summary>
/// A handle on a run, shaped like a long-running operation: check its status, wait for it (executing tool calls and
/// submitting their outputs on the way), or cancel it. Re-attach to a run after a restart with
/// <see cref="AssistantRunner.AttachRun"/>. Not safe for concurrent use by several callers.
/// </summary>
public sealed class RunOperation
{
    private readonly RunEngine _engine;

    internal RunOperation(RunEngine engine, RunContext context, RunSnapshot snapshot)
    {
        _engine = engine;
        Context = context;
        Snapshot = snapshot;
    }

    /// <summary>Gets the run ID (a new one when the re-run policy started another run).</summary>
    public string Id => Snapshot.Id;

    /// <summary>Gets the thread (or conversation) ID.</summary>
    public string ThreadId => Context.ThreadId;

    /// <summary>Gets the application's conversation key, when the run was started or attached with one.</summary>
    public string? ConversationKey => Context.ConversationKey;

    /// <summary>Gets the last status seen.</summary>
    public RunStatus Status => Snapshot.Status;

    /// <summary>Gets a value indicating whether the run has ended (its last seen status is terminal).</summary>
    public bool HasCompleted => Snapshot.Status.IsTerminal();

    /// <summary>Gets the result once <see cref="WaitForCompletionAsync"/> returned it.</summary>
    public RunResult? Value { get; internal set; }

    internal RunContext Context { get; }

    internal RunSnapshot Snapshot { get; set; }

    /// <summary>Reads the run's status from the server once (no tool execution, no waiting).</summary>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The status.</returns>
    /// <exception cref="AssistantsServerException">The server answered with an error.</exception>
    public Task<RunStatus> UpdateStatusAsync(CancellationToken cancellationToken = default) => _engine.UpdateStatusAsync(this, cancellationToken);

    /// <summary>
    /// Waits until the run ends: polls with the kit's schedule, executes requested tool calls and submits their outputs,
    /// repeatedly, and returns the result. Cancelling <paramref name="cancellationToken"/> stops waiting and (by default,
    /// see <see cref="AssistantsKitOptions.CancelRunOnCallerCancellation"/>) cancels the run on the server.
    /// </summary>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>The result of a completed, incomplete, cancelled or expired run.</returns>
    /// <exception cref="RunFailedException">The run ended <c>failed</c> (after the opt-in re-runs).</exception>
    /// <exception cref="RunTimeoutException">The run did not end within <see cref="RunPollingOptions.Timeout"/>.</exception>
    /// <exception cref="AssistantsServerException">The server answered with an error the kit cannot handle.</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled.</exception>
    public Task<RunResult> WaitForCompletionAsync(CancellationToken cancellationToken = default) => _engine.WaitAsync(this, cancellationToken);

    /// <summary>Asks the server to cancel the run; the run then ends <c>cancelled</c>.</summary>
    /// <param name="cancellationToken">A cancellation token.</param>
    /// <returns>A task that completes when the server accepted the request.</returns>
    /// <exception cref="AssistantsServerException">The server refused (e.g. the run already ended).</exception>
    public Task CancelAsync(CancellationToken cancellationToken = default) => _engine.CancelAsync(this, cancellationToken);

    /// <inheritdoc />
    public override string ToString() => $"Run {Id} on {ThreadId}: {Status.ToWireString()}";
}
