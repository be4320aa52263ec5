using System.ClientModel;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Streaming.Internal;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Assistants;

namespace Assistants.Kit.Runs.Internal;

/// <summary>The streamed path of the engine (Assistants protocol).</summary>
internal sealed partial class RunEngine
{
    /// <summary>
    /// Streams a run as kit events. Tool calls inside the stream are executed and submitted with the streaming submit,
    /// and the new stream continues the same sequence. A stream that breaks (a dropped connection, an <c>error</c>
    /// event) is never answered with a second run: the kit follows the same run by polling, fetches what it missed and
    /// finishes the sequence — the text before the cut plus the text after it is exactly the final text, and there is
    /// exactly one <see cref="RunFinishedEvent"/>. The OpenAI client's exceptions surface as the kit's.
    /// </summary>
    public IAsyncEnumerable<RunStreamEvent> StreamAsync(string conversationKey, string message, RunOptions? runOptions, CancellationToken cancellationToken) =>
        TranslateStreamAsync(StreamCoreAsync(ct => PrepareAsync(conversationKey, message, runOptions, ct), null, cancellationToken));

    /// <summary>
    /// Continues, as a stream, a run paused at <c>requires_action</c> whose round now has every output (after an
    /// approval decision): the outputs are submitted with the streaming submit and the run is streamed to its end.
    /// </summary>
    public IAsyncEnumerable<RunStreamEvent> ContinueStreamAsync(RunOperation continued, CancellationToken cancellationToken) =>
        TranslateStreamAsync(StreamCoreAsync(_ => Task.FromResult(continued.Context), continued, cancellationToken));

    /// <summary>The OpenAI client's exceptions, raised while the stream is read, surface as the kit's.</summary>
    private async IAsyncEnumerable<RunStreamEvent> TranslateStreamAsync(IAsyncEnumerable<RunStreamEvent> source)
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
                catch (HttpRequestException ex)
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
        var mapper = new StreamingUpdateMapper(context.ThreadId);
        var mapped = new List<RunStreamEvent>(4);
        var scope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        RunOperation? operation = continued;
        var finished = false;

        // Whether the kit followed the run other than by one unbroken stream: then the messages and steps are read from
        // the server. A continued run is one: what happened before the pause was not in this stream.
        var recovered = continued is not null;
        var previousActivity = System.Diagnostics.Activity.Current;
        System.Diagnostics.Activity.Current = context.Activity ?? previousActivity;
        try
        {
            AsyncStreamingResult<StreamingUpdate>? stream = null;
            Exception? openError = null;
            if (continued is not null)
            {
                // After a decision: the round's outputs come from the journal (calls still undecided keep it paused).
                var run = continued.Snapshot;
                mapper.Follow(run);
                mapper.BeginSubmitStream();
                var records = await ExecuteToolRoundAsync(continued, run, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                if (records is null && context.AwaitingApprovals.Count > 0)
                {
                    var stillPaused = AwaitingResult(context, run);
                    continued.Value = stillPaused;
                    finished = true;
                    foreach (var e in FinishedBeforePause(context, run, stillPaused))
                    {
                        yield return e;
                    }

                    yield return new RunFinishedEvent(run.ThreadId, run.Id, RunStatus.RequiresAction, stillPaused, null, null);
                    yield break;
                }

                if (records is not null)
                {
                    foreach (var record in records)
                    {
                        yield return Completed(context, run, record);
                    }

                    (stream, var reconciled) = await OpenSubmitStreamAsync(run, records, cancellationToken).ConfigureAwait(false);
                    if (reconciled is not null)
                    {
                        continued.Snapshot = reconciled;
                        foreach (var e in Progress(mapper, reconciled))
                        {
                            yield return e;
                        }
                    }
                }
            }
            else
            {
                (stream, openError) = await OpenRunStreamAsync(context, journal: true, cancellationToken).ConfigureAwait(false);
                if (openError is not null)
                {
                    // Nothing was read: the run may or may not exist. Find it by the operation ID; never create it twice.
                    var found = await RecoverRunAsync(context, openError, cancellationToken).ConfigureAwait(false);
                    if (found is null)
                    {
                        (stream, openError) = await OpenRunStreamAsync(context, journal: false, cancellationToken).ConfigureAwait(false);
                        if (openError is not null)
                        {
                            throw Translated(openError);
                        }
                    }
                    else
                    {
                        operation = await AdoptAsync(context, found, cancellationToken).ConfigureAwait(false);
                        recovered = true;
                        foreach (var e in Progress(mapper, found))
                        {
                            yield return e;
                        }
                    }
                }
            }

            while (true)
            {
                var broken = false;
                var streamed = stream is not null;
                if (stream is not null)
                {
                    await using (((IAsyncDisposable)stream).ConfigureAwait(false))
                    {
                        var updates = stream.WithCancellation(cancellationToken).ConfigureAwait(false).GetAsyncEnumerator();
                        try
                        {
                            while (true)
                            {
                                StreamingUpdate? update = null;
                                Exception? failure = null;
                                try
                                {
                                    if (!await updates.MoveNextAsync())
                                    {
                                        break;
                                    }

                                    update = updates.Current;
                                }
                                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                                {
                                    failure = ex;
                                }

                                if (failure is not null)
                                {
                                    // A dropped connection (an I/O exception) or an error event (a ClientResultException):
                                    // either way this enumerator is finished; the run, if it exists, goes on.
                                    broken = true;
                                    if (failure is ClientResultException sseError && ParseStreamError(sseError) is { } parsed)
                                    {
                                        yield return new RunErrorEvent(context.ThreadId, mapper.RunId, parsed.Code, parsed.Message);
                                    }

                                    break;
                                }

                                var wasUnknown = mapper.RunId is null;
                                mapper.Map(update!, mapped);
                                foreach (var e in mapped)
                                {
                                    yield return e;
                                }

                                mapped.Clear();

                                if (wasUnknown && mapper.LastRun is { } first)
                                {
                                    operation = await AdoptAsync(context, first, cancellationToken).ConfigureAwait(false);
                                }

                                if (operation is not null && mapper.LastRun is { } latest)
                                {
                                    operation.Snapshot = latest;
                                }

                                if (update is RunStepUpdate && context.Accounting is { HasBudgets: true } session && context.StopReason is null && operation is not null)
                                {
                                    foreach (var step in mapper.Steps)
                                    {
                                        if (await session.RecordStepAsync(step, cancellationToken).ConfigureAwait(false) == Accounting.Internal.StepBudgetDecision.StopAtNextBoundary)
                                        {
                                            await StopRunAsync(operation, "budget exceeded").ConfigureAwait(false);
                                            break;
                                        }
                                    }
                                }
                            }
                        }
                        finally
                        {
                            await updates.DisposeAsync();
                        }
                    }

                    stream = null;
                }

                if (operation is null)
                {
                    // The stream broke (or ended) before the run was announced: find it by its operation ID.
                    var found = await FindRunByOperationAsync(context, cancellationToken).ConfigureAwait(false)
                        ?? throw new AssistantsServerException(0, null, "The run stream broke before the run was created, and no run carrying the kit's operation ID exists.");
                    operation = await AdoptAsync(context, found, cancellationToken).ConfigureAwait(false);
                    broken = true;
                    foreach (var e in Progress(mapper, found))
                    {
                        yield return e;
                    }
                }

                var run = operation.Snapshot;
                if (streamed && !broken && run.Status == RunStatus.RequiresAction && mapper.RequiredCalls.Count > 0 && context.StopReason is null)
                {
                    // The stream ended on requires_action (one update per call): run them all, submit once, stream on.
                    var stepRun = run with { RequiredToolCalls = [.. mapper.RequiredCalls] };
                    mapper.BeginSubmitStream();
                    var records = await ExecuteToolRoundAsync(operation, stepRun, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                    if (records is null && context.AwaitingApprovals.Count > 0)
                    {
                        // Paused for a person's decision: the stream ends here; ApproveAsync/RejectAsync continue the run.
                        var paused = AwaitingResult(context, stepRun);
                        operation.Value = paused;
                        finished = true;
                        foreach (var e in FinishedBeforePause(context, stepRun, paused))
                        {
                            yield return e;
                        }

                        yield return new RunFinishedEvent(stepRun.ThreadId, stepRun.Id, RunStatus.RequiresAction, paused, null, null);
                        yield break;
                    }

                    if (records is null)
                    {
                        continue; // stopped by the kit: follow the run by polling until it is cancelled
                    }

                    foreach (var record in records)
                    {
                        yield return Completed(context, run, record);
                    }

                    (stream, var reconciled) = await OpenSubmitStreamAsync(run, records, cancellationToken).ConfigureAwait(false);
                    if (reconciled is not null)
                    {
                        recovered = true;
                        operation.Snapshot = reconciled;
                        foreach (var e in Progress(mapper, reconciled))
                        {
                            yield return e;
                        }
                    }

                    continue;
                }

                if (broken || !run.Status.IsTerminal())
                {
                    // Follow the run by polling: a cut stream, a stream that ended early, a stop by the kit.
                    recovered = true;
                    var statuses = new List<RunSnapshot>();
                    var settled = await PollUntilSettledAsync(operation, cancellationToken, statuses.Add).ConfigureAwait(false);
                    foreach (var s in statuses)
                    {
                        foreach (var e in Progress(mapper, s))
                        {
                            yield return e;
                        }
                    }

                    if (settled.Status == RunStatus.RequiresAction && context.StopReason is null)
                    {
                        mapper.BeginSubmitStream();
                        for (var i = 0; i < settled.RequiredToolCalls.Count; i++)
                        {
                            foreach (var e in mapper.CatchUp(settled.RequiredToolCalls[i], i))
                            {
                                yield return e;
                            }
                        }

                        var records = await ExecuteToolRoundAsync(operation, settled, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                        if (records is null && context.AwaitingApprovals.Count > 0)
                        {
                            var paused = AwaitingResult(context, settled);
                            operation.Value = paused;
                            finished = true;
                            foreach (var e in FinishedBeforePause(context, settled, paused))
                            {
                                yield return e;
                            }

                            yield return new RunFinishedEvent(settled.ThreadId, settled.Id, RunStatus.RequiresAction, paused, null, null);
                            yield break;
                        }

                        if (records is not null)
                        {
                            foreach (var record in records)
                            {
                                yield return Completed(context, settled, record);
                            }

                            operation.Snapshot = await _backend.SubmitToolOutputsAsync(settled.ThreadId, settled.Id, Outputs(records), cancellationToken).ConfigureAwait(false);
                            foreach (var e in Progress(mapper, operation.Snapshot))
                            {
                                yield return e;
                            }
                        }

                        continue;
                    }
                }

                var final = operation.Snapshot;
                if (final.Status == RunStatus.Failed && await RerunAsync(operation, final, cancellationToken).ConfigureAwait(false))
                {
                    // A new run: followed by polling, its own statuses and steps.
                    recovered = true;
                    foreach (var e in Progress(mapper, operation.Snapshot))
                    {
                        yield return e;
                    }

                    continue;
                }

                break;
            }

            // Catch up on what the stream did not deliver (after a cut), then finish: the terminal status, the finish. A
            // stream that never broke delivered every message completed: no request.
            var last = operation.Snapshot;
            var messages = last.Status == RunStatus.Failed
                ? []
                : !recovered && mapper.AllMessagesCompleted
                    ? mapper.CompletedMessages
                    : await _backend.GetRunMessagesAsync(last.ThreadId, last.Id, context.UserMessageId, cancellationToken).ConfigureAwait(false);
            foreach (var m in messages)
            {
                foreach (var e in mapper.CatchUp(m))
                {
                    yield return e;
                }
            }

            if (_options.RunStepLog && (recovered || mapper.Steps.Count == 0))
            {
                var steps = await _backend.GetRunStepsAsync(last.ThreadId, last.Id, cancellationToken).ConfigureAwait(false);
                foreach (var step in steps)
                {
                    foreach (var e in mapper.OnPolledStep(step))
                    {
                        yield return e;
                    }
                }
            }

            foreach (var e in mapper.OnPolledStatus(last))
            {
                yield return e;
            }

            var result = await CompleteRunAsync(context, last, messages, mapper.Steps, cancellationToken).ConfigureAwait(false);
            operation.Value = result;
            finished = true;
            yield return new RunFinishedEvent(last.ThreadId, last.Id, last.Status, result, last.Status == RunStatus.Failed ? Failed(context, last).Error : null, Sum(context.EarlierUsage, last.Usage));
        }
        finally
        {
            if (!finished && cancellationToken.IsCancellationRequested)
            {
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
            System.Diagnostics.Activity.Current = previousActivity;
        }
    }

    /// <summary>
    /// Submits a round's outputs with the streaming submit. When the request failed in a way that may have landed, the
    /// run is reconciled instead (the outputs submitted once, never twice): no stream, and the run as the server has it
    /// now, to be followed by polling.
    /// </summary>
    private async Task<(AsyncStreamingResult<StreamingUpdate>? Stream, RunSnapshot? Reconciled)> OpenSubmitStreamAsync(
        RunSnapshot run, IReadOnlyList<ToolCallRecord> records, CancellationToken cancellationToken)
    {
        var (stream, error) = await TryOpenAsync(ct => Assistants.SubmitToolOutputsStreamAsync(run.ThreadId, run.Id, Outputs(records), ct), cancellationToken).ConfigureAwait(false);
        if (error is null)
        {
            return (stream, null);
        }

        return WriteReconciler.IsAmbiguous(error, cancellationToken)
            ? (null, await ReconcileSubmitAsync(run, records, cancellationToken).ConfigureAwait(false))
            : throw Translated(error);
    }

    /// <summary>Creates the run with the streaming create (journaled first, so a crash finds it by its operation ID).</summary>
    private async Task<(AsyncStreamingResult<StreamingUpdate>? Stream, Exception? Error)> OpenRunStreamAsync(RunContext context, bool journal, CancellationToken cancellationToken)
    {
        var request = BuildRunRequest(context, context.Assistant!);
        if (journal)
        {
            await UpdateBindingAsync(context.ConversationKey, b => b with
            {
                Journal = b.Journal is { } j ? j with { Phase = RunJournalPhase.CreatingRun, RunOperationId = request.OperationId } : null,
            }, cancellationToken).ConfigureAwait(false);
        }

        return await TryOpenAsync(
            ct => Assistants.CreateRunStreamAsync(request, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The streamed path speaks the Assistants protocol's own streaming (the Responses one has its own loop).</summary>
    private AssistantsProtocolBackend Assistants => (AssistantsProtocolBackend)_backend;

    /// <summary>
    /// A status seen while following the run other than by its stream. The terminal status is held back until what the
    /// stream missed (the rest of the text, the steps) was emitted, so it comes last, as in a stream.
    /// </summary>
    private static IEnumerable<RunStreamEvent> Progress(StreamingUpdateMapper mapper, RunSnapshot run)
    {
        if (run.Status.IsTerminal())
        {
            mapper.Follow(run);
            return [];
        }

        return mapper.OnPolledStatus(run);
    }

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

    private async Task<RunSnapshot?> RecoverRunAsync(RunContext context, Exception openError, CancellationToken cancellationToken)
    {
        if (!WriteReconciler.IsAmbiguous(openError, cancellationToken))
        {
            throw Translated(openError);
        }

        return await FindRunByOperationAsync(context, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// A streamed submit failed ambiguously: it may have landed. Reads the run and submits again (reconciled) only when
    /// it still waits for exactly these calls; otherwise the run moved on and is followed from there.
    /// </summary>
    private async Task<RunSnapshot> ReconcileSubmitAsync(RunSnapshot run, IReadOnlyList<ToolCallRecord> records, CancellationToken cancellationToken)
    {
        var current = await _backend.GetRunAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
        var submitted = records.Select(r => r.ToolCallId).ToHashSet(StringComparer.Ordinal);
        var waitingForSame = current.Status == RunStatus.RequiresAction
            && current.RequiredToolCalls.Select(c => c.ToolCallId).ToHashSet(StringComparer.Ordinal).SetEquals(submitted);
        return waitingForSame
            ? await _backend.SubmitToolOutputsAsync(run.ThreadId, run.Id, Outputs(records), cancellationToken).ConfigureAwait(false)
            : current;
    }

    private static async Task<(AsyncStreamingResult<StreamingUpdate>? Stream, Exception? Error)> TryOpenAsync(
        Func<CancellationToken, Task<AsyncStreamingResult<StreamingUpdate>>> open, CancellationToken cancellationToken)
    {
        try
        {
            return (await open(cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is ClientResultException or HttpRequestException or IOException or Polly.Timeout.TimeoutRejectedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, ex);
        }
    }

    private Exception Translated(Exception exception) => exception switch
    {
        ClientResultException cre => ServerErrors.Translate(cre, _options.ApiKey),
        _ => ServerErrors.Transport(exception, _options.ApiKey),
    };

    /// <summary>
    /// The OpenAI client surfaces an SSE <c>error</c> event as a <c>ClientResultException</c> without a status, whose
    /// message is <c>Streaming error ({type}: {code})</c>, a blank line, and the server's message. Returns the code and
    /// the server's message; null when the exception is not a stream error (a transport failure).
    /// </summary>
    internal static (string? Code, string Message)? ParseStreamError(ClientResultException exception)
    {
        var match = StreamErrorPattern().Match(exception.Message);
        if (!match.Success)
        {
            return exception.Status == 0 ? null : (null, exception.Message);
        }

        var code = match.Groups["code"].Value.Trim();
        var text = match.Groups["message"].Value.Trim();
        return (code is { Length: > 0 } and not "null" ? code : null, text.Length > 0 ? text : exception.Message);
    }

    [GeneratedRegex(@"^Streaming error \((?<type>[^:)]*):\s*(?<code>[^)]*)\)(?<message>[\s\S]*)$")]
    private static partial Regex StreamErrorPattern();
}
