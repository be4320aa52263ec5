using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The response state machine and the scripted model of the Responses surface. Like <see cref="RunEngine"/> it has no
/// timers: every access to a response first calls <see cref="Advance"/>, which replays what is due by the
/// <see cref="TimeProvider"/> (queued → in_progress → completed / incomplete / failed). One response is one model step: it
/// either issues one scripted tool round (its output holds the <c>function_call</c> items, several for parallel calls)
/// or produces the turn's outcome (a reply, a failure, an incomplete end).
/// </summary>
/// <remarks>
/// <para>
/// Turns: the responses from a user input until the model stops calling tools form one turn (what one Assistants run
/// is). A response whose context ends with <c>function_call_output</c> items (after the latest user message) answering
/// calls of an unfinished turn continues that turn; any other response starts a new turn, which takes the next run
/// ordinal and is matched against the script.
/// </para>
/// <para>
/// Usage (deterministic, per response, matching the usage of the corresponding Assistants run step):
/// <c>input_tokens = ceil(chars / 4)</c> over the instructions, the texts of every message item of the context
/// (conversation items or previous responses' inputs and outputs, plus the input) and every function call output;
/// <c>output_tokens = ceil(chars / 4)</c> over the reply text, or over the argument strings of the round's calls.
/// </para>
/// </remarks>
internal sealed partial class ResponsesEngine
{
    private const int ArgumentChunk = 16;
    private const string ObfuscationAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private readonly EmulatorStore _store;
    private readonly AssistantsEmulatorOptions _options;
    private readonly EmulatorScript _script;
    private readonly ILogger _logger;

    public ResponsesEngine(EmulatorStore store, AssistantsEmulatorOptions options, EmulatorScript script, ILogger logger)
    {
        _store = store;
        _options = options;
        _script = script;
        _logger = logger;
    }

    /// <summary>All items the model sees, oldest first: the history and the response's own input.</summary>
    public static IEnumerable<JsonObject> Context(ResponseRecord r) => r.History.Concat(r.Input);

    public static int InputTokens(string? instructions, IEnumerable<JsonObject> context) =>
        RunEngine.Tokens((instructions?.Length ?? 0) + context.Sum(ResponseItems.PromptChars));

    /// <summary>
    /// Finds the turn the new response belongs to (see the class remarks), records the submitted outputs on it, resolves
    /// the script and schedules the response; then emits <c>response.created</c> and <c>response.queued</c> /
    /// <c>response.in_progress</c>.
    /// </summary>
    public void Begin(ResponseRecord r, DateTimeOffset now)
    {
        var context = Context(r).ToList();
        var lastUser = context.FindLastIndex(ResponseItems.IsUserMessage);
        var outputs = context.Skip(lastUser + 1).Where(i => ResponseItems.TypeOf(i) == "function_call_output").ToList();
        TurnRecord? turn = null;
        foreach (var output in outputs)
        {
            if (ResponseItems.StringOf(output, "call_id") is { } callId &&
                _store.Data.CallTurns.TryGetValue(callId, out var turnId) &&
                _store.Data.Turns.TryGetValue(turnId, out var candidate) &&
                !candidate.Ended)
            {
                turn = candidate;
                break;
            }
        }

        if (turn is null)
        {
            turn = new TurnRecord { Id = _store.NewId("turn_"), Number = _store.NextRunNumber(), FirstResponseId = r.Id };
            _store.Data.Turns[turn.Id] = turn;
        }
        else
        {
            foreach (var output in outputs)
            {
                var callId = ResponseItems.StringOf(output, "call_id");
                if (turn.ToolCalls.Find(c => c.Id == callId) is { } call)
                {
                    call.Output = ResponseItems.TextOf(output);
                }
            }
        }

        r.TurnId = turn.Id;
        ResolvePlan(turn, r);
        r.StepDuration = turn.Plan?.Duration ?? _options.InProgressDuration;
        r.Created = now;
        if (r.Background)
        {
            r.Status = ResponseStatus.Queued;
            r.PhaseEndsAt = now + _options.QueuedDuration;
            Emit(r, "response.created", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
            Emit(r, "response.queued", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
        }
        else
        {
            r.Status = ResponseStatus.InProgress;
            r.PhaseEndsAt = now + r.StepDuration;
            Emit(r, "response.created", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
            Emit(r, "response.in_progress", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
        }

        _store.Touch();
    }

    public void Advance(ResponseRecord r, DateTimeOffset now)
    {
        for (var guard = 0; guard < 100 && r.IsActive; guard++)
        {
            var due = r.PhaseEndsAt ?? now;
            if (now < due)
            {
                return;
            }

            if (r.Status == ResponseStatus.Queued)
            {
                r.Status = ResponseStatus.InProgress;
                r.PhaseEndsAt = due + r.StepDuration;
                Emit(r, "response.in_progress", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
                _store.Touch();
            }
            else
            {
                ModelStep(r, due);
            }
        }
    }

    /// <summary>Cancels an active background response: it ends <c>cancelled</c> with the output it had (none), and its turn ends.</summary>
    public void Cancel(ResponseRecord r)
    {
        r.Status = ResponseStatus.Cancelled;
        r.PhaseEndsAt = null;
        if (_store.Data.Turns.TryGetValue(r.TurnId, out var turn))
        {
            turn.Ended = true;
        }

        _store.Touch();
    }

    public EmulatorRunContext CreateContext(TurnRecord turn, ResponseRecord r)
    {
        var userMessages = Context(r).Where(ResponseItems.IsUserMessage).Select(ResponseItems.TextOf).ToList();
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var call in turn.ToolCalls)
        {
            if (call.Output is not null)
            {
                byName[call.Name] = call.Output;
                byId[call.Id] = call.Output;
            }
        }

        return new EmulatorRunContext
        {
            Protocol = EmulatorProtocol.Responses,
            ThreadId = r.ConversationId ?? "",
            RunId = turn.FirstResponseId,
            ConversationId = r.ConversationId,
            ResponseId = r.Id,
            RunNumber = turn.Number,
            Model = r.Model,
            Instructions = r.Instructions,
            LatestUserMessage = userMessages.Count > 0 ? userMessages[^1] : "",
            EarlierUserMessageCount = Math.Max(0, userMessages.Count - 1),
            UserMessages = userMessages,
            FunctionNames = ResponseItems.FunctionNames(r.Tools),
            Metadata = new Dictionary<string, string>(r.Metadata, StringComparer.Ordinal),
            ToolCalls = turn.ToolCalls.Select(c => new EmulatorToolCall(c.Id, c.Name, c.Arguments, c.Output)).ToList(),
            ToolOutputs = byName,
            ToolOutputsByCallId = byId,
            ToolRounds = turn.RoundsIssued,
        };
    }

    /// <summary>The script of the turn (matched when the turn starts, or again after a reload).</summary>
    public ScriptedRun? PlanOf(ResponseRecord r) => _store.Data.Turns.TryGetValue(r.TurnId, out var turn) ? turn.Plan : null;

    private void ResolvePlan(TurnRecord turn, ResponseRecord r) =>
        turn.ResolvePlan(_script, () => CreateContext(turn, r), ex => LogScriptFailed(_logger, r.Id, ex));

    private void ModelStep(ResponseRecord r, DateTimeOffset at)
    {
        if (!_store.Data.Turns.TryGetValue(r.TurnId, out var turn))
        {
            turn = new TurnRecord { Id = r.TurnId, FirstResponseId = r.Id };
            _store.Data.Turns[turn.Id] = turn;
        }

        ResolvePlan(turn, r);
        var plan = turn.Plan;
        try
        {
            var toolsAllowed = (r.ToolChoice as JsonValue)?.ToString() != "none";
            if (turn.NextToolRound(toolsAllowed, r.ParallelToolCalls, () => CreateContext(turn, r)) is { } calls)
            {
                IssueToolRound(r, turn, calls, at);
                return;
            }

            Finish(r, turn, plan, at);
        }
#pragma warning disable CA1031 // A throwing user callback must not crash the emulator; the response fails instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogScriptFailed(_logger, r.Id, ex);
            Fail(r, turn, "server_error", $"The emulator script threw: {ex.Message}", InputTokens(r.Instructions, Context(r)), at);
        }
    }

    private void IssueToolRound(ResponseRecord r, TurnRecord turn, List<(string Name, string Arguments)> calls, DateTimeOffset at)
    {
        var input = InputTokens(r.Instructions, Context(r));
        var output = RunEngine.Tokens(calls.Sum(c => (c.Arguments ?? "").Length));
        if (r.MaxOutputTokens is { } max && output > max)
        {
            r.Usage = Usage(turn.Plan, input, max);
            EndIncomplete(r, turn, at);
            return;
        }

        foreach (var (name, rawArguments) in calls)
        {
            var arguments = rawArguments ?? "";
            var index = r.Output.Count;
            var callId = _store.NewId("call_");
            var item = new JsonObject
            {
                ["id"] = _store.NewHexId("fc_", ResponseItems.IdDigits),
                ["type"] = "function_call",
                ["status"] = "in_progress",
                ["arguments"] = "",
                ["call_id"] = callId,
                ["name"] = name,
            };
            var itemId = ResponseItems.StringOf(item, "id")!;
            Emit(r, "response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() });
            for (var offset = 0; offset < arguments.Length; offset += ArgumentChunk)
            {
                var chunk = arguments.Substring(offset, Math.Min(ArgumentChunk, arguments.Length - offset));
                var delta = new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["delta"] = chunk };
                AddObfuscation(r, delta, chunk);
                Emit(r, "response.function_call_arguments.delta", delta);
            }

            // As recorded: the done event carries no "name" (the spec says it does); clients take it from output_item.
            Emit(r, "response.function_call_arguments.done", new JsonObject { ["item_id"] = itemId, ["output_index"] = index, ["arguments"] = arguments });
            item["status"] = "completed";
            item["arguments"] = arguments;
            r.Output.Add(item);
            Emit(r, "response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() });
            turn.ToolCalls.Add(new ToolCallRecord { Id = callId, Name = name, Arguments = arguments, StepId = r.Id });
            _store.Data.CallTurns[callId] = turn.Id;
        }

        r.Usage = Usage(turn.Plan, input, output);
        Complete(r, at);
    }

    private void Finish(ResponseRecord r, TurnRecord turn, ScriptedRun? plan, DateTimeOffset at)
    {
        var input = InputTokens(r.Instructions, Context(r));
        if (plan?.Outcome == ScriptedOutcome.Fail)
        {
            Fail(r, turn, plan.FailureCode!, plan.FailureMessage!, input, at);
            return;
        }

        // Expire has no Responses counterpart (responses do not expire): the turn ends with its reply instead.
        var context = CreateContext(turn, r);
        var text = plan?.ReplyFactory is { } factory
            ? factory(context) ?? ""
            : EmulatorScript.DefaultReply(context.LatestUserMessage, context.EarlierUserMessageCount);
        var annotations = new List<(string Text, string FileId, EmulatorAnnotationKind Kind, int Start)>();
        foreach (var (annotated, fileId, kind) in plan?.Annotations ?? [])
        {
            var start = text.IndexOf(annotated, StringComparison.Ordinal);
            if (start < 0)
            {
                start = text.Length;
                text += annotated;
            }

            annotations.Add((annotated, fileId, kind, start));
        }

        var incomplete = false;
        if (plan?.Outcome == ScriptedOutcome.Incomplete)
        {
            if (plan.IncompleteReason == "max_prompt_tokens")
            {
                // No prompt budget on Responses: the nearest equivalent is an incomplete response without output.
                r.Usage = Usage(plan, input, 0);
                EndIncomplete(r, turn, at);
                return;
            }

            incomplete = true;
            text = text[..(text.Length / 2)];
        }

        var completion = RunEngine.Tokens(text.Length);
        if (r.MaxOutputTokens is { } max && completion > max)
        {
            text = text[..Math.Min(text.Length, max * 4)];
            completion = max;
            incomplete = true;
        }

        annotations.RemoveAll(a => a.Start + a.Text.Length > text.Length);
        EmitMessage(r, text, annotations, incomplete);
        r.Usage = Usage(plan, input, completion);
        turn.Ended = true;
        if (incomplete)
        {
            EndIncomplete(r, turn, at);
        }
        else
        {
            Complete(r, at);
        }
    }

    private void EmitMessage(ResponseRecord r, string text, List<(string Text, string FileId, EmulatorAnnotationKind Kind, int Start)> annotations, bool incomplete)
    {
        var index = r.Output.Count;
        var id = _store.NewHexId("msg_", ResponseItems.IdDigits);
        var item = new JsonObject { ["id"] = id, ["type"] = "message", ["status"] = "in_progress", ["content"] = new JsonArray(), ["role"] = "assistant" };
        Emit(r, "response.output_item.added", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() });
        Emit(r, "response.content_part.added", new JsonObject
        {
            ["item_id"] = id,
            ["output_index"] = index,
            ["content_index"] = 0,
            ["part"] = ResponseItems.OutputText(""),
        });
        foreach (var piece in RunEngine.SplitWords(text))
        {
            var delta = new JsonObject
            {
                ["item_id"] = id,
                ["output_index"] = index,
                ["content_index"] = 0,
                ["delta"] = piece,
                ["logprobs"] = new JsonArray(),
            };
            AddObfuscation(r, delta, piece);
            Emit(r, "response.output_text.delta", delta);
        }

        var annotationArray = new JsonArray();
        for (var i = 0; i < annotations.Count; i++)
        {
            var (annotated, fileId, kind, start) = annotations[i];
            var annotation = kind == EmulatorAnnotationKind.FilePath
                ? new JsonObject { ["type"] = "file_path", ["file_id"] = fileId, ["index"] = start }
                : new JsonObject { ["type"] = "file_citation", ["file_id"] = fileId, ["filename"] = annotated, ["index"] = start };
            annotationArray.Add(annotation);
            Emit(r, "response.output_text.annotation.added", new JsonObject
            {
                ["item_id"] = id,
                ["output_index"] = index,
                ["content_index"] = 0,
                ["annotation_index"] = i,
                ["annotation"] = annotation.DeepClone(),
            });
        }

        Emit(r, "response.output_text.done", new JsonObject
        {
            ["item_id"] = id,
            ["output_index"] = index,
            ["content_index"] = 0,
            ["text"] = text,
            ["logprobs"] = new JsonArray(),
        });
        var part = ResponseItems.OutputText(text, annotationArray);
        Emit(r, "response.content_part.done", new JsonObject
        {
            ["item_id"] = id,
            ["output_index"] = index,
            ["content_index"] = 0,
            ["part"] = part.DeepClone(),
        });
        item["status"] = incomplete ? "incomplete" : "completed";
        item["content"] = new JsonArray { part };
        r.Output.Add(item);
        Emit(r, "response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = item.DeepClone() });
    }

    private void Complete(ResponseRecord r, DateTimeOffset at)
    {
        r.Status = ResponseStatus.Completed;
        r.CompletedAt = EmulatorStore.Seconds(at);
        r.PhaseEndsAt = null;
        AppendToConversation(r);
        Emit(r, "response.completed", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
        _store.Touch();
    }

    private void EndIncomplete(ResponseRecord r, TurnRecord turn, DateTimeOffset at)
    {
        _ = at;
        turn.Ended = true;
        r.Status = ResponseStatus.Incomplete;
        r.IncompleteReason = "max_output_tokens";
        r.PhaseEndsAt = null;
        AppendToConversation(r);
        Emit(r, "response.incomplete", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
        _store.Touch();
    }

    private void Fail(ResponseRecord r, TurnRecord turn, string code, string message, int inputTokens, DateTimeOffset at)
    {
        _ = at;
        turn.Ended = true;
        r.Status = ResponseStatus.Failed;
        r.Error = new RunErrorRecord { Code = code, Message = message };
        r.Usage = new UsageRecord { PromptTokens = inputTokens };
        r.PhaseEndsAt = null;
        Emit(r, "response.failed", new JsonObject { ["response"] = ResponsesRender.Response(r, stream: true) });
        _store.Touch();
    }

    /// <summary>A finished response's input and output items join its conversation (failed and cancelled ones add nothing).</summary>
    private void AppendToConversation(ResponseRecord r)
    {
        if (r.ConversationId is { } id && _store.Data.Conversations.TryGetValue(id, out var conversation))
        {
            conversation.Items.AddRange(r.Input.Select(i => (JsonObject)i.DeepClone()));
            conversation.Items.AddRange(r.Output.Select(i => (JsonObject)i.DeepClone()));
        }
    }

    /// <summary>The usage of one response, with the script's overrides (cached, reasoning, input, output) applied.</summary>
    private static UsageRecord Usage(ScriptedRun? plan, int input, int output)
    {
        var usage = new UsageRecord { PromptTokens = input, CompletionTokens = output };
        if (plan is not null)
        {
            usage.PromptTokens = plan.PromptTokens ?? usage.PromptTokens;
            usage.ReasoningTokens = plan.ReasoningTokens ?? 0;
            usage.CompletionTokens = plan.CompletionTokens ?? (usage.CompletionTokens + usage.ReasoningTokens);
            usage.CachedTokens = Math.Min(plan.CachedTokens ?? 0, usage.PromptTokens);
        }

        return usage;
    }

    private static void AddObfuscation(ResponseRecord r, JsonObject delta, string piece)
    {
        if (r.Obfuscate)
        {
            // Random padding that evens out the event sizes, as the service sends it.
            delta["obfuscation"] = RandomNumberGenerator.GetString(ObfuscationAlphabet, Math.Max(1, 16 - piece.Length));
        }
    }

    /// <summary>Appends an event with <c>type</c> and <c>sequence_number</c> first (when the response journals events).</summary>
    private static void Emit(ResponseRecord r, string type, JsonObject payload)
    {
        if (!r.RecordEvents)
        {
            return;
        }

        var data = new JsonObject { ["type"] = type, ["sequence_number"] = r.Events.Count };
        foreach (var (key, value) in payload.ToList())
        {
            payload.Remove(key);
            data[key] = value;
        }

        r.Events.Add(new SseEvent(type, data.ToJsonString()));
    }

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "The emulator script threw for response {ResponseId}; the response fails.")]
    private static partial void LogScriptFailed(ILogger logger, string responseId, Exception exception);
}
