using System.Globalization;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>
/// The Responses surface: create (plain, streamed, background), get (also as a resumed stream), cancel, delete, input
/// items and input token counts. No <c>OpenAI-Beta</c> header is needed.
/// </summary>
internal sealed class ResponsesApi : IApiSurface
{
    private static readonly string[] CreateOptionNames =
    [
        "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "max_tool_calls",
        "metadata", "store", "background", "stream", "stream_options", "conversation", "previous_response_id", "truncation",
        "reasoning", "text", "temperature", "top_p", "top_logprobs", "user", "safety_identifier", "prompt_cache_key",
        "prompt_cache_retention", "prompt_cache_options", "service_tier", "include", "prompt", "moderation", "context_management",
    ];

    private readonly EmulatorStore _store;
    private readonly ResponsesEngine _engine;

    public ResponsesApi(EmulatorStore store, ResponsesEngine engine)
    {
        _store = store;
        _engine = engine;
    }

    public void Register(RouteTable routes)
    {
        routes.Map("POST", "/responses", Create, assistantsBeta: false);
        routes.Map("POST", "/responses/input_tokens", InputTokens, assistantsBeta: false);
        routes.Map("GET", "/responses/{response_id}", Get, assistantsBeta: false);
        routes.Map("DELETE", "/responses/{response_id}", Delete, assistantsBeta: false);
        routes.Map("POST", "/responses/{response_id}/cancel", Cancel, assistantsBeta: false);
        routes.Map("GET", "/responses/{response_id}/input_items", InputItems, assistantsBeta: false);
    }

    public static ApiException ResponseNotFound(string id) =>
        new(404, string.Create(CultureInfo.InvariantCulture, $"Response with id '{id}' not found."), "invalid_request_error", null, null);

    private ApiResult Create(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly(CreateOptionNames);
        var model = body.RequiredString("model");
        var store = body.Boolean("store") ?? true;
        var background = body.Boolean("background") ?? false;
        var stream = body.Boolean("stream") ?? false;
        var streamOptions = body.Object("stream_options");
        streamOptions?.AllowOnly("include_obfuscation");
        var obfuscate = streamOptions?.Boolean("include_obfuscation") ?? true;
        if (background && !store)
        {
            // Unrecorded wording: the service refuses background mode for stateless (store: false) requests.
            throw ApiException.BadRequest("Background mode requires 'store' to be true.", "background", "invalid_value");
        }

        var tools = body.Has("tools") ? ResponseItems.Tools(body) : [];
        var toolChoice = body.Has("tool_choice") ? ResponseItems.ToolChoice(body) : JsonValue.Create("auto");
        var reasoning = body.Object("reasoning");
        reasoning?.AllowOnly("effort", "summary", "generate_summary", "context", "mode");
        var text = body.Object("text");
        text?.AllowOnly("format", "verbosity");
        lock (_store.Sync)
        {
            var now = _store.Now;
            var (history, input, conversationId, previousId) = ResolveContext(body, now);
            var r = new ResponseRecord
            {
                Id = _store.NewHexId("resp_", ResponseItems.IdDigits),
                Seq = _store.NextSeq(),
                Background = background,
                Store = store,
                RecordEvents = stream || background,
                Obfuscate = obfuscate && !background,
                Model = model,
                Instructions = body.String("instructions"),
                Tools = tools,
                ToolChoice = toolChoice,
                ParallelToolCalls = body.Boolean("parallel_tool_calls") ?? true,
                MaxOutputTokens = body.Integer("max_output_tokens", 16),
                MaxToolCalls = body.Integer("max_tool_calls", 1),
                Metadata = body.Metadata() ?? new(StringComparer.Ordinal),
                PreviousResponseId = previousId,
                ConversationId = conversationId,
                Temperature = body.Number("temperature", 0, 2) ?? 1.0,
                TopP = body.Number("top_p", 0, 1) ?? 1.0,
                TopLogprobs = body.Integer("top_logprobs", 0, 20) ?? 0,
                Truncation = body.Enum("truncation", "auto", "disabled") ?? "disabled",
                Reasoning = new JsonObject
                {
                    ["effort"] = reasoning?.Enum("effort", "none", "minimal", "low", "medium", "high", "xhigh"),
                    ["summary"] = reasoning?.Enum("summary", "auto", "concise", "detailed") ?? reasoning?.Enum("generate_summary", "auto", "concise", "detailed"),
                },
                Text = new JsonObject
                {
                    ["format"] = TextFormat(text?.Object("format")),
                    ["verbosity"] = text?.Enum("verbosity", "low", "medium", "high") ?? "medium",
                },
                ServiceTier = body.Enum("service_tier", "auto", "default", "flex", "scale", "priority") is { } tier && tier != "auto" ? tier : null,
                User = body.String("user"),
                SafetyIdentifier = body.String("safety_identifier"),
                PromptCacheKey = body.String("prompt_cache_key"),
                PromptCacheRetention = body.Enum("prompt_cache_retention", "in_memory", "24h"),
                History = history,
                Input = input,
            };
            body.Array("include");
            _engine.Begin(r, now);
            if (store)
            {
                _store.Data.Responses[r.Id] = r;
            }

            if (stream)
            {
                r.Followers++;
                return new ApiResult { Stream = new ResponseStreamPlan(_engine, r, 0, resumed: false) };
            }

            if (background)
            {
                return ApiResult.Ok(ResponsesRender.Response(r, stream: false));
            }

            // A foreground request answers once the response finished (after its model step's duration on the emulator's clock).
            return new ApiResult
            {
                Pending = at =>
                {
                    _engine.Advance(r, at);
                    return r.IsActive
                        ? new PendingStep(null, r.PhaseEndsAt)
                        : new PendingStep(ApiResult.Ok(ResponsesRender.Response(r, stream: false)), null);
                },
            };
        }
    }

    /// <summary><c>POST /responses/input_tokens</c>: the input tokens the same create request would be charged (the usage formula).</summary>
    private ApiResult InputTokens(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "conversation", "previous_response_id", "reasoning", "text", "truncation");
        lock (_store.Sync)
        {
            var (history, input, _, _) = ResolveContext(body, _store.Now);
            var tokens = ResponsesEngine.InputTokens(body.String("instructions"), history.Concat(input));
            return ApiResult.Ok(new JsonObject { ["object"] = "response.input_tokens", ["input_tokens"] = tokens });
        }
    }

    private ApiResult Get(ApiRequest request)
    {
        var stream = QueryBoolean(request, "stream") ?? false;
        var startingAfter = QueryInteger(request, "starting_after");
        lock (_store.Sync)
        {
            var r = Find(request["response_id"]);
            if (!stream)
            {
                return ApiResult.Ok(ResponsesRender.Response(r, stream: false));
            }

            if (!r.Background)
            {
                // Unrecorded wording: only background responses keep their events to be streamed again.
                throw ApiException.BadRequest("Only responses created with background=true can be streamed with GET.", "stream", null);
            }

            r.Followers++;
            return new ApiResult { Stream = new ResponseStreamPlan(_engine, r, (startingAfter ?? -1) + 1, resumed: true) };
        }
    }

    private ApiResult Delete(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var r = Find(request["response_id"]);
            _store.Data.Responses.Remove(r.Id);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(r.Id, "response.deleted"));
        }
    }

    private ApiResult Cancel(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var r = Find(request["response_id"]);
            if (!r.Background)
            {
                // Unrecorded wording (what OpenAI-compatible servers answer): only background responses can be cancelled.
                throw ApiException.BadRequest("Cannot cancel a synchronous response.");
            }

            // Cancelling a finished background response is a no-op that returns it (cancelling is idempotent).
            if (r.IsActive)
            {
                _engine.Cancel(r);
            }

            return ApiResult.Ok(ResponsesRender.Response(r, stream: false));
        }
    }

    private ApiResult InputItems(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        lock (_store.Sync)
        {
            var r = Find(request["response_id"]);
            var items = ResponsesEngine.Context(r).ToList();
            return ApiResult.Ok(ResponsesRender.ItemList(query.Page(items, i => ResponseItems.StringOf(i, "id") ?? "", i => (JsonObject)i.DeepClone())));
        }
    }

    /// <summary>
    /// Reads <c>conversation</c> / <c>previous_response_id</c> and <c>input</c>, and returns what the model sees: the
    /// history (the conversation's items, or the previous response's history, input and output) and the input's stored
    /// items. Validates function call outputs against the calls in that context, as the service does.
    /// </summary>
    private (List<JsonObject> History, List<JsonObject> Input, string? ConversationId, string? PreviousResponseId) ResolveContext(JsonBody body, DateTimeOffset now)
    {
        var previousId = body.String("previous_response_id");
        string? conversationId = null;
        if (body.Raw("conversation") is JsonValue cv && cv.TryGetValue(out string? cs))
        {
            conversationId = cs;
        }
        else if (body.Object("conversation") is { } conversationObject)
        {
            conversationObject.AllowOnly("id");
            conversationId = conversationObject.RequiredString("id");
        }

        if (conversationId is not null && previousId is not null)
        {
            // The recorded message is garbled ("Mutually exclusive parameters: ''. Ensure you are only providing one of:
            // 'pre..._id' or 'conversation'."); the emulator names both parameters in full.
            throw ApiException.BadRequest(
                "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
                null,
                "mutually_exclusive_parameters");
        }

        var history = new List<JsonObject>();
        if (previousId is not null)
        {
            if (!_store.Data.Responses.TryGetValue(previousId, out var previous))
            {
                throw ApiException.BadRequest(
                    string.Create(CultureInfo.InvariantCulture, $"Previous response with id '{previousId}' not found."),
                    "previous_response_id",
                    "previous_response_not_found");
            }

            _engine.Advance(previous, now);
            if (previous.IsActive)
            {
                // Unrecorded wording.
                throw ApiException.BadRequest(
                    string.Create(CultureInfo.InvariantCulture, $"Previous response with id '{previousId}' is still {previous.Status}."),
                    "previous_response_id",
                    null);
            }

            history.AddRange(ResponsesEngine.Context(previous).Concat(previous.Output).Select(i => (JsonObject)i.DeepClone()));
        }
        else if (conversationId is not null)
        {
            var conversation = ConversationsApi.Find(_store, conversationId);
            foreach (var other in _store.Data.Responses.Values.Where(o => o.ConversationId == conversationId && o.IsActive).ToList())
            {
                _engine.Advance(other, now);
                if (other.IsActive)
                {
                    // Unrecorded wording.
                    throw ApiException.BadRequest(
                        string.Create(CultureInfo.InvariantCulture, $"Another response ({other.Id}) is in progress for conversation '{conversationId}'."),
                        "conversation",
                        null);
                }
            }

            history.AddRange(conversation.Items.Select(i => (JsonObject)i.DeepClone()));
        }

        var input = ResponseItems.Input(body, _store);
        var calls = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in history.Concat(input))
        {
            var callId = ResponseItems.StringOf(item, "call_id");
            switch (ResponseItems.TypeOf(item))
            {
                case "function_call" when callId is not null:
                    calls.Add(callId);
                    break;
                case "function_call_output" when callId is not null && !calls.Contains(callId):
                    throw ApiException.BadRequest(
                        string.Create(CultureInfo.InvariantCulture, $"No tool call found for function call output with call_id {callId}."),
                        "input",
                        null);
            }
        }

        var answered = history.Concat(input).Where(i => ResponseItems.TypeOf(i) == "function_call_output").Select(i => ResponseItems.StringOf(i, "call_id")).ToHashSet(StringComparer.Ordinal);
        if (calls.FirstOrDefault(c => !answered.Contains(c)) is { } unanswered)
        {
            throw ApiException.BadRequest(
                string.Create(CultureInfo.InvariantCulture, $"No tool output found for function call {unanswered}."),
                "input",
                null);
        }

        return (history, input, conversationId, previousId);
    }

    /// <summary>
    /// The echoed <c>text.format</c>: a <c>json_schema</c> format is shown as {type, description, name, schema, strict}
    /// with <c>description: null</c> and <c>strict: true</c> when not given, as recorded.
    /// </summary>
    private static JsonObject TextFormat(JsonBody? format)
    {
        if (format is null)
        {
            return new JsonObject { ["type"] = "text" };
        }

        var type = format.Enum("type", "text", "json_object", "json_schema") ?? throw ApiException.MissingParameter(format.PathOf("type"));
        if (type != "json_schema")
        {
            format.AllowOnly("type");
            return new JsonObject { ["type"] = type };
        }

        format.AllowOnly("type", "name", "description", "schema", "strict");
        return new JsonObject
        {
            ["type"] = "json_schema",
            ["description"] = format.String("description"),
            ["name"] = format.RequiredString("name", 64),
            ["schema"] = (format.Object("schema") ?? throw ApiException.MissingParameter(format.PathOf("schema"))).Node.DeepClone(),
            ["strict"] = format.Boolean("strict") ?? true,
        };
    }

    private ResponseRecord Find(string id)
    {
        if (!_store.Data.Responses.TryGetValue(id, out var r))
        {
            throw ResponseNotFound(id);
        }

        _engine.Advance(r, _store.Now);
        return r;
    }

    private static bool? QueryBoolean(ApiRequest request, string name)
    {
        if (!request.Query.TryGetValue(name, out var value))
        {
            return null;
        }

        return bool.TryParse(value.ToString(), out var b)
            ? b
            : throw ApiException.InvalidType(name, "a boolean", JsonValue.Create(value.ToString()));
    }

    private static int? QueryInteger(ApiRequest request, string name)
    {
        if (!request.Query.TryGetValue(name, out var value))
        {
            return null;
        }

        return int.TryParse(value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)
            ? i
            : throw ApiException.InvalidType(name, "an integer", JsonValue.Create(value.ToString()));
    }
}
