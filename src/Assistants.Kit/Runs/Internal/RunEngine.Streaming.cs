using System.ClientModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Protocols.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Runs.Internal;

/// <summary>
/// The streamed path of the engine: one loop, for every protocol, over the protocol seam's run stream
/// (<see cref="IProtocolBackend.CreateRunStream"/>), which opens the stream's segments and maps the wire's updates.
/// </summary>
internal sealed partial class RunEngine
{
    /// <summary>
    /// Streams a run as kit events. Tool calls inside the stream are executed and their outputs submitted with the
    /// streaming submit (Responses: in the run's next response, streamed), and the new segment continues the same
    /// sequence. A stream that breaks is never answered with a second run: the Responses protocol resumes it after the
    /// last event seen; on the Assistants protocol the kit follows the same run by polling, fetches what it missed and
    /// finishes the sequence — the text before the cut plus the text after it is exactly the final text, and there is
    /// exactly one <see cref="RunFinishedEvent"/>. The OpenAI client's exceptions surface as the kit's.
    /// </summary>
    public IAsyncEnumerable<RunStreamEvent> StreamAsync(string conversationKey, string message, RunOptions? runOptions, CancellationToken cancellationToken) =>
        TranslateStreamAsync(StreamCoreAsync(ct => PrepareAsync(conversationKey, message, runOptions, ct), null, cancellationToken), cancellationToken);

    /// <summary>
    /// Continues, as a stream, a run paused at <c>requires_action</c> whose round now has every output (after an
    /// approval decision): the outputs are submitted with the streaming submit and the run is streamed to its end.
    /// </summary>
    public IAsyncEnumerable<RunStreamEvent> ContinueStreamAsync(RunOperation continued, CancellationToken cancellationToken) =>
        TranslateStreamAsync(StreamCoreAsync(_ => Task.FromResult(continued.Context), continued, cancellationToken), cancellationToken);

    /// <summary>
    /// The OpenAI client's exceptions, raised while the stream is opened or read, surface as the kit's; so does a
    /// cancellation the caller did not ask for (the client's network timeout).
    /// </summary>
    private async IAsyncEnumerable<RunStreamEvent> TranslateStreamAsync(IAsyncEnumerable<RunStreamEvent> source, [EnumeratorCancellation] CancellationToken callerToken)
    {
        var events = source.GetAsyncEnumerator(CancellationToken.None);
        await using (events.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await events.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (ClientResultException ex)
                {
                    throw ServerErrors.Translate(ex, _options.ApiKey);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException
                    || (ex is OperationCanceledException && !callerToken.IsCancellationRequested))
                {
                    throw ServerErrors.Transport(ex, _options.ApiKey);
                }

                yield return events.Current;
            }
        }
    }

    private async IAsyncEnumerable<RunStreamEvent> StreamCoreAsync(
        Func<CancellationToken, Task<RunContext>> prepare, RunOperation? continued, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var context = await prepare(cancellationToken).ConfigureAwait(false);
        var stream = _backend.CreateRunStream(BuildRunRequest(context, context.Assistant!));
        var scope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var events = new List<RunStreamEvent>(4);
        RunOperation? operation = continued;
        var finished = false;

        // Whether the kit followed the run other than by one unbroken stream: then what the stream missed (messages,
        // steps) is read from the server. A continued run is one: what happened before the pause was not in this stream.
        var recovered = continued is not null;

        // Whether a segment is open to read; the requires_action round to run next, and whether its outputs open a new
        // segment (not once the run is followed by polling).
        var segmentOpen = false;
        var round = continued?.Snapshot;
        var streamRound = true;
        var previousActivity = Activity.Current;
        Activity.Current = context.Activity ?? previousActivity;
        try
        {
            if (continued is not null)
            {
                // After a decision: the round's outputs come from the journal (calls still undecided keep it paused).
                stream.Follow(continued.Snapshot);
            }
            else
            {
                (stream, var found) = await OpenRunStreamAsync(context, stream, cancellationToken).ConfigureAwait(false);
                if (found is not null)
                {
                    // The creation failed in a way that may have landed, and it had: follow that run (never a second one).
                    operation = await AdoptAsync(context, found, cancellationToken).ConfigureAwait(false);
                    recovered = true;
                    foreach (var e in Progress(stream, found))
                    {
                        yield return e;
                    }
                }
                else
                {
                    segmentOpen = true;
                }
            }

            while (true)
            {
                if (round is not null)
                {
                    var run = round;
                    round = null;
                    var records = await ExecuteToolRoundAsync(operation!, run, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                    if (records is null && context.AwaitingApprovals.Count > 0)
                    {
                        // Paused for a person's decision: the stream ends here; ApproveAsync/RejectAsync continue the run.
                        var paused = AwaitingResult(context, run);
                        operation!.Value = paused;
                        finished = true;
                        foreach (var e in FinishedBeforePause(context, run, paused))
                        {
                            yield return e;
                        }

                        yield return new RunFinishedEvent(run.ThreadId, run.Id, RunStatus.RequiresAction, paused, null, null);
                        yield break;
                    }

                    // No records and no approvals: stopped by the kit (loop guard, budget); the run is followed to its end.
                    if (records is not null)
                    {
                        foreach (var record in records)
                        {
                            yield return Completed(context, run, record);
                        }

                        if (_backend.ToolOutputsContinueInNewRun)
                        {
                            // Responses: the turn's step is done once its outputs go in (as an Assistants tool-calls step
                            // completes on submit).
                            foreach (var e in stream.OnPolledStep(CloseTurn(context, run)))
                            {
                                yield return e;
                            }
                        }

                        if (!streamRound)
                        {
                            var next = await _backend.SubmitToolOutputsAsync(run, Outputs(records), cancellationToken).ConfigureAwait(false);
                            operation!.Snapshot = next;
                            if (next.Id != run.Id)
                            {
                                await OnNextResponseAsync(context, next, cancellationToken).ConfigureAwait(false);
                            }

                            foreach (var e in Progress(stream, next))
                            {
                                yield return e;
                            }
                        }
                        else if (await stream.SubmitToolOutputsAsync(run, Outputs(records), cancellationToken).ConfigureAwait(false) is { } reconciled)
                        {
                            // The submit failed in a way that may have landed: the run as the server has it, followed by polling.
                            recovered = true;
                            operation!.Snapshot = reconciled;
                            foreach (var e in Progress(stream, reconciled))
                            {
                                yield return e;
                            }
                        }
                        else
                        {
                            segmentOpen = true;
                        }
                    }
                }

                var streamed = segmentOpen;
                while (segmentOpen)
                {
                    segmentOpen = await stream.ReadAsync(events).ConfigureAwait(false);

                    // The engine follows what the update announced before the consumer sees it: a consumer that stops here
                    // (cancelled) leaves the run it saw known, and cancelled.
                    if (stream.Run is { } latest)
                    {
                        if (operation is null)
                        {
                            operation = await AdoptAsync(context, latest, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            // Responses: after tool outputs the run goes on in a new response; the run follows it first (a
                            // cancellation from here on reaches the running response), then the binding names it.
                            var nextResponse = latest.Id != operation.Snapshot.Id;
                            operation.Snapshot = latest;
                            if (nextResponse)
                            {
                                await OnNextResponseAsync(context, latest, cancellationToken).ConfigureAwait(false);
                            }
                        }
                    }

                    var stepFinished = false;
                    foreach (var e in events)
                    {
                        stepFinished |= e is RunStepCompletedEvent;
                        yield return e;
                    }

                    events.Clear();
                    if (stepFinished && operation is not null && !operation.Snapshot.Status.IsTerminal()
                        && context.StopReason is null && context.Accounting is { HasBudgets: true } session)
                    {
                        // A step finished while the run goes on: a budget may stop it at this boundary.
                        foreach (var step in stream.Steps)
                        {
                            if (await session.RecordStepAsync(step, cancellationToken).ConfigureAwait(false) == StepBudgetDecision.StopAtNextBoundary)
                            {
                                await StopRunAsync(operation, "budget exceeded").ConfigureAwait(false);
                                break;
                            }
                        }
                    }
                }

                var broken = streamed && stream.Broken;
                if (operation is null)
                {
                    // The stream broke (or ended) before the run was announced: find it by its operation ID.
                    var found = await FindRunByOperationAsync(context, cancellationToken).ConfigureAwait(false)
                        ?? throw new AssistantsServerException(0, null, "The run stream broke before the run was created, and no run carrying the kit's operation ID exists.");
                    operation = await AdoptAsync(context, found, cancellationToken).ConfigureAwait(false);
                    broken = true;
                    foreach (var e in Progress(stream, found))
                    {
                        yield return e;
                    }
                }

                var current = operation.Snapshot;
                if (streamed && !broken && current.Status == RunStatus.RequiresAction && current.RequiredToolCalls.Count > 0 && context.StopReason is null)
                {
                    // The segment ended on requires_action: run the round's calls, submit once, stream on.
                    round = current;
                    continue;
                }

                if (broken || !current.Status.IsTerminal())
                {
                    // Follow the run by polling: a cut stream, a stream that ended early, a stop by the kit.
                    recovered = true;
                    streamRound = false;
                    var statuses = new List<RunSnapshot>();
                    var settled = await PollUntilSettledAsync(operation, cancellationToken, statuses.Add).ConfigureAwait(false);
                    foreach (var s in statuses)
                    {
                        foreach (var e in Progress(stream, s))
                        {
                            yield return e;
                        }
                    }

                    if (settled.Status == RunStatus.RequiresAction && context.StopReason is null)
                    {
                        // What the stream did not show of the round: a turn's own messages (Responses: text before its
                        // tool calls), then the calls.
                        foreach (var m in settled.Messages ?? [])
                        {
                            foreach (var e in stream.CatchUp(m))
                            {
                                yield return e;
                            }
                        }

                        for (var i = 0; i < settled.RequiredToolCalls.Count; i++)
                        {
                            foreach (var e in stream.CatchUp(settled.RequiredToolCalls[i], i))
                            {
                                yield return e;
                            }
                        }

                        round = settled;
                        continue;
                    }
                }

                var final = operation.Snapshot;
                if (final.Status == RunStatus.Failed && await RerunAsync(operation, final, cancellationToken).ConfigureAwait(false))
                {
                    // A new run: followed by polling, its own statuses and steps.
                    recovered = true;
                    streamRound = false;
                    foreach (var e in ResponseStep(stream, final).Concat(Progress(stream, operation.Snapshot)))
                    {
                        yield return e;
                    }

                    continue;
                }

                break;
            }

            // Catch up on what the stream did not deliver (after a cut), then finish: the terminal status, the finish. A
            // stream that never broke delivered every message completed: no request. A protocol whose run carries its
            // messages (Responses) needs no request either.
            var last = operation.Snapshot;
            var own = last.Status == RunStatus.Failed
                ? []
                : last.Messages
                    ?? (!recovered && stream.AllMessagesCompleted
                        ? stream.CompletedMessages
                        : await _backend.GetRunMessagesAsync(last.ThreadId, last.Id, context.UserMessageId, cancellationToken).ConfigureAwait(false));
            foreach (var m in own)
            {
                foreach (var e in stream.CatchUp(m))
                {
                    yield return e;
                }
            }

            IReadOnlyList<RunStepRecord> steps;
            if (_backend.ToolOutputsContinueInNewRun)
            {
                // Responses: one step per response of the run.
                foreach (var e in ResponseStep(stream, last))
                {
                    yield return e;
                }

                steps = [.. context.EarlierTurnSteps, last.AsStep()];
            }
            else
            {
                if (_options.RunStepLog && (recovered || stream.Steps.Count == 0))
                {
                    foreach (var step in await _backend.GetRunStepsAsync(last.ThreadId, last.Id, cancellationToken).ConfigureAwait(false))
                    {
                        foreach (var e in stream.OnPolledStep(step))
                        {
                            yield return e;
                        }
                    }
                }

                steps = stream.Steps;
            }

            foreach (var e in stream.OnPolledStatus(last))
            {
                yield return e;
            }

            var result = await CompleteRunAsync(context, last, [.. context.EarlierTurnMessages, .. own], steps, cancellationToken).ConfigureAwait(false);
            operation.Value = result;
            finished = true;
            yield return new RunFinishedEvent(last.ThreadId, last.Id, last.Status, result, last.Status == RunStatus.Failed ? Failed(context, last).Error : null, Sum(context.EarlierUsage, last.Usage));
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            if (!finished && cancellationToken.IsCancellationRequested)
            {
                // A run the stream announced but the engine did not get to adopt is cancelled too.
                context.ErrorType = "cancelled";
                operation ??= stream.Run is { } announced ? new RunOperation(this, context, announced) : null;
                operation ??= await FindAfterCancellationAsync(context).ConfigureAwait(false);
                if (operation is not null)
                {
                    await OnCallerCancelledAsync(operation).ConfigureAwait(false);
                }
            }

            if (operation is not null)
            {
                context.LastRun = operation.Snapshot;
            }

            await DisposeAccountingAsync(context).ConfigureAwait(false);
            Activity.Current = previousActivity;
        }
    }

    /// <summary>
    /// Creates the run with the streaming create, journaled first (so a crash finds it by its operation ID). An assistant
    /// the server no longer knows (404: nothing was created) is ensured again and the run created for the new one, as on
    /// the polled path. Returns the stream to read (a new one after a re-ensure) and the run found instead of a stream
    /// when the creation failed in a way that may have landed.
    /// </summary>
    private async Task<(IRunStream Stream, RunSnapshot? Found)> OpenRunStreamAsync(RunContext context, IRunStream stream, CancellationToken cancellationToken)
    {
        await UpdateBindingAsync(context.ConversationKey, b => b with
        {
            Journal = b.Journal is { } j ? j with { Phase = RunJournalPhase.CreatingRun, RunOperationId = context.RunOperationId } : null,
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            return (stream, await stream.OpenAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            var assistant = context.Assistant!;
            KitLog.AssistantMissing(_logger, assistant.Id, assistant.Spec.Definition.Name);
            _ensurer.Invalidate(assistant.Spec.Definition.Name);
            context.Assistant = await _ensurer.EnsureAsync(assistant.Spec.Definition, cancellationToken).ConfigureAwait(false);
        }

        await stream.DisposeAsync().ConfigureAwait(false);
        var again = _backend.CreateRunStream(BuildRunRequest(context, context.Assistant));
        try
        {
            return (again, await again.OpenAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await again.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A status seen while following the run other than by its stream. The terminal status is held back until what the
    /// stream missed (the rest of the text, the steps) was emitted, so it comes last, as in a stream.
    /// </summary>
    private static IEnumerable<RunStreamEvent> Progress(IRunStream stream, RunSnapshot run)
    {
        if (run.Status.IsTerminal())
        {
            stream.Follow(run);
            return [];
        }

        return stream.OnPolledStatus(run);
    }

    /// <summary>
    /// Responses: a response that ended the run (or failed before a re-run) is one finished step of the run, emitted once
    /// (a streamed response's step was emitted at the end of its stream; a stopped one's step is emitted here, cancelled,
    /// as the result has it). Other protocols read their steps from the server.
    /// </summary>
    private IEnumerable<RunStreamEvent> ResponseStep(IRunStream stream, RunSnapshot response) =>
        _backend.ToolOutputsContinueInNewRun && response.Status.IsTerminal()
            ? stream.OnPolledStep(response.AsStep())
            : [];

    /// <summary>
    /// At a pause for approvals: the round's calls that already finished (those needing no decision, run or journaled),
    /// so the stream reports every finished call before it ends.
    /// </summary>
    private static IEnumerable<RunStreamEvent> FinishedBeforePause(RunContext context, RunSnapshot run, RunResult paused)
    {
        var round = run.RequiredToolCalls.Select(c => c.ToolCallId).ToHashSet(StringComparer.Ordinal);
        return paused.ToolCalls.Where(r => round.Contains(r.ToolCallId)).Select(r => (RunStreamEvent)Completed(context, run, r));
    }

    private static ToolCallCompletedEvent Completed(RunContext context, RunSnapshot run, ToolCallRecord record) =>
        new(context.ThreadId, run.Id, record.ToolCallId, ToolCallType.Function) { Record = record };

    private async Task<RunOperation> AdoptAsync(RunContext context, RunSnapshot run, CancellationToken cancellationToken)
    {
        await OnRunCreatedAsync(context, context.Assistant!, run, cancellationToken).ConfigureAwait(false);
        return new RunOperation(this, context, run);
    }

    private async Task<RunSnapshot?> FindRunByOperationAsync(RunContext context, CancellationToken cancellationToken) =>
        context.RunOperationId is { } operationId
            ? await _backend.FindRunByOperationAsync(context.ThreadId, operationId, cancellationToken).ConfigureAwait(false)
            : null;

    /// <summary>The caller cancelled before the run was announced: it may exist nevertheless; find it (bounded) to cancel it.</summary>
    private async Task<RunOperation?> FindAfterCancellationAsync(RunContext context)
    {
        if (!_options.CancelRunOnCallerCancellation || context.RunOperationId is null)
        {
            return null;
        }

        using var timeout = new CancellationTokenSource(_options.CancelRunTimeout, _timeProvider);
        try
        {
            return await FindRunByOperationAsync(context, timeout.Token).ConfigureAwait(false) is { } found
                ? new RunOperation(this, context, found)
                : null;
        }
        catch (Exception ex) when (ex is ClientResultException or HttpRequestException or OperationCanceledException or IOException)
        {
            return null;
        }
    }
}
