using System.ClientModel;
using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Streaming.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Assistants.Kit.Runs.Internal;

/// <summary>The streamed path of the engine on the Responses protocol.</summary>
internal sealed partial class RunEngine
{
    private const int MaxStreamResumes = 5;

    /// <summary>
    /// Streams a run on the Responses protocol: each response is created in background mode with <c>stream: true</c>; a
    /// response that calls tools is answered with their outputs in a new streamed response, continuing the same event
    /// sequence. A stream that breaks is resumed from the last event seen (<c>starting_after</c>), never by polling and
    /// never by creating the response again.
    /// </summary>
    public IAsyncEnumerable<RunStreamEvent> StreamResponsesAsync(string conversationKey, string message, RunOptions? runOptions, CancellationToken cancellationToken) =>
        StreamResponsesCoreAsync(ct => Translate(() => PrepareAsync(conversationKey, message, runOptions, ct)), null, cancellationToken);

    /// <summary>
    /// Continues, as a stream, a run whose response asked for tools and paused for a decision: once every call of the
    /// round has its output, the outputs go in the run's next response, which is streamed (and so on to the run's end).
    /// </summary>
    public IAsyncEnumerable<RunStreamEvent> ContinueResponsesStreamAsync(RunOperation continued, CancellationToken cancellationToken) =>
        StreamResponsesCoreAsync(_ => Task.FromResult(continued.Context), continued, cancellationToken);

    private async IAsyncEnumerable<RunStreamEvent> StreamResponsesCoreAsync(
        Func<CancellationToken, Task<RunContext>> prepare, RunOperation? continued, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var backend = (ResponsesProtocolBackend)_backend;
        var context = await prepare(cancellationToken).ConfigureAwait(false);
        var mapper = new ResponsesStreamMapper(context.ThreadId);
        var scope = _scopes.CreateAsyncScope();
        await using var scopeDisposal = scope.ConfigureAwait(false);
        var previousActivity = Activity.Current;
        Activity.Current = context.Activity ?? previousActivity;
        RunOperation? operation = continued;
        var finished = false;
        try
        {
            var request = BuildRunRequest(context, context.Assistant!);
            var settings = ResponsesProtocolBackend.Settings(request);
            var input = new JsonArray();

            // A continued run starts at the response that paused (streamed and reported before the pause); its messages
            // belong to the run's result.
            var resumeAt = continued?.Snapshot;
            context.ResponseMessages.AddRange(resumeAt?.Messages ?? []);
            while (true)
            {
                RunSnapshot response;
                RunStepRecord step;
                if (resumeAt is not null && continued is not null)
                {
                    operation = continued;
                    response = resumeAt;
                    step = StepOf(response);
                    resumeAt = null;
                }
                else
                {
                    mapper.BeginResponse();
                    var stream = await Translate(() => backend.OpenStreamAsync(settings, context.ThreadId, input, request.OperationId, cancellationToken)).ConfigureAwait(false);
                    var resumes = 0;
                    while (true)
                    {
                        Exception? failure = null;
                        await using (stream.ConfigureAwait(false))
                        {
                            var parser = SseParser.Create(stream).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                            try
                            {
                                while (true)
                                {
                                    JsonObject? data = null;
                                    try
                                    {
                                        if (!await parser.MoveNextAsync().ConfigureAwait(false))
                                        {
                                            break;
                                        }

                                        data = JsonNode.Parse(parser.Current.Data) as JsonObject;
                                    }
                                    catch (Exception ex) when (ex is IOException or HttpRequestException or JsonException
                                        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                                    {
                                        failure = ex;
                                    }

                                    if (failure is not null)
                                    {
                                        break;
                                    }

                                    if (data is null)
                                    {
                                        continue;
                                    }

                                    var hadResponse = mapper.ResponseId is not null;
                                    foreach (var e in mapper.Map(data))
                                    {
                                        yield return e;
                                    }

                                    if (!hadResponse && mapper.Snapshot is { } first)
                                    {
                                        if (operation is null)
                                        {
                                            operation = await AdoptAsync(context, first, cancellationToken).ConfigureAwait(false);
                                        }
                                        else
                                        {
                                            operation.Snapshot = first;
                                            await OnNextResponseAsync(context, first, cancellationToken).ConfigureAwait(false);
                                        }
                                    }

                                    if (operation is not null && mapper.Snapshot is { } latest)
                                    {
                                        operation.Snapshot = latest;
                                    }
                                }
                            }
                            finally
                            {
                                await parser.DisposeAsync().ConfigureAwait(false);
                            }
                        }

                        if (mapper.Finished)
                        {
                            break;
                        }

                        // The stream ended or broke before the response's final event: resume it after the last event seen.
                        if (mapper.ResponseId is not { } responseId)
                        {
                            throw new AssistantsServerException(0, null, "The response stream broke before the response was announced; responses cannot be listed, so it cannot be followed.", failure);
                        }

                        if (++resumes > MaxStreamResumes)
                        {
                            throw new AssistantsServerException(0, null, $"The stream of response {responseId} broke {MaxStreamResumes} times.", failure);
                        }

                        stream = await Translate(() => backend.ResumeStreamAsync(responseId, mapper.LastSequence, cancellationToken)).ConfigureAwait(false);
                    }

                    response = mapper.Snapshot!;
                    operation ??= await AdoptAsync(context, response, cancellationToken).ConfigureAwait(false);
                    operation.Snapshot = response;
                    step = StepOf(response);
                    yield return new RunStepCompletedEvent(context.ThreadId, response.Id, step);
                }

                if (response.Status == RunStatus.RequiresAction)
                {
                    var records = await ExecuteToolRoundAsync(operation, response, scope.ServiceProvider, cancellationToken).ConfigureAwait(false);
                    if (records is null && context.AwaitingApprovals.Count > 0)
                    {
                        // Paused for a person's decision: the stream ends here; ApproveAsync/RejectAsync continue the run
                        // (the response that asked for the tools has finished; the outputs go in the run's next response,
                        // and the continuation accounts this response as the run's first step).
                        var paused = AwaitingResult(context, response);
                        operation.Value = paused;
                        finished = true;
                        foreach (var e in FinishedBeforePause(context, response, paused))
                        {
                            yield return e;
                        }

                        yield return new RunFinishedEvent(response.ThreadId, response.Id, RunStatus.RequiresAction, paused, null, null);
                        yield break;
                    }

                    if (records is not null)
                    {
                        foreach (var record in records)
                        {
                            yield return new ToolCallCompletedEvent(context.ThreadId, response.Id, record.ToolCallId, ToolCallType.Function) { Record = record };
                        }

                        context.EarlierUsage = Sum(context.EarlierUsage, response.Usage);
                        context.ResponseSteps.Add(step);
                        input = ResponsesProtocolBackend.OutputItems(records.Select(r => new KeyValuePair<string, string>(r.ToolCallId, r.Output)));
                        continue;
                    }

                    // Stopped by the kit (loop guard, budget): the run ends cancelled.
                    response = operation.Snapshot;
                    yield return new RunStatusChangedEvent(context.ThreadId, response.Id, response.Status);
                }

                IReadOnlyList<AssistantMessage> messages = [.. context.ResponseMessages, .. mapper.CompletedMessages];
                var result = await CompleteRunAsync(context, response, messages, [.. context.ResponseSteps, step], cancellationToken).ConfigureAwait(false);
                operation.Value = result;
                finished = true;
                yield return new RunFinishedEvent(
                    response.ThreadId,
                    response.Id,
                    response.Status,
                    result,
                    response.Status == RunStatus.Failed ? Failed(context, response).Error : null,
                    Sum(context.EarlierUsage, response.Usage));
                yield break;
            }
        }
        finally
        {
            if (!finished && operation is not null && cancellationToken.IsCancellationRequested)
            {
                context.ErrorType = "cancelled";
                await OnCallerCancelledAsync(operation).ConfigureAwait(false);
            }

            if (operation is not null)
            {
                context.LastRun = operation.Snapshot;
            }

            await DisposeAccountingAsync(context).ConfigureAwait(false);
            Activity.Current = previousActivity;
        }
    }
}
