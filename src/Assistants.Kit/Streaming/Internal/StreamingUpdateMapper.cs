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
internal sealed class StreamingUpdateMapper
{
    private readonly string _threadId;
    private readonly Dictionary<string, StringBuilder> _text = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AssistantMessage> _completedMessages = new(StringComparer.Ordinal);
    private readonly List<string> _messageOrder = [];
    private readonly Dictionary<(string StepId, int Index), string> _callIds = [];
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

    /// <summary>Gets the tool calls of the current <c>requires_action</c> (one update per call).</summary>
    public List<ToolCallRequest> RequiredCalls { get; } = [];

    /// <summary>Gets whether any update arrived.</summary>
    public bool SawAnyUpdate { get; private set; }

    public IReadOnlyList<RunStepRecord> Steps => [.. _stepOrder.Select(id => _steps[id])];

    /// <summary>Gets the text emitted so far for a message.</summary>
    public string EmittedText(string messageId) => _text.TryGetValue(messageId, out var text) ? text.ToString() : string.Empty;

    public bool IsMessageCompleted(string messageId) => _completedMessages.ContainsKey(messageId);

    public bool IsMessageKnown(string messageId) => _text.ContainsKey(messageId) || _completedMessages.ContainsKey(messageId);

    public IReadOnlyList<AssistantMessage> CompletedMessages => [.. _messageOrder.Where(_completedMessages.ContainsKey).Select(id => _completedMessages[id])];

    /// <summary>Prepares for the stream that follows a tool-output submission.</summary>
    public void BeginSubmitStream() => RequiredCalls.Clear();

    public IEnumerable<RunStreamEvent> Map(StreamingUpdate update)
    {
        SawAnyUpdate = true;
        switch (update)
        {
            case RequiredActionUpdate required:
                RequiredCalls.Add(new ToolCallRequest(required.ToolCallId, required.FunctionName, required.FunctionArguments ?? string.Empty));
                foreach (var e in OnRun(required.GetThreadRun()))
                {
                    yield return e;
                }

                break;

            case RunUpdate run:
                foreach (var e in OnRun(run.Value))
                {
                    yield return e;
                }

                break;

            case RunStepUpdate step when step.UpdateKind is StreamingUpdateReason.RunStepCompleted or StreamingUpdateReason.RunStepFailed
                or StreamingUpdateReason.RunStepCancelled or StreamingUpdateReason.RunStepExpired:
                foreach (var e in OnStepFinished(step.Value))
                {
                    yield return e;
                }

                break;

            case RunStepDetailsUpdate details:
                foreach (var e in OnStepDelta(details))
                {
                    yield return e;
                }

                break;

            case MessageStatusUpdate status when status.UpdateKind == StreamingUpdateReason.MessageCreated:
                Track(status.Value.Id);
                yield return new MessageCreatedEvent(_threadId, RunId, status.Value.Id);
                break;

            case MessageStatusUpdate status when status.UpdateKind is StreamingUpdateReason.MessageCompleted or StreamingUpdateReason.MessageFailed:
                var message = CitationResolver.Resolve(AssistantsProtocolBackend.ToMessage(status.Value), Steps);
                Track(message.Id);
                _completedMessages[message.Id] = message;
                yield return new MessageCompletedEvent(_threadId, RunId, message, status.Value.Status == MessageStatus.Incomplete);
                break;

            case MessageContentUpdate content when !string.IsNullOrEmpty(content.Text):
                Track(content.MessageId);
                _text[content.MessageId].Append(content.Text);
                yield return new TextDeltaEvent(_threadId, RunId, content.MessageId, content.Text);
                break;
        }
    }

    /// <summary>Emits the text a message has beyond what was already emitted, then its completion (stream recovery).</summary>
    public IEnumerable<RunStreamEvent> CatchUp(AssistantMessage message)
    {
        message = CitationResolver.Resolve(message, Steps);
        if (!IsMessageKnown(message.Id))
        {
            Track(message.Id);
            yield return new MessageCreatedEvent(_threadId, RunId, message.Id);
        }

        if (!IsMessageCompleted(message.Id))
        {
            var emitted = EmittedText(message.Id);
            if (message.Text.Length > emitted.Length && message.Text.StartsWith(emitted, StringComparison.Ordinal))
            {
                var rest = message.Text[emitted.Length..];
                _text[message.Id].Append(rest);
                yield return new TextDeltaEvent(_threadId, RunId, message.Id, rest);
            }

            _completedMessages[message.Id] = message;
            yield return new MessageCompletedEvent(_threadId, RunId, message, incomplete: false);
        }
    }

    /// <summary>Emits a status change seen while following the run by polling (stream recovery).</summary>
    public IEnumerable<RunStreamEvent> OnPolledStatus(RunSnapshot run)
    {
        LastRun = run;
        RunId ??= run.Id;
        if (_lastStatus != run.Status)
        {
            _lastStatus = run.Status;
            yield return new RunStatusChangedEvent(_threadId, run.Id, run.Status);
        }
    }

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

    private IEnumerable<RunStreamEvent> OnRun(ThreadRun run)
    {
        var snapshot = AssistantsProtocolBackend.ToSnapshot(run, null);
        foreach (var e in OnPolledStatus(snapshot))
        {
            yield return e;
        }
    }

    private IEnumerable<RunStreamEvent> OnStepDelta(RunStepDetailsUpdate details)
    {
        if (details.ToolCallIndex is not { } index && details.ToolCallId is null)
        {
            yield break;
        }

        var key = (details.StepId ?? string.Empty, details.ToolCallIndex ?? 0);
        if (!_callIds.TryGetValue(key, out var callId))
        {
            if (details.ToolCallId is not { } newId)
            {
                yield break;
            }

            callId = newId;
            _callIds[key] = callId;
            var type = details.FunctionName is not null ? ToolCallType.Function
                : details.FileSearchResults is not null || details.FileSearchRankingOptions is not null ? ToolCallType.FileSearch
                : details.CodeInterpreterInput is not null || details.CodeInterpreterOutputs is not null ? ToolCallType.CodeInterpreter
                : ToolCallType.Function;
            yield return new ToolCallStartedEvent(_threadId, RunId, callId, type, details.FunctionName, key.Item2);
        }

        var delta = details.FunctionArguments ?? details.CodeInterpreterInput;
        if (!string.IsNullOrEmpty(delta))
        {
            yield return new ToolCallArgumentsDeltaEvent(_threadId, RunId, callId, key.Item2, delta);
        }
    }

    private IEnumerable<RunStreamEvent> OnStepFinished(RunStep step)
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

                yield return call.Kind == OpenAI.Assistants.RunStepToolCallKind.CodeInterpreter
                    ? new ToolCallCompletedEvent(_threadId, RunId, call.Id, ToolCallType.CodeInterpreter)
                    {
                        CodeInterpreterInput = call.CodeInterpreterInput,
                        CodeInterpreterLogs = AssistantsProtocolBackend.CodeInterpreterLogs(call),
                        ImageFileIds = AssistantsProtocolBackend.CodeInterpreterImages(call),
                    }
                    : new ToolCallCompletedEvent(_threadId, RunId, call.Id, ToolCallType.FileSearch)
                    {
                        FileSearchResults = AssistantsProtocolBackend.FileSearchResults(call),
                    };
            }
        }

        yield return new RunStepCompletedEvent(_threadId, RunId, record);
    }

    private void Track(string messageId)
    {
        if (!_text.ContainsKey(messageId))
        {
            _text[messageId] = new StringBuilder();
            _messageOrder.Add(messageId);
        }
    }
}
