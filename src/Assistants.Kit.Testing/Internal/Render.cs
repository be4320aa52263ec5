using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// Builds the wire JSON of every object from state, with the property names and order the real service uses (taken from
/// the recorded traffic, which in a few places differs from the OpenAPI spec; see <see cref="AssistantsEmulator"/>).
/// </summary>
internal static class Render
{
    public static JsonObject Assistant(AssistantRecord a) => new()
    {
        ["id"] = a.Id,
        ["object"] = "assistant",
        ["created_at"] = a.CreatedAt,
        ["name"] = a.Name,
        ["description"] = a.Description,
        ["model"] = a.Model,
        ["instructions"] = a.Instructions,
        ["tools"] = a.Tools.DeepClone(),
        ["top_p"] = a.TopP,
        ["temperature"] = a.Temperature,
        ["reasoning_effort"] = a.ReasoningEffort,
        ["tool_resources"] = a.ToolResources.DeepClone(),
        ["metadata"] = Metadata(a.Metadata),
        ["response_format"] = a.ResponseFormat?.DeepClone(),
    };

    /// <summary>
    /// A thread. The real service adds an empty <c>code_interpreter</c> resource when it shows a thread on GET and in
    /// stream events (not on create or modify); <paramref name="withDefaults"/> reproduces that.
    /// </summary>
    public static JsonObject Thread(ThreadRecord t, bool withDefaults = false) => new()
    {
        ["id"] = t.Id,
        ["object"] = "thread",
        ["created_at"] = t.CreatedAt,
        ["metadata"] = Metadata(t.Metadata),
        ["tool_resources"] = withDefaults ? WithCodeInterpreter(t.ToolResources) : t.ToolResources.DeepClone(),
    };

    /// <summary>
    /// A message. In REST responses the real service leaves out <c>status</c>, <c>incomplete_details</c>,
    /// <c>incomplete_at</c> and <c>completed_at</c>; in stream events it includes them.
    /// </summary>
    public static JsonObject Message(MessageRecord m, bool stream)
    {
        var o = new JsonObject
        {
            ["id"] = m.Id,
            ["object"] = "thread.message",
            ["created_at"] = m.CreatedAt,
            ["assistant_id"] = m.AssistantId,
            ["thread_id"] = m.ThreadId,
            ["run_id"] = m.RunId,
        };
        if (stream)
        {
            o["status"] = m.Status;
            o["incomplete_details"] = m.IncompleteReason is null ? null : new JsonObject { ["reason"] = m.IncompleteReason };
            o["incomplete_at"] = m.IncompleteAt;
            o["completed_at"] = m.CompletedAt;
        }

        o["role"] = m.Role;
        o["content"] = m.Content.DeepClone();
        o["attachments"] = m.Attachments.DeepClone();
        o["metadata"] = Metadata(m.Metadata);
        return o;
    }

    /// <summary>
    /// A run. In stream events the real service shows an empty <c>code_interpreter</c> resource in the run's
    /// <c>tool_resources</c> (REST responses show what was set); <paramref name="stream"/> reproduces that.
    /// </summary>
    public static JsonObject Run(RunRecord r, bool stream = false) => new()
    {
        ["id"] = r.Id,
        ["object"] = "thread.run",
        ["created_at"] = EmulatorStore.Seconds(r.Created),
        ["assistant_id"] = r.AssistantId,
        ["thread_id"] = r.ThreadId,
        ["status"] = r.Status,
        ["started_at"] = r.StartedAt,
        ["expires_at"] = r.ExpiresAt,
        ["cancelled_at"] = r.CancelledAt,
        ["failed_at"] = r.FailedAt,
        ["completed_at"] = r.CompletedAt,
        ["required_action"] = RequiredAction(r),
        ["last_error"] = Error(r.LastError),
        ["model"] = r.Model,
        ["instructions"] = r.Instructions,
        ["tools"] = r.Tools.DeepClone(),
        ["tool_resources"] = stream ? WithCodeInterpreter(r.ToolResources) : r.ToolResources.DeepClone(),
        ["metadata"] = Metadata(r.Metadata),
        ["temperature"] = r.Temperature,
        ["top_p"] = r.TopP,
        ["reasoning_effort"] = r.ReasoningEffort,
        ["max_completion_tokens"] = r.MaxCompletionTokens,
        ["max_prompt_tokens"] = r.MaxPromptTokens,
        ["truncation_strategy"] = new JsonObject { ["type"] = r.TruncationType, ["last_messages"] = r.TruncationLastMessages },
        ["incomplete_details"] = r.IncompleteReason is null ? null : new JsonObject { ["reason"] = r.IncompleteReason },
        ["usage"] = r.IsTerminal && r.Usage is not null ? Usage(r.Usage) : null,
        ["response_format"] = r.ResponseFormat?.DeepClone(),
        ["tool_choice"] = r.ToolChoice?.DeepClone(),
        ["parallel_tool_calls"] = r.ParallelToolCalls,
    };

    /// <summary>
    /// A run step. In REST responses the real service shows <c>expires_at: null</c> once the step has ended; in stream
    /// events it keeps the run's deadline.
    /// </summary>
    /// <remarks>File search results carry their text when <paramref name="includeContent"/> says so (REST: the request's
    /// <c>include[]</c>), or, when it is null, when the run was created asking for it.</remarks>
    public static JsonObject Step(RunRecord run, StepRecord s, bool stream, bool? includeContent = null)
    {
        JsonObject details;
        if (s.Type == "message_creation")
        {
            details = new JsonObject
            {
                ["type"] = "message_creation",
                ["message_creation"] = new JsonObject { ["message_id"] = s.MessageId },
            };
        }
        else
        {
            var calls = new JsonArray();
            foreach (var callId in s.ToolCallIds)
            {
                var call = run.ToolCalls.Find(c => c.Id == callId);
                if (call is null)
                {
                    continue;
                }

                if (call.Type != "function")
                {
                    calls.Add(BuiltInSteps.Render(call, includeContent ?? run.IncludeFileSearchContent));
                    continue;
                }

                calls.Add(new JsonObject
                {
                    ["id"] = call.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject
                    {
                        ["name"] = call.Name,
                        ["arguments"] = call.Arguments,
                        ["output"] = call.Output,
                    },
                });
            }

            details = new JsonObject { ["type"] = "tool_calls", ["tool_calls"] = calls };
        }

        var ended = s.Status != "in_progress";
        return new JsonObject
        {
            ["id"] = s.Id,
            ["object"] = "thread.run.step",
            ["created_at"] = s.CreatedAt,
            ["run_id"] = s.RunId,
            ["assistant_id"] = s.AssistantId,
            ["thread_id"] = s.ThreadId,
            ["type"] = s.Type,
            ["status"] = s.Status,
            ["cancelled_at"] = s.CancelledAt,
            ["completed_at"] = s.CompletedAt,
            ["expires_at"] = ended && !stream ? null : s.ExpiresAt,
            ["failed_at"] = s.FailedAt,
            ["last_error"] = Error(s.LastError),
            ["step_details"] = details,
            ["usage"] = s.Status == "completed" && s.Usage is not null ? Usage(s.Usage) : null,
        };
    }

    public static JsonObject Usage(UsageRecord u) => new()
    {
        ["prompt_tokens"] = u.PromptTokens,
        ["completion_tokens"] = u.CompletionTokens,
        ["total_tokens"] = u.TotalTokens,
        ["prompt_token_details"] = new JsonObject { ["cached_tokens"] = u.CachedTokens },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = u.ReasoningTokens },
    };

    public static JsonObject Deleted(string id, string objectName) => new()
    {
        ["id"] = id,
        ["object"] = objectName,
        ["deleted"] = true,
    };

    public static JsonObject List(IEnumerable<JsonObject> data, string? firstId, string? lastId, bool hasMore)
    {
        var array = new JsonArray();
        foreach (var item in data)
        {
            array.Add(item);
        }

        return new JsonObject
        {
            ["object"] = "list",
            ["data"] = array,
            ["first_id"] = firstId,
            ["last_id"] = lastId,
            ["has_more"] = hasMore,
        };
    }

    public static JsonObject Metadata(Dictionary<string, string> metadata)
    {
        var o = new JsonObject();
        foreach (var (key, value) in metadata)
        {
            o[key] = value;
        }

        return o;
    }

    private static JsonObject WithCodeInterpreter(JsonObject resources)
    {
        var copy = (JsonObject)resources.DeepClone();
        if (!copy.ContainsKey("code_interpreter"))
        {
            copy.Insert(0, "code_interpreter", new JsonObject { ["file_ids"] = new JsonArray() });
        }

        return copy;
    }

    private static JsonObject? Error(RunErrorRecord? error) =>
        error is null ? null : new JsonObject { ["code"] = error.Code, ["message"] = error.Message };

    private static JsonObject? RequiredAction(RunRecord r)
    {
        if (r.Status != RunStatus.RequiresAction || r.PendingCallIds.Count == 0)
        {
            return null;
        }

        var calls = new JsonArray();
        foreach (var id in r.PendingCallIds)
        {
            var call = r.ToolCalls.Find(c => c.Id == id);
            if (call is not null)
            {
                calls.Add(new JsonObject
                {
                    ["id"] = call.Id,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.Arguments },
                });
            }
        }

        return new JsonObject
        {
            ["type"] = "submit_tool_outputs",
            ["submit_tool_outputs"] = new JsonObject { ["tool_calls"] = calls },
        };
    }
}
