using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The wire JSON of the Responses + Conversations surface, with the property names and order of the newest recordings
/// (2026: <c>billing</c>, <c>completed_at</c>, <c>frequency_penalty</c>, <c>presence_penalty</c>,
/// <c>prompt_cache_retention</c>). Presentation details reproduced from the recordings: <c>billing</c> appears only on REST
/// snapshots of finished responses (never in stream events, nor on queued, in-progress or cancelled ones); usage is
/// <c>null</c> until the response finished; <c>service_tier</c> (when not requested) reads <c>auto</c> until the response
/// finished and <c>default</c> afterwards; <c>conversation</c> appears only on responses that used one.
/// </summary>
internal static class ResponsesRender
{
    public static JsonObject Response(ResponseRecord r, bool stream)
    {
        var finished = r.Status is ResponseStatus.Completed or ResponseStatus.Incomplete or ResponseStatus.Failed;
        var o = new JsonObject
        {
            ["id"] = r.Id,
            ["object"] = "response",
            ["created_at"] = EmulatorStore.Seconds(r.Created),
            ["status"] = r.Status,
            ["background"] = r.Background,
        };
        if (finished && !stream)
        {
            o["billing"] = new JsonObject { ["payer"] = "developer" };
        }

        o["completed_at"] = r.CompletedAt;
        if (r.ConversationId is not null)
        {
            o["conversation"] = new JsonObject { ["id"] = r.ConversationId };
        }

        o["error"] = r.Error is null ? null : new JsonObject { ["code"] = r.Error.Code, ["message"] = r.Error.Message };
        o["frequency_penalty"] = r.FrequencyPenalty;
        o["incomplete_details"] = r.IncompleteReason is null ? null : new JsonObject { ["reason"] = r.IncompleteReason };
        o["instructions"] = r.Instructions;
        o["max_output_tokens"] = r.MaxOutputTokens;
        o["max_tool_calls"] = r.MaxToolCalls;
        o["model"] = r.Model;
        o["output"] = new JsonArray([.. r.Output.Select(i => i.DeepClone())]);
        o["parallel_tool_calls"] = r.ParallelToolCalls;
        o["presence_penalty"] = r.PresencePenalty;
        o["previous_response_id"] = r.PreviousResponseId;
        o["prompt_cache_key"] = r.PromptCacheKey;
        o["prompt_cache_retention"] = r.PromptCacheRetention;
        o["reasoning"] = r.Reasoning.DeepClone();
        o["safety_identifier"] = r.SafetyIdentifier;
        o["service_tier"] = r.ServiceTier ?? (finished ? "default" : "auto");
        o["store"] = r.Store;
        o["temperature"] = r.Temperature;
        o["text"] = r.Text.DeepClone();
        o["tool_choice"] = r.ToolChoice?.DeepClone();
        o["tools"] = r.Tools.DeepClone();
        o["top_logprobs"] = r.TopLogprobs;
        o["top_p"] = r.TopP;
        o["truncation"] = r.Truncation;
        o["usage"] = finished && r.Usage is not null ? Usage(r.Usage) : null;
        o["user"] = r.User;
        o["metadata"] = Render.Metadata(r.Metadata);
        return o;
    }

    public static JsonObject Usage(UsageRecord u) => new()
    {
        ["input_tokens"] = u.PromptTokens,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = u.CachedTokens },
        ["output_tokens"] = u.CompletionTokens,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = u.ReasoningTokens },
        ["total_tokens"] = u.TotalTokens,
    };

    public static JsonObject Conversation(ConversationRecord c) => new()
    {
        ["id"] = c.Id,
        ["object"] = "conversation",
        ["created_at"] = c.CreatedAt,
        ["metadata"] = Render.Metadata(c.Metadata),
    };

    /// <summary>A list of items as the items endpoints answer it (<c>first_id</c>, <c>has_more</c>, <c>last_id</c> after <c>data</c>).</summary>
    public static JsonObject ItemList(IReadOnlyList<JsonObject> items, bool hasMore) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. items.Select(i => i.DeepClone())]),
        ["first_id"] = items.Count > 0 ? ResponseItems.StringOf(items[0], "id") : null,
        ["has_more"] = hasMore,
        ["last_id"] = items.Count > 0 ? ResponseItems.StringOf(items[^1], "id") : null,
    };

    /// <summary>Reorders a generic list page into the items endpoints' key order.</summary>
    public static JsonObject ItemList(JsonObject page) => new()
    {
        ["object"] = "list",
        ["data"] = page["data"]!.DeepClone(),
        ["first_id"] = page["first_id"]?.DeepClone(),
        ["has_more"] = page["has_more"]!.DeepClone(),
        ["last_id"] = page["last_id"]?.DeepClone(),
    };
}
