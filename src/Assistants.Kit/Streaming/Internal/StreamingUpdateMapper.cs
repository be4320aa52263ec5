using System.Text;
using Assistants.Kit.Files.Internal;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;
using OpenAI.Assistants;

namespace Assistants.Kit.Streaming.Internal;

/// <summary>
/// Turns the OpenAI client's streaming updates (Assistants protocol) into the kit's events, and remembers what the
/// engine needs afterwards: the pending tool calls, the last run snapshot, the steps, and the text emitted per message
/// (so a recovered stream emits exactly the missing rest). One instance per run; not thread-safe.
/// </summary>
internal sealed class StreamingUpdateMapper : IStreamMapper
{
    private readonly string _threadId;
    private readonly Dictionary<string, StringBuilder> _text = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AssistantMessage> _completedMessages = new(StringComparer.Ordinal);
    private readonly List<string> _messageOrder = [];
    private readonly Dictionary<(string StepId, int Index), string> _callIds = [];
    private readonly EmittedToolCalls _calls = new();
    private readonly HashSet<string> _completedCalls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RunStepRecord> _steps = new(StringComparer.Ordinal);
    private readonly List<string> _stepOrder = [];
    private RunStatus? _lastStatus;

    public StreamingUpdateMapper(string threadId)
    {
        _threadId = threadId;
    }

    public string? RunId { get; private set; }

    /// <summary>Gets the last run snapshot seen (run events carry the whole run).</summary>
    public RunSnapshot? LastRun { get; private set; }

    RunSnapshot? IStreamMapper.Run => LastRun;

    /// <summary>Gets the tool calls of the current <c>requires_action</c> (one update per call).</summary>
    public List<ToolCallRequest> RequiredCalls { get; } = [];

    public IReadOnlyList<RunStepRecord> Steps => [.. _stepOrder.Select(id => _steps[id])];

    /// <summary>Gets the text emitted so far for a message.</summary>
    public string EmittedText(string messageId) => _text.TryGetValue(messageId, out var text) ? text.ToString() : string.Empty;

    public bool IsMessageCompleted(string messageId) => _completedMessages.ContainsKey(messageId);

    public bool IsMessageKnown(string messageId) => _text.ContainsKey(messageId) || _completedMessages.ContainsKey(messageId);

    public IReadOnlyList<AssistantMessage> CompletedMessages => [.. _messageOrder.Where(_completedMessages.ContainsKey).Select(id => _completedMessages[id])];

    /// <summary>Gets whether every message the stream announced was also seen completed (the stream is the whole story).</summary>
    public bool AllMessagesCompleted => _messageOrder.All(_completedMessages.ContainsKey);

    /// <summary>Prepares for the stream that follows a tool-output submission.</summary>
    public void BeginSubmitStream() => RequiredCalls.Clear();

    /// <summary>
    /// Follows <paramref name="run"/> without emitting anything: remembers it as the last snapshot and takes its ID. A
    /// different run (a re-run after a failure) starts afresh: its own statuses, steps and pending calls.
    /// </summary>
    public void Follow(RunSnapshot run)
    {
        if (RunId is not null && !string.Equals(RunId, run.Id, StringComparison.Ordinal))
        {
            _lastStatus = null;
            _steps.Clear();
            _stepOrder.Clear();
            RequiredCalls.Clear();
        }

        RunId = run.Id;
        LastRun = run;
    }

    /// <summary>
    /// Maps one update, appending its events (none, one, or a few) to <paramref name="events"/>: the hot path of a
    /// stream, so it allocates nothing but the events themselves.
    /// </summary>
    public void Map(StreamingUpdate update, List<RunStreamEvent> events)
    {
        switch (update)
        {
            case MessageContentUpdate content:
                if (content.Text is { Length: > 0 } text)
                {
                    TextOf(content.MessageId).Append(text);
                    events.Add(new TextDeltaEvent(_threadId, RunId, content.MessageId, text));
                }

                break;

            case RequiredActionUpdate required:
                RequiredCalls.Add(new ToolCallRequest(required.ToolCallId, required.FunctionName, required.FunctionArguments ?? string.Empty));
                OnStatus(AssistantsProtocolBackend.ToSnapshot(required.GetThreadRun(), null), events);
                break;

            case RunUpdate run:
                OnStatus(AssistantsProtocolBackend.ToSnapshot(run.Value, null), events);
                break;

            case RunStepUpdate step when step.UpdateKind is StreamingUpdateReason.RunStepCompleted or StreamingUpdateReason.RunStepFailed
                or StreamingUpdateReason.RunStepCancelled or StreamingUpdateReason.RunStepExpired:
                RunId ??= step.Value.RunId; // a submit stream opens with the tool step, before any run event
                OnStepFinished(step.Value, events);
                break;

            case RunStepUpdate created when RunId is null:
                RunId = created.Value.RunId;
                break;

            case RunStepDetailsUpdate details:
                OnStepDelta(details, events);
                break;

            case MessageStatusUpdate status when status.UpdateKind == StreamingUpdateReason.MessageCreated:
                RunId ??= status.Value.RunId;
                _ = TextOf(status.Value.Id);
                events.Add(new MessageCreatedEvent(_threadId, RunId, status.Value.Id));
                break;

            case MessageStatusUpdate status when status.UpdateKind is StreamingUpdateReason.MessageCompleted or StreamingUpdateReason.MessageFailed:
                var message = CitationResolver.Resolve(AssistantsProtocolBackend.ToMessage(status.Value), Steps);
                _ = TextOf(message.Id);
                _completedMessages[message.Id] = message;
                events.Add(new MessageCompletedEvent(_threadId, RunId, message, status.Value.Status == MessageStatus.Incomplete));
                break;
        }
    }

    /// <summary>Emits the text a message has beyond what was already emitted, then its completion (stream recovery).</summary>
    public IEnumerable<RunStreamEvent> CatchUp(AssistantMessage message)
    {
        message = CitationResolver.Resolve(message, Steps);
        if (!IsMessageKnown(message.Id))
        {
            _ = TextOf(message.Id);
            yield return new MessageCreatedEvent(_threadId, RunId, message.Id);
        }

        if (!IsMessageCompleted(message.Id))
        {
            var emitted = EmittedText(message.Id);
            if (message.Text.Length > emitted.Length && message.Text.StartsWith(emitted, StringComparison.Ordinal))
            {
                var rest = message.Text[emitted.Length..];
                TextOf(message.Id).Append(rest);
                yield return new TextDeltaEvent(_threadId, RunId, message.Id, rest);
            }

            _completedMessages[message.Id] = message;
            yield return new MessageCompletedEvent(_threadId, RunId, message, incomplete: false);
        }
    }

    /// <summary>Emits a status change (from the run's status field) seen while following the run by polling.</summary>
    public IEnumerable<RunStreamEvent> OnPolledStatus(RunSnapshot run)
    {
        var events = new List<RunStreamEvent>(1);
        OnStatus(run, events);
        return events;
    }

    /// <summary>
    /// Announces a function call the stream did not (fully) deliver, read from the run after a recovery: the start when
    /// it was never seen, then the part of its arguments beyond what was already emitted.
    /// </summary>
    public IEnumerable<RunStreamEvent> CatchUp(ToolCallRequest call, int index) => _calls.CatchUp(_threadId, RunId, call, index);

    /// <summary>Records a step read from the server after a recovery, emitting it when it was not seen before.</summary>
    public IEnumerable<RunStreamEvent> OnPolledStep(RunStepRecord step)
    {
        if (_steps.ContainsKey(step.StepId) || step.Status == RunStepState.InProgress)
        {
            yield break;
        }

        _steps[step.StepId] = step;
        _stepOrder.Add(step.StepId);
        yield return new RunStepCompletedEvent(_threadId, RunId, step);
    }

    /// <summary>A status change comes from the run's status field, never from the event's name.</summary>
    private void OnStatus(RunSnapshot run, List<RunStreamEvent> events)
    {
        Follow(run);
        if (_lastStatus != run.Status)
        {
            _lastStatus = run.Status;
            events.Add(new RunStatusChangedEvent(_threadId, run.Id, run.Status));
        }
    }

    private void OnStepDelta(RunStepDetailsUpdate details, List<RunStreamEvent> events)
    {
        if (details.ToolCallIndex is null && details.ToolCallId is null)
        {
            return;
        }

        var key = (details.StepId ?? string.Empty, details.ToolCallIndex ?? 0);
        if (!_callIds.TryGetValue(key, out var callId))
        {
            if (details.ToolCallId is not { } newId)
            {
                return;
            }

            callId = newId;
            _callIds[key] = callId;
            _calls.Started(callId, key.Item2);
            // The update has no tool type: a function is announced with its name, a code interpreter call with its
            // (empty) input; the client's result and output lists are never null, so they only count when not empty.
            var type = details.FunctionName is not null ? ToolCallType.Function
                : details.CodeInterpreterInput is not null || details.CodeInterpreterOutputs is { Count: > 0 } ? ToolCallType.CodeInterpreter
                : ToolCallType.FileSearch;
            events.Add(new ToolCallStartedEvent(_threadId, RunId, callId, type, details.FunctionName, key.Item2));
        }

        var delta = details.FunctionArguments ?? details.CodeInterpreterInput;
        if (!string.IsNullOrEmpty(delta))
        {
            _calls.Appended(callId, delta);
            events.Add(new ToolCallArgumentsDeltaEvent(_threadId, RunId, callId, key.Item2, delta, details.FunctionArguments is not null ? ToolCallType.Function : ToolCallType.CodeInterpreter));
        }
    }

    private void OnStepFinished(RunStep step, List<RunStreamEvent> events)
    {
        var record = AssistantsProtocolBackend.ToStepRecord(step);
        if (!_steps.ContainsKey(record.StepId))
        {
            _stepOrder.Add(record.StepId);
        }

        _steps[record.StepId] = record;
        if (step.Details?.ToolCalls is { } calls)
        {
            foreach (var call in calls)
            {
                if (call.Kind == OpenAI.Assistants.RunStepToolCallKind.Function || !_completedCalls.Add(call.Id))
                {
                    continue;
                }

                events.Add(call.Kind == OpenAI.Assistants.RunStepToolCallKind.CodeInterpreter
                    ? new ToolCallCompletedEvent(_threadId, RunId, call.Id, ToolCallType.CodeInterpreter)
                    {
                        CodeInterpreterInput = call.CodeInterpreterInput,
                        CodeInterpreterLogs = AssistantsProtocolBackend.CodeInterpreterLogs(call),
                        ImageFileIds = AssistantsProtocolBackend.CodeInterpreterImages(call),
                    }
                    : new ToolCallCompletedEvent(_threadId, RunId, call.Id, ToolCallType.FileSearch)
                    {
                        FileSearchResults = AssistantsProtocolBackend.FileSearchResults(call),
                    });
            }
        }

        events.Add(new RunStepCompletedEvent(_threadId, RunId, record));
    }

    /// <summary>The text emitted so far for a message (tracked from its first sight).</summary>
    private StringBuilder TextOf(string messageId)
    {
        if (!_text.TryGetValue(messageId, out var text))
        {
            text = new StringBuilder();
            _text[messageId] = text;
            _messageOrder.Add(messageId);
        }

        return text;
    }
}
