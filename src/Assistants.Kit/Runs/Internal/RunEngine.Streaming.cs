using System.ClientModel;
using System.ClientModel.Primitives;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Assistants.Kit.Diagnostics.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Streaming.Internal;
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
    /// exactly one <see cref="RunFinishedEvent"/>.
    /// </summary>
    public async IAsyncEnumerable<RunStreamEvent> StreamAsync(
        string conversationKey, string message, RunOptions? runOptions, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var context = await Translate(() => PrepareAsync(conversationKey, message, runOptions, cancellationToken)).ConfigureAwait(false);
        var mapper = new StreamingUpdateMapper(context.ThreadId);
        var scope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        RunOperation? operation = null;
        var finished = false;
        try
        {
            var request = BuildRunRequest(context, context.Assistant!);
            var (stream, openError) = await TryOpenAsync(
                ct => Client.CreateRunStreamingAsync(request.ThreadId, request.AssistantId, AssistantsProtocolBackend.ToRunOptions(request), ct),
                cancellationToken).ConfigureAwait(false);
            if (openError is not null)
            {
                // Nothing was read: the run may or may not exist. Find it by the operation ID; never create it twice.
                var found = await RecoverRunAsync(context, openError, cancellationToken).ConfigureAwait(false);
                if (found is null)
                {
                    (stream, openError) = await TryOpenAsync(
                        ct => Client.CreateRunStreamingAsync(request.ThreadId, request.AssistantId, AssistantsProtocolBackend.ToRunOptions(request), ct),
                        cancellationToken).ConfigureAwait(false);
                    if (openError is not null)
                    {
                        throw Translated(openError);
                    }
                }
                else
                {
                    operation = await AdoptAsync(context, found, cancellationToken).ConfigureAwait(false);
                }
            }

            while (!finished)
            {
                var broken = false;
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
                                    broken = true;
                                    if (failure is ClientResultException sseError && ParseStreamError(sseError) is { } parsed)
                                    {
                                        yield return new RunErrorEvent(context.ThreadId, mapper.RunId, parsed.Code, parsed.Message);
                                    }

                                    break;
                                }

                                var wasUnknown = mapper.RunId is null;
                                foreach (var e in mapper.Map(update!))
                                {
                                    yield return e;
                                }

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
                    // The stream broke before the run was announced: find it by its operation ID.
                    var found = await FindRunByOperationAsync(context, cancellationToken).ConfigureAwait(false)
                        ?? throw new AssistantsServerException(0, null, "The run stream broke before the run was created, and no run carrying the kit's operation ID exists.");
                    operation = await AdoptAsync(context, found, cancellationToken).ConfigureAwait(false);
                    broken = true;
                }

                var run = operation.Snapshot;
                if (!broken && run.Status == RunStatus.RequiresAction && mapper.RequiredCalls.Count > 0 && context.StopReason is null)
                {
                    var stepRun = run with { RequiredToolCalls = [.. mapper.RequiredCalls] };
                    var records = await ExecuteToolRoundAsync(operation, stepRun, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                    if (records is null)
                    {
                        continue; // stopped by the kit: follow the run by polling until it is cancelled
                    }

                    foreach (var record in records)
                    {
                        yield return new ToolCallCompletedEvent(context.ThreadId, run.Id, record.ToolCallId, ToolCallType.Function) { Record = record };
                    }

                    mapper.BeginSubmitStream();
                    var outputs = records.Select(r => new OpenAI.Assistants.ToolOutput(r.ToolCallId, r.Output)).ToArray();
                    (stream, openError) = await TryOpenAsync(ct => Client.SubmitToolOutputsToRunStreamingAsync(run.ThreadId, run.Id, outputs, ct), cancellationToken).ConfigureAwait(false);
                    if (openError is not null)
                    {
                        if (!WriteReconciler.IsAmbiguous(openError, cancellationToken))
                        {
                            throw Translated(openError);
                        }

                        // Reconcile like the polled submit: re-read the run; submit again only when it still waits for these calls.
                        operation.Snapshot = await _backend.SubmitToolOutputsAsync(run.ThreadId, run.Id, Outputs(records), cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }

                if (!broken && run.Status.IsTerminal())
                {
                    finished = true;
                }
                else
                {
                    // Follow the run by polling: a cut stream, a stream that ended early, a stop by the kit.
                    var statuses = new List<RunSnapshot>();
                    var settled = await PollUntilSettledAsync(operation, cancellationToken, statuses.Add).ConfigureAwait(false);
                    foreach (var s in statuses)
                    {
                        foreach (var e in mapper.OnPolledStatus(s))
                        {
                            yield return e;
                        }
                    }

                    if (settled.Status == RunStatus.RequiresAction && context.StopReason is null)
                    {
                        var records = await ExecuteToolRoundAsync(operation, settled, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                        if (records is not null)
                        {
                            foreach (var record in records)
                            {
                                yield return new ToolCallCompletedEvent(context.ThreadId, settled.Id, record.ToolCallId, ToolCallType.Function) { Record = record };
                            }

                            operation.Snapshot = await _backend.SubmitToolOutputsAsync(settled.ThreadId, settled.Id, Outputs(records), cancellationToken).ConfigureAwait(false);
                            foreach (var e in mapper.OnPolledStatus(operation.Snapshot))
                            {
                                yield return e;
                            }
                        }

                        continue;
                    }

                    if (settled.Status.IsTerminal())
                    {
                        finished = true;
                    }
                }

                if (finished)
                {
                    var final = operation.Snapshot;
                    if (final.Status == RunStatus.Failed && await RerunAsync(operation, final, cancellationToken).ConfigureAwait(false))
                    {
                        finished = false;
                        foreach (var e in mapper.OnPolledStatus(operation.Snapshot))
                        {
                            yield return e;
                        }

                        continue;
                    }
                }
            }

            // Catch up on what the stream did not deliver (after a cut), then finish.
            var last = operation!.Snapshot;
            var messages = last.Status == RunStatus.Failed
                ? []
                : await _backend.GetRunMessagesAsync(last.ThreadId, last.Id, context.UserMessageId, cancellationToken).ConfigureAwait(false);
            foreach (var m in messages)
            {
                foreach (var e in mapper.CatchUp(m))
                {
                    yield return e;
                }
            }

            if (_options.RunStepLog && mapper.Steps.Count == 0)
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

            var result = await CompleteRunAsync(context, last, messages, mapper.Steps, cancellationToken).ConfigureAwait(false);
            operation.Value = result;
            yield return new RunFinishedEvent(last.ThreadId, last.Id, last.Status, result, last.Status == RunStatus.Failed ? Failed(context, last).Error : null, Sum(context.EarlierUsage, last.Usage));
            finished = true;
        }
        finally
        {
            if (!finished && operation is not null && cancellationToken.IsCancellationRequested)
            {
                await OnCallerCancelledAsync(operation).ConfigureAwait(false);
            }

            await DisposeAccountingAsync(context).ConfigureAwait(false);
        }
    }

    private AssistantClient Client => _clients.Assistants;

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
        _backend is AssistantsProtocolBackend assistants && context.RunOperationId is { } operationId
            ? await assistants.FindRunAsync(context.ThreadId, operationId, cancellationToken).ConfigureAwait(false)
            : null;

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

    /// <summary>The OpenAI client surfaces an SSE <c>error</c> event as <c>ClientResultException("Streaming error (code: type)")</c>.</summary>
    internal static (string? Code, string Message)? ParseStreamError(ClientResultException exception)
    {
        var match = StreamErrorPattern().Match(exception.Message);
        return match.Success
            ? (match.Groups["code"].Value is { Length: > 0 } code && code != "null" ? code : null, exception.Message)
            : exception.Status == 0 ? null : (null, exception.Message);
    }

    [GeneratedRegex(@"Streaming error \(code: (?<code>[^,)]*)")]
    private static partial Regex StreamErrorPattern();
}
