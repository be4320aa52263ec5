using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The run state machine. It has no timers: every access to a thread first calls <see cref="AdvanceThread"/>, which
/// replays, from the run's schedule and the <see cref="TimeProvider"/>'s current time, every transition that is due
/// (queued → in_progress → requires_action / completed / failed / incomplete / expired, cancelling → cancelled). Each
/// transition happens at its scheduled instant, so timestamps do not depend on when somebody looked. Transitions are
/// also written to the run's SSE journal while a stream follows the run, which is how streaming emits the same
/// progression as polling.
/// </summary>
/// <remarks>
/// Usage formula (deterministic): for each model step, <c>prompt_tokens = ceil(chars / 4)</c> over the run's
/// instructions, the texts of the thread's messages (the last N with a <c>last_messages</c> truncation strategy) and
/// the tool outputs submitted so far in the run; <c>completion_tokens = ceil(chars / 4)</c> over the reply text (for a
/// message step) or the calls' argument strings (for a tool step). The run's usage is the sum over its steps.
/// </remarks>
internal sealed partial class RunEngine
{
    private const int ArgumentChunk = 16;

    private readonly EmulatorStore _store;
    private readonly AssistantsEmulatorOptions _options;
    private readonly EmulatorScript _script;
    private readonly ILogger _logger;
    private readonly VectorStoreEngine _files;

    public RunEngine(EmulatorStore store, AssistantsEmulatorOptions options, EmulatorScript script, ILogger logger, VectorStoreEngine files)
    {
        _store = store;
        _options = options;
        _script = script;
        _logger = logger;
        _files = files;
    }

    public static int Tokens(int chars) => (chars + 3) / 4;

    public static string TextOf(MessageRecord message)
    {
        var text = new System.Text.StringBuilder();
        foreach (var part in message.Content)
        {
            if (part is JsonObject o && (string?)o["type"] == "text" && o["text"] is JsonObject t && t["value"] is JsonValue v &&
                v.TryGetValue(out string? s))
            {
                text.Append(s);
            }
        }

        return text.ToString();
    }

    public void AdvanceThread(ThreadRecord thread, DateTimeOffset now)
    {
        foreach (var run in thread.Runs)
        {
            if (run.IsActive)
            {
                Advance(thread, run, now);
            }
        }
    }

    /// <summary>Chooses the run's scripted plan (at creation, from the context it has then).</summary>
    public void ResolvePlan(ThreadRecord thread, RunRecord run)
    {
        if (run.ResolvePlan(_script, () => CreateContext(thread, run), ex => LogScriptFailed(_logger, run.Id, ex)))
        {
            run.StepDuration = run.Plan?.Duration ?? _options.InProgressDuration;
        }
    }

    public void Advance(ThreadRecord thread, RunRecord run, DateTimeOffset now)
    {
        for (var guard = 0; guard < 10_000 && run.IsActive; guard++)
        {
            switch (run.Status)
            {
                case RunStatus.Queued:
                case RunStatus.InProgress:
                    {
                        var due = run.PhaseEndsAt ?? now;
                        if (run.Deadline <= due && run.Deadline <= now)
                        {
                            ExpireRun(run, run.Deadline);
                            return;
                        }

                        if (now < due)
                        {
                            return;
                        }

                        if (run.Status == RunStatus.Queued)
                        {
                            StartStep(thread, run, due);
                        }
                        else
                        {
                            ModelStep(thread, run, due);
                        }

                        break;
                    }

                case RunStatus.RequiresAction:
                    if (now >= run.Deadline)
                    {
                        ExpireRun(run, run.Deadline);
                    }

                    return;

                case RunStatus.Cancelling:
                    if (now >= (run.PhaseEndsAt ?? now))
                    {
                        FinishCancel(run, run.PhaseEndsAt ?? now);
                    }

                    return;

                default:
                    return;
            }
        }
    }

    /// <summary>Starts cancelling an active run (the caller checked the status).</summary>
    public void BeginCancel(RunRecord run, DateTimeOffset now)
    {
        run.Status = RunStatus.Cancelling;
        run.PhaseEndsAt = now + _options.CancellingDuration;
        Emit(run, "thread.run.cancelling", Render.Run(run, stream: true));
        _store.Touch();
    }

    /// <summary>Records the tool outputs of a run in requires_action (the caller validated them) and re-queues it.</summary>
    public void SubmitOutputs(RunRecord run, IReadOnlyDictionary<string, string> outputs, DateTimeOffset now)
    {
        var nowSeconds = EmulatorStore.Seconds(now);
        foreach (var call in run.ToolCalls)
        {
            if (outputs.TryGetValue(call.Id, out var output) && run.PendingCallIds.Contains(call.Id))
            {
                call.Output = output;
            }
        }

        var step = run.Steps.FindLast(s => s.Type == "tool_calls" && s.Status == "in_progress");
        if (step is not null)
        {
            step.Status = "completed";
            step.CompletedAt = nowSeconds;
            Emit(run, "thread.run.step.completed", Render.Step(run, step, stream: true));
        }

        run.PendingCallIds.Clear();
        run.Status = RunStatus.Queued;
        run.PhaseEndsAt = now + _options.QueuedDuration;
        Emit(run, "thread.run.queued", Render.Run(run, stream: true));
        _store.Touch();
    }

    public EmulatorRunContext CreateContext(ThreadRecord thread, RunRecord run)
    {
        var userMessages = thread.Messages.Where(m => m.Role == "user").Select(TextOf).ToList();
        var functionCalls = run.ToolCalls.Where(c => c.Type == "function").ToList();
        var calls = functionCalls.Select(c => new EmulatorToolCall(c.Id, c.Name, c.Arguments, c.Output)).ToList();
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var call in functionCalls)
        {
            if (call.Output is not null)
            {
                byName[call.Name] = call.Output;
                byId[call.Id] = call.Output;
            }
        }

        var functionNames = new List<string>();
        foreach (var tool in run.Tools)
        {
            if ((string?)tool?["type"] == "function" && tool["function"]?["name"] is JsonValue name && name.TryGetValue(out string? n))
            {
                functionNames.Add(n);
            }
        }

        return new EmulatorRunContext
        {
            ThreadId = thread.Id,
            RunId = run.Id,
            AssistantId = run.AssistantId,
            RunNumber = run.Number,
            Model = run.Model,
            Instructions = run.Instructions,
            LatestUserMessage = userMessages.Count > 0 ? userMessages[^1] : "",
            EarlierUserMessageCount = Math.Max(0, userMessages.Count - 1),
            UserMessages = userMessages,
            FunctionNames = functionNames,
            Metadata = new Dictionary<string, string>(run.Metadata, StringComparer.Ordinal),
            ToolCalls = calls,
            ToolOutputs = byName,
            ToolOutputsByCallId = byId,
            ToolRounds = run.RoundsIssued,
            FileSearchResults = BuiltInSteps.SearchResults(run),
        };
    }

    private void StartStep(ThreadRecord thread, RunRecord run, DateTimeOffset at)
    {
        ResolvePlan(thread, run);
        run.Status = RunStatus.InProgress;
        run.StartedAt = EmulatorStore.Seconds(at);
        run.PhaseEndsAt = at + run.StepDuration;
        Emit(run, "thread.run.in_progress", Render.Run(run, stream: true));
        _store.Touch();
    }

    private void ModelStep(ThreadRecord thread, RunRecord run, DateTimeOffset at)
    {
        ResolvePlan(thread, run);
        var plan = run.Plan;
        try
        {
            var toolsAllowed = (run.ToolChoice as JsonValue)?.ToString() != "none";
            if (run.QueuedCalls.Count == 0 && plan is not null && toolsAllowed && run.BuiltInStepsRun < plan.BuiltInSteps.Count)
            {
                var builtIn = plan.BuiltInSteps[run.BuiltInStepsRun];
                run.BuiltInStepsRun++;
                RunBuiltInStep(thread, run, builtIn, at);
                return;
            }

            if (run.NextToolRound(toolsAllowed, run.ParallelToolCalls, () => CreateContext(thread, run)) is { } calls)
            {
                IssueToolRound(thread, run, calls, at);
                return;
            }

            Finish(thread, run, plan, at);
        }
#pragma warning disable CA1031 // A throwing user callback must not crash the emulator; the run fails instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogScriptFailed(_logger, run.Id, ex);
            FailRun(run, "server_error", $"The emulator script threw: {ex.Message}", at);
        }
    }

    private void IssueToolRound(ThreadRecord thread, RunRecord run, List<(string Name, string Arguments)> calls, DateTimeOffset at)
    {
        var prompt = PromptTokens(thread, run);
        var completion = Tokens(calls.Sum(c => (c.Arguments ?? "").Length));
        if (run.MaxPromptTokens is { } maxPrompt && run.Accumulated.PromptTokens + prompt > maxPrompt)
        {
            run.Accumulated.PromptTokens += prompt;
            EndIncomplete(run, "max_prompt_tokens", at);
            return;
        }

        if (run.MaxCompletionTokens is { } maxCompletion && run.Accumulated.CompletionTokens + completion > maxCompletion)
        {
            run.Accumulated.PromptTokens += prompt;
            run.Accumulated.CompletionTokens = maxCompletion;
            EndIncomplete(run, "max_completion_tokens", at);
            return;
        }

        var step = NewStep(run, "tool_calls", StepStart(run, at));
        step.Usage = new UsageRecord { PromptTokens = prompt, CompletionTokens = completion };
        run.Accumulated.Add(step.Usage);
        var records = new List<ToolCallRecord>();
        foreach (var (name, arguments) in calls)
        {
            var record = new ToolCallRecord { Id = _store.NewId("call_"), Name = name, Arguments = arguments ?? "", StepId = step.Id };
            records.Add(record);
        }

        Emit(run, "thread.run.step.created", Render.Step(run, step, stream: true));
        Emit(run, "thread.run.step.in_progress", Render.Step(run, step, stream: true));
        run.ToolCalls.AddRange(records);
        step.ToolCallIds.AddRange(records.Select(r => r.Id));
        for (var i = 0; i < records.Count; i++)
        {
            var call = records[i];
            EmitStepDelta(run, step, new JsonObject
            {
                ["index"] = i,
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "", ["output"] = null },
            });
            for (var offset = 0; offset < call.Arguments.Length; offset += ArgumentChunk)
            {
                var chunk = call.Arguments.Substring(offset, Math.Min(ArgumentChunk, call.Arguments.Length - offset));
                EmitStepDelta(run, step, new JsonObject
                {
                    ["index"] = i,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["arguments"] = chunk },
                });
            }
        }

        run.PendingCallIds.Clear();
        run.PendingCallIds.AddRange(records.Select(r => r.Id));
        run.Status = RunStatus.RequiresAction;
        run.PhaseEndsAt = null;
        Emit(run, "thread.run.requires_action", Render.Run(run, stream: true));
        _store.Touch();
    }

    private void Finish(ThreadRecord thread, RunRecord run, ScriptedRun? plan, DateTimeOffset at)
    {
        switch (plan?.Outcome ?? ScriptedOutcome.Reply)
        {
            case ScriptedOutcome.Fail:
                FailRun(run, plan!.FailureCode!, plan.FailureMessage!, at);
                return;
            case ScriptedOutcome.Expire:
                ExpireRun(run, at);
                return;
        }

        var context = CreateContext(thread, run);
        var text = plan?.ReplyFactory is { } factory
            ? factory(context) ?? ""
            : EmulatorScript.DefaultReply(context.LatestUserMessage, context.EarlierUserMessageCount);
        var annotations = new List<(string Text, string FileId, EmulatorAnnotationKind Kind, int Start)>();
        text = BuiltInSteps.Annotate(text, run.ReplyAnnotations, annotations);
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

        var prompt = PromptTokens(thread, run);
        if (run.MaxPromptTokens is { } maxPrompt && run.Accumulated.PromptTokens + prompt > maxPrompt)
        {
            run.Accumulated.PromptTokens += prompt;
            EndIncomplete(run, "max_prompt_tokens", at);
            return;
        }

        string? incomplete = null;
        if (plan?.Outcome == ScriptedOutcome.Incomplete)
        {
            if (plan.IncompleteReason == "max_prompt_tokens")
            {
                run.Accumulated.PromptTokens += prompt;
                EndIncomplete(run, "max_prompt_tokens", at);
                return;
            }

            incomplete = "max_completion_tokens";
            text = text[..(text.Length / 2)];
        }

        var completion = Tokens(text.Length);
        if (run.MaxCompletionTokens is { } maxCompletion && run.Accumulated.CompletionTokens + completion > maxCompletion)
        {
            var remaining = Math.Max(0, maxCompletion - run.Accumulated.CompletionTokens);
            text = text[..Math.Min(text.Length, remaining * 4)];
            completion = remaining;
            incomplete = "max_completion_tokens";
        }

        annotations.RemoveAll(a => a.Start + a.Text.Length > text.Length);
        var usage = new UsageRecord { PromptTokens = prompt, CompletionTokens = completion };
        IReadOnlyList<string> images = plan?.ImageFileId is { } scriptedImage ? [.. run.OutputImageIds, scriptedImage] : run.OutputImageIds;
        CreateReply(thread, run, text, annotations, images, usage, incomplete, at);
    }

    private void CreateReply(
        ThreadRecord thread,
        RunRecord run,
        string text,
        List<(string Text, string FileId, EmulatorAnnotationKind Kind, int Start)> annotations,
        IReadOnlyList<string> imageFileIds,
        UsageRecord usage,
        string? incompleteReason,
        DateTimeOffset at)
    {
        var seconds = EmulatorStore.Seconds(at);
        var message = new MessageRecord
        {
            Id = _store.NewId("msg_"),
            Seq = _store.NextSeq(),
            CreatedAt = seconds,
            ThreadId = thread.Id,
            Role = "assistant",
            AssistantId = run.AssistantId,
            RunId = run.Id,
            Status = "in_progress",
        };
        var step = NewStep(run, "message_creation", StepStart(run, at));
        step.MessageId = message.Id;
        step.Usage = usage;
        run.Accumulated.Add(usage);
        thread.Messages.Add(message);

        Emit(run, "thread.run.step.created", Render.Step(run, step, stream: true));
        Emit(run, "thread.run.step.in_progress", Render.Step(run, step, stream: true));
        Emit(run, "thread.message.created", Render.Message(message, stream: true));
        Emit(run, "thread.message.in_progress", Render.Message(message, stream: true));

        var first = true;
        foreach (var piece in SplitWords(text))
        {
            var textDelta = new JsonObject { ["value"] = piece };
            if (first)
            {
                textDelta["annotations"] = new JsonArray();
                first = false;
            }

            EmitMessageDelta(run, message, new JsonObject { ["index"] = 0, ["type"] = "text", ["text"] = textDelta });
        }

        var annotationArray = new JsonArray();
        var annotationDeltas = new JsonArray();
        for (var i = 0; i < annotations.Count; i++)
        {
            var (annotated, fileId, kind, start) = annotations[i];
            var kindName = kind == EmulatorAnnotationKind.FilePath ? "file_path" : "file_citation";
            annotationArray.Add(new JsonObject
            {
                ["type"] = kindName,
                ["text"] = annotated,
                ["start_index"] = start,
                ["end_index"] = start + annotated.Length,
                [kindName] = new JsonObject { ["file_id"] = fileId },
            });
            annotationDeltas.Add(new JsonObject
            {
                ["index"] = i,
                ["type"] = kindName,
                ["text"] = annotated,
                ["start_index"] = start,
                ["end_index"] = start + annotated.Length,
                [kindName] = new JsonObject { ["file_id"] = fileId },
            });
        }

        if (annotationDeltas.Count > 0)
        {
            EmitMessageDelta(run, message, new JsonObject
            {
                ["index"] = 0,
                ["type"] = "text",
                ["text"] = new JsonObject { ["annotations"] = annotationDeltas },
            });
        }

        var content = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "text",
                ["text"] = new JsonObject { ["value"] = text, ["annotations"] = annotationArray },
            },
        };
        foreach (var imageFileId in imageFileIds)
        {
            EmitMessageDelta(run, message, new JsonObject
            {
                ["index"] = content.Count,
                ["type"] = "image_file",
                ["image_file"] = new JsonObject { ["file_id"] = imageFileId },
            });
            content.Add(new JsonObject { ["type"] = "image_file", ["image_file"] = new JsonObject { ["file_id"] = imageFileId } });
        }

        message.Content = content;
        if (incompleteReason is null)
        {
            message.Status = "completed";
            message.CompletedAt = seconds;
            Emit(run, "thread.message.completed", Render.Message(message, stream: true));
        }
        else
        {
            message.Status = "incomplete";
            message.IncompleteReason = "max_tokens";
            message.IncompleteAt = seconds;
            Emit(run, "thread.message.incomplete", Render.Message(message, stream: true));
        }

        ApplyUsageOverrides(run, step);
        step.Status = "completed";
        step.CompletedAt = seconds;
        Emit(run, "thread.run.step.completed", Render.Step(run, step, stream: true));

        if (incompleteReason is null)
        {
            run.Status = RunStatus.Completed;
            run.CompletedAt = seconds;
            run.ExpiresAt = null;
            run.PhaseEndsAt = null;
            run.Usage = FinalUsage(run);
            Emit(run, "thread.run.completed", Render.Run(run, stream: true));
            _store.Touch();
        }
        else
        {
            EndIncomplete(run, incompleteReason, at);
        }
    }

    private void EndIncomplete(RunRecord run, string reason, DateTimeOffset at)
    {
        run.Status = RunStatus.Incomplete;
        run.IncompleteReason = reason;
        run.CompletedAt = EmulatorStore.Seconds(at);
        run.ExpiresAt = null;
        run.PhaseEndsAt = null;
        run.Usage = FinalUsage(run);
        Emit(run, "thread.run.incomplete", Render.Run(run, stream: true));
        _store.Touch();
    }

    private void FailRun(RunRecord run, string code, string message, DateTimeOffset at)
    {
        run.LastError = new RunErrorRecord { Code = code, Message = message };
        EndOpenSteps(run, "failed", at);
        run.Status = RunStatus.Failed;
        run.FailedAt = EmulatorStore.Seconds(at);
        run.ExpiresAt = null;
        run.PhaseEndsAt = null;
        run.PendingCallIds.Clear();
        run.Usage = FinalUsage(run);
        Emit(run, "thread.run.failed", Render.Run(run, stream: true));
        _store.Touch();
    }

    private void ExpireRun(RunRecord run, DateTimeOffset at)
    {
        EndOpenSteps(run, "expired", at);
        run.Status = RunStatus.Expired;
        run.ExpiresAt = EmulatorStore.Seconds(at);
        run.PhaseEndsAt = null;
        run.PendingCallIds.Clear();
        run.Usage = FinalUsage(run);
        Emit(run, "thread.run.expired", Render.Run(run, stream: true));
        _store.Touch();
    }

    private void FinishCancel(RunRecord run, DateTimeOffset at)
    {
        EndOpenSteps(run, "cancelled", at);
        run.Status = RunStatus.Cancelled;
        run.CancelledAt = EmulatorStore.Seconds(at);
        run.ExpiresAt = null;
        run.PhaseEndsAt = null;
        run.PendingCallIds.Clear();
        run.Usage = FinalUsage(run);
        Emit(run, "thread.run.cancelled", Render.Run(run, stream: true));
        _store.Touch();
    }

    private void EndOpenSteps(RunRecord run, string status, DateTimeOffset at)
    {
        var seconds = EmulatorStore.Seconds(at);
        foreach (var step in run.Steps)
        {
            if (step.Status != "in_progress")
            {
                continue;
            }

            step.Status = status;
            switch (status)
            {
                case "cancelled":
                    step.CancelledAt = seconds;
                    break;
                case "failed":
                    step.FailedAt = seconds;
                    step.LastError = run.LastError;
                    break;
                case "expired":
                    step.ExpiresAt = seconds;
                    break;
            }

            Emit(run, $"thread.run.step.{status}", Render.Step(run, step, stream: true));
        }
    }

    private StepRecord NewStep(RunRecord run, string type, long createdAt)
    {
        var step = new StepRecord
        {
            Id = _store.NewId("step_"),
            Seq = _store.NextSeq(),
            CreatedAt = createdAt,
            RunId = run.Id,
            AssistantId = run.AssistantId,
            ThreadId = run.ThreadId,
            Type = type,
            Status = "in_progress",
            ExpiresAt = run.ExpiresAt,
        };
        run.Steps.Add(step);
        return step;
    }

    /// <summary>
    /// A model step's <c>created_at</c>: the start of the <c>in_progress</c> phase that produced it (<paramref name="at"/>
    /// is its end), as on the service, where a step exists while the model works on it; so a message step's latency is
    /// the time the model spent on it, not 0.
    /// </summary>
    private static long StepStart(RunRecord run, DateTimeOffset at) => EmulatorStore.Seconds(at - run.StepDuration);

    private int PromptTokens(ThreadRecord thread, RunRecord run)
    {
        var chars = run.Instructions?.Length ?? 0;
        IEnumerable<MessageRecord> messages = thread.Messages;
        if (run.TruncationType == "last_messages" && run.TruncationLastMessages is { } last)
        {
            messages = thread.Messages.Skip(Math.Max(0, thread.Messages.Count - last));
        }

        chars += messages.Sum(m => TextOf(m).Length);
        chars += run.ToolCalls.Sum(c => c.Output?.Length ?? 0);
        return Tokens(chars);
    }

    private static UsageRecord FinalUsage(RunRecord run)
    {
        var usage = new UsageRecord
        {
            PromptTokens = run.Accumulated.PromptTokens,
            CompletionTokens = run.Accumulated.CompletionTokens,
        };
        if (run.Plan is { } plan)
        {
            usage.PromptTokens = plan.PromptTokens ?? usage.PromptTokens;
            usage.ReasoningTokens = plan.ReasoningTokens ?? 0;
            usage.CompletionTokens = plan.CompletionTokens ?? (usage.CompletionTokens + usage.ReasoningTokens);
            usage.CachedTokens = Math.Min(plan.CachedTokens ?? 0, usage.PromptTokens);
        }

        return usage;
    }

    private static void ApplyUsageOverrides(RunRecord run, StepRecord step)
    {
        if (run.Plan is { } plan && step.Usage is { } usage)
        {
            usage.ReasoningTokens = plan.ReasoningTokens ?? 0;
            usage.CompletionTokens += usage.ReasoningTokens;
            usage.CachedTokens = Math.Min(plan.CachedTokens ?? 0, usage.PromptTokens);
        }
    }

    /// <summary>Splits a reply into the word-sized pieces the real service streams ("Since", " it's", " warm", ...).</summary>
    internal static IEnumerable<string> SplitWords(string text)
    {
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1]))
            {
                yield return text[start..i];
                start = i;
            }
        }

        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    private static void Emit(RunRecord run, string name, JsonObject data)
    {
        if (run.Followers > 0)
        {
            run.Journal.Add(new SseEvent(name, data.ToJsonString()));
        }
    }

    private static void EmitStepDelta(RunRecord run, StepRecord step, JsonObject toolCall)
    {
        if (run.Followers > 0)
        {
            Emit(run, "thread.run.step.delta", new JsonObject
            {
                ["id"] = step.Id,
                ["object"] = "thread.run.step.delta",
                ["delta"] = new JsonObject
                {
                    ["step_details"] = new JsonObject { ["type"] = "tool_calls", ["tool_calls"] = new JsonArray { toolCall } },
                },
            });
        }
    }

    private static void EmitMessageDelta(RunRecord run, MessageRecord message, JsonObject part)
    {
        if (run.Followers > 0)
        {
            Emit(run, "thread.message.delta", new JsonObject
            {
                ["id"] = message.Id,
                ["object"] = "thread.message.delta",
                ["delta"] = new JsonObject { ["content"] = new JsonArray { part } },
            });
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "The emulator script threw for run {RunId}; the run fails.")]
    private static partial void LogScriptFailed(ILogger logger, string runId, Exception exception);
}
