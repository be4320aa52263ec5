using System.Text;
using System.Text.Json.Nodes;
using Assistants.Kit.Protocols.Internal;
using Assistants.Kit.Tools.Internal;

namespace Assistants.Kit.Streaming.Internal;

/// <summary>
/// Turns Responses stream events (JSON, with <c>sequence_number</c>) into the kit's events, for one run (several
/// responses). Events at or below the last sequence number seen are ignored, so a resumed stream never repeats one. It
/// remembers what it emitted (per message, per call, per step), so what the kit catches up on afterwards comes once.
/// </summary>
internal sealed class ResponsesStreamMapper : IStreamMapper
{
    private readonly string _threadId;
    private readonly Dictionary<string, StringBuilder> _text = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AssistantMessage> _completed = new(StringComparer.Ordinal);
    private readonly List<string> _messageOrder = [];
    private readonly Dictionary<string, (string CallId, int Index)> _calls = new(StringComparer.Ordinal);
    private readonly EmittedToolCalls _emittedCalls = new();
    private readonly List<RunStepRecord> _steps = [];
    private RunStatus? _lastStatus;

    public ResponsesStreamMapper(string threadId)
    {
        _threadId = threadId;
    }

    /// <summary>Gets the ID of the response being streamed.</summary>
    public string? ResponseId { get; private set; }

    /// <summary>Gets the last sequence number seen in the current response's stream (-1 before the first).</summary>
    public int LastSequence { get; private set; } = -1;

    /// <summary>Gets the response as last reported (created, in progress, or final).</summary>
    public RunSnapshot? Snapshot { get; private set; }

    RunSnapshot? IStreamMapper.Run => Snapshot;

    /// <summary>Gets a value indicating whether the current response reached a final event.</summary>
    public bool Finished { get; private set; }

    public IReadOnlyList<AssistantMessage> CompletedMessages => [.. _messageOrder.Where(_completed.ContainsKey).Select(id => _completed[id])];

    /// <summary>Gets whether every message announced was also seen completed.</summary>
    public bool AllMessagesCompleted => _messageOrder.All(_completed.ContainsKey);

    /// <summary>Gets the finished responses of the run seen so far, each one step.</summary>
    public IReadOnlyList<RunStepRecord> Steps => _steps;

    /// <summary>Prepares for the next response of the run (after tool outputs).</summary>
    public void BeginResponse()
    {
        ResponseId = null;
        LastSequence = -1;
        Finished = false;
        _messageOrder.RemoveAll(id => !_completed.ContainsKey(id));
    }

    /// <summary>Maps one stream event, appending its kit events (none or one) to <paramref name="events"/>.</summary>
    public void Map(JsonObject e, List<RunStreamEvent> events)
    {
        var type = e["type"]?.GetValue<string>();
        var sequence = e["sequence_number"] is JsonValue s && s.TryGetValue<int>(out var n) ? n : LastSequence + 1;
        if (sequence <= LastSequence)
        {
            return;
        }

        // An error event ends the stream but is not one of the response's events: resuming after the last response event
        // must not skip the event that took its sequence number.
        if (type != "error")
        {
            LastSequence = sequence;
        }

        switch (type)
        {
            case "response.created" or "response.queued" or "response.in_progress"
                or "response.completed" or "response.incomplete" or "response.failed" or "response.cancelled":
                if (e["response"] is JsonObject response)
                {
                    var snapshot = ResponsesProtocolBackend.ToSnapshot(response, _threadId, null);
                    ResponseId = snapshot.Id;
                    Finished = type is "response.completed" or "response.incomplete" or "response.failed" or "response.cancelled";
                    OnStatus(snapshot, events);
                }

                break;

            case "response.output_item.added" when e["item"] is JsonObject item:
                var itemId = item["id"]?.GetValue<string>() ?? string.Empty;
                if (item["type"]?.GetValue<string>() == "message")
                {
                    Track(itemId);
                    events.Add(new MessageCreatedEvent(_threadId, ResponseId, itemId));
                }
                else if (item["type"]?.GetValue<string>() == "function_call")
                {
                    var index = e["output_index"]?.GetValue<int>() ?? 0;
                    var callId = item["call_id"]?.GetValue<string>() ?? itemId;
                    _calls[itemId] = (callId, index);
                    _emittedCalls.Started(callId, index);
                    events.Add(new ToolCallStartedEvent(_threadId, ResponseId, callId, ToolCallType.Function, item["name"]?.GetValue<string>(), index));
                }

                break;

            case "response.output_text.delta":
                var textItem = e["item_id"]?.GetValue<string>() ?? string.Empty;
                var delta = e["delta"]?.GetValue<string>() ?? string.Empty;
                if (delta.Length > 0)
                {
                    Track(textItem);
                    _text[textItem].Append(delta);
                    events.Add(new TextDeltaEvent(_threadId, ResponseId, textItem, delta));
                }

                break;

            case "response.function_call_arguments.delta":
                var callItem = e["item_id"]?.GetValue<string>() ?? string.Empty;
                var argumentsDelta = e["delta"]?.GetValue<string>() ?? string.Empty;
                if (argumentsDelta.Length > 0 && _calls.TryGetValue(callItem, out var call))
                {
                    _emittedCalls.Appended(call.CallId, argumentsDelta);
                    events.Add(new ToolCallArgumentsDeltaEvent(_threadId, ResponseId, call.CallId, call.Index, argumentsDelta));
                }

                break;

            case "response.output_item.done" when e["item"] is JsonObject done && done["type"]?.GetValue<string>() == "message":
                var message = ResponsesProtocolBackend.ToMessage(done, ResponseId, DateTimeOffset.UtcNow);
                Track(message.Id);
                _completed[message.Id] = message;
                events.Add(new MessageCompletedEvent(_threadId, ResponseId, message, done["status"]?.GetValue<string>() == "incomplete"));
                break;

            case "error":
                var error = e["error"] as JsonObject ?? e;
                events.Add(new RunErrorEvent(_threadId, ResponseId, error["code"]?.GetValue<string>(), error["message"]?.GetValue<string>() ?? "Streaming error."));
                break;
        }
    }

    /// <summary>Emits what a message has beyond what was already emitted, then its completion (after a recovery).</summary>
    public IEnumerable<RunStreamEvent> CatchUp(AssistantMessage message)
    {
        if (_completed.ContainsKey(message.Id))
        {
            yield break;
        }

        if (!_text.ContainsKey(message.Id))
        {
            Track(message.Id);
            yield return new MessageCreatedEvent(_threadId, message.RunId ?? Snapshot?.Id, message.Id);
        }

        var emitted = _text[message.Id].ToString();
        if (message.Text.Length > emitted.Length && message.Text.StartsWith(emitted, StringComparison.Ordinal))
        {
            var rest = message.Text[emitted.Length..];
            _text[message.Id].Append(rest);
            yield return new TextDeltaEvent(_threadId, message.RunId ?? Snapshot?.Id, message.Id, rest);
        }

        _completed[message.Id] = message;
        yield return new MessageCompletedEvent(_threadId, message.RunId ?? Snapshot?.Id, message, incomplete: false);
    }

    /// <summary>Follows a response seen other than in its stream (a re-run followed by polling), emitting nothing.</summary>
    public void Follow(RunSnapshot response) => Snapshot = response;

    /// <summary>Emits the status change a response read by polling shows.</summary>
    public IEnumerable<RunStreamEvent> OnPolledStatus(RunSnapshot response)
    {
        var events = new List<RunStreamEvent>(1);
        OnStatus(response, events);
        return events;
    }

    /// <summary>Records a finished response as a step, emitting it once.</summary>
    public IEnumerable<RunStreamEvent> OnPolledStep(RunStepRecord step)
    {
        if (step.Status == RunStepState.InProgress || _steps.Any(s => s.StepId == step.StepId))
        {
            return [];
        }

        _steps.Add(step);
        return [new RunStepCompletedEvent(_threadId, step.StepId, step)];
    }

    /// <summary>Announces a function call the stream did not (fully) deliver: its start when unseen, then the rest of its arguments.</summary>
    public IEnumerable<RunStreamEvent> CatchUp(ToolCallRequest call, int index) => _emittedCalls.CatchUp(_threadId, Snapshot?.Id, call, index);

    /// <summary>A status change comes from the response's status field, never from the event's name.</summary>
    private void OnStatus(RunSnapshot response, List<RunStreamEvent> events)
    {
        Snapshot = response;
        if (_lastStatus != response.Status)
        {
            _lastStatus = response.Status;
            events.Add(new RunStatusChangedEvent(_threadId, response.Id, response.Status));
        }
    }

    private void Track(string itemId)
    {
        if (!_text.ContainsKey(itemId))
        {
            _text[itemId] = new StringBuilder();
            _messageOrder.Add(itemId);
        }
    }
}
