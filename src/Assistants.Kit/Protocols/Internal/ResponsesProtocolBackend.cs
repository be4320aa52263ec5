using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Assistants.Kit.Definitions.Internal;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Tools.Internal;
using OpenAI.Conversations;
using OpenAI.Responses;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>
/// The Responses + Conversations protocol. A thread is a conversation (<c>conv_…</c>); an assistant definition becomes
/// the model, instructions and tools sent with every response (nothing is stored on the server); a run is one or more
/// responses created in background mode (<c>background: true</c>, <c>store: true</c>) in the conversation — the kit runs
/// the tool loop: a response whose output has <c>function_call</c> items is reported as <c>requires_action</c>, and the
/// outputs are posted as <c>function_call_output</c> items in a new response, with the settings the run was created with.
/// The kit uses <c>conversation</c>, never <c>previous_response_id</c> (they are mutually exclusive on the wire).
/// </summary>
/// <remarks>
/// A <c>function_call</c> in the conversation without an output makes every later response fail, so calls a run will
/// not answer with a model turn (the kit stopped it, the caller cancelled, the response carrying the outputs failed or
/// was cancelled, the process ended) are answered with <see cref="AnswerToolCallsAsync"/>: conversation items, no
/// response. Responses cannot be listed: an ambiguous creation is never re-sent (unless no connection was made).
/// </remarks>
internal sealed class ResponsesProtocolBackend : IProtocolBackend
{
    /// <summary>How many pages of 100 conversation items are searched for the calls to answer (newest first).</summary>
    private const int AnswerSearchPages = 3;

    /// <summary>The most items one <c>POST /conversations/{id}/items</c> may add.</summary>
    private const int MaxItemsPerRequest = 20;

    /// <summary>The settings a response is created with, in the order they are sent.</summary>
    private static readonly string[] SettingKeys =
        ["model", "instructions", "tools", "parallel_tool_calls", "max_output_tokens", "temperature", "top_p", "reasoning", "text", "metadata"];

    private readonly OpenAIClientProvider _clients;
    private readonly WriteReconciler _reconciler;
    private readonly TimeProvider _timeProvider;

    public ResponsesProtocolBackend(OpenAIClientProvider clients, WriteReconciler reconciler, TimeProvider timeProvider)
    {
        _clients = clients;
        _reconciler = reconciler;
        _timeProvider = timeProvider;
    }

    public AssistantsProtocol Protocol => AssistantsProtocol.Responses;

    public bool ToolOutputsContinueInNewRun => true;

    private ResponsesClient Responses => _clients.Responses;

    private ConversationClient Conversations => _clients.Conversations;

    // Assistant definitions live only in the kit: the "assistant ID" is "name@version".
    public Task<ServerAssistant?> GetAssistantAsync(string assistantId, CancellationToken cancellationToken)
    {
        var at = assistantId.LastIndexOf('@');
        return Task.FromResult<ServerAssistant?>(at <= 0 ? null : Local(assistantId[..at], assistantId[(at + 1)..]));
    }

    public async IAsyncEnumerable<ServerAssistant> ListAssistantsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask.ConfigureAwait(false);
        yield break;
    }

    public Task<ServerAssistant> CreateAssistantAsync(AssistantSpec spec, CancellationToken cancellationToken) =>
        Task.FromResult(Local(spec.Definition.Name, spec.Version));

    public Task<ServerAssistant> UpdateAssistantAsync(string assistantId, AssistantSpec spec, CancellationToken cancellationToken) =>
        Task.FromResult(Local(spec.Definition.Name, spec.Version));

    public Task<bool> DeleteAssistantAsync(string assistantId, CancellationToken cancellationToken) => Task.FromResult(true);

    private static ServerAssistant Local(string name, string version) => new(
        name + "@" + version,
        name,
        DateTimeOffset.UnixEpoch,
        new Dictionary<string, string>(StringComparer.Ordinal) { [AssistantEnsurer.NameKey] = name, [AssistantEnsurer.VersionKey] = version });

    public async Task<string> CreateThreadAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["metadata"] = Metadata(metadata) };
        var result = await Conversations.CreateConversationAsync(Content(body), Options(cancellationToken)).ConfigureAwait(false);
        return Parse(result)["id"]!.GetValue<string>();
    }

    public async Task<string> CreateSeededThreadAsync(string assistantMessage, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["items"] = new JsonArray(new JsonObject
            {
                ["type"] = "message",
                ["role"] = "assistant",
                ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = assistantMessage }),
            }),
        };
        var result = await Conversations.CreateConversationAsync(Content(body), Options(cancellationToken)).ConfigureAwait(false);
        return Parse(result)["id"]!.GetValue<string>();
    }

    public async Task<bool> ThreadExistsAsync(string threadId, CancellationToken cancellationToken)
    {
        try
        {
            await Conversations.GetConversationAsync(threadId, Options(cancellationToken)).ConfigureAwait(false);
            return true;
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    public Task<AssistantMessage> AddUserMessageAsync(string threadId, string text, string operationId, CancellationToken cancellationToken)
    {
        // Conversation items carry no metadata. Nothing is added to the conversation between the message and the response
        // that follows it (one turn per key at a time), so a message that landed is the conversation's newest item: a user
        // message with the same text.
        return _reconciler.ExecuteAsync(
            "Create conversation item",
            $"/conversations/{threadId}/items",
            operationId,
            async ct =>
            {
                var body = new JsonObject
                {
                    ["items"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "message",
                        ["role"] = "user",
                        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
                    }),
                };
                var result = await Conversations.CreateConversationItemsAsync(threadId, Content(body), include: null, Options(ct)).ConfigureAwait(false);
                var item = Parse(result)["data"]!.AsArray()[0]!.AsObject();
                return ToMessage(item, null, DateTimeOffset.UtcNow);
            },
            async ct =>
            {
                var page = await Conversations.GetConversationItemsAsync(threadId, 1, "desc", after: null, include: null, Options(ct))
                    .GetRawPagesAsync().FirstAsync(ct).ConfigureAwait(false);
                if ((Parse(page)["data"] as JsonArray)?.FirstOrDefault() is JsonObject item
                    && item["type"]?.GetValue<string>() == "message" && item["role"]?.GetValue<string>() == "user")
                {
                    var message = ToMessage(item, null, DateTimeOffset.UtcNow);
                    return message.Text == text ? message : null;
                }

                return null;
            },
            static m => m.Id,
            cancellationToken);
    }

    public async Task<RunSnapshot> CreateRunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        var settings = Settings(request);
        return await CreateResponseAsync(settings, request.ThreadId, new JsonArray(), request.OperationId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RunSnapshot> GetRunAsync(string threadId, string runId, CancellationToken cancellationToken)
    {
        var result = await Responses.GetResponseAsync(runId, include: null, stream: null, startingAfter: null, includeObfuscation: null, Options(cancellationToken)).ConfigureAwait(false);
        return ToSnapshot(Parse(result), threadId, AssistantsProtocolBackend.PollHint(result.GetRawResponse()));
    }

    public async Task<RunSnapshot> SubmitToolOutputsAsync(string threadId, string runId, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken)
    {
        var run = await GetRunAsync(threadId, runId, cancellationToken).ConfigureAwait(false);
        return await SubmitToolOutputsAsync(run, outputs, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RunSnapshot> SubmitToolOutputsAsync(RunSnapshot run, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken)
    {
        if (run.ProtocolState is not JsonObject settings)
        {
            run = await GetRunAsync(run.ThreadId, run.Id, cancellationToken).ConfigureAwait(false);
            settings = (JsonObject)run.ProtocolState!;
        }

        var input = OutputItems(outputs);
        var operationId = run.Metadata.GetValueOrDefault(WriteReconciler.OperationIdKey) ?? WriteReconciler.NewOperationId();
        return await CreateResponseAsync(settings, run.ThreadId, input, operationId, cancellationToken).ConfigureAwait(false);
    }

    internal static JsonArray OutputItems(IEnumerable<KeyValuePair<string, string>> outputs)
    {
        var input = new JsonArray();
        foreach (var (callId, output) in outputs)
        {
            input.Add(new JsonObject { ["type"] = "function_call_output", ["call_id"] = callId, ["output"] = output });
        }

        return input;
    }

    public async Task<RunSnapshot> CancelRunAsync(string threadId, string runId, CancellationToken cancellationToken)
    {
        var result = await Responses.CancelResponseAsync(runId, Options(cancellationToken)).ConfigureAwait(false);
        return ToSnapshot(Parse(result), threadId, null);
    }

    /// <summary>
    /// Adds a <c>function_call_output</c> item to the conversation for each of <paramref name="outputs"/> whose call is in the
    /// conversation without an output (searching the newest items), and for no other: a call without an output makes every
    /// later response of the conversation fail. No response is created. A conversation that is gone has nothing to answer.
    /// </summary>
    public async Task AnswerToolCallsAsync(string threadId, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken)
    {
        if (outputs.Count == 0)
        {
            return;
        }

        var wanted = outputs.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        var called = new HashSet<string>(StringComparer.Ordinal);
        var answered = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var pages = 0;
            var items = Conversations.GetConversationItemsAsync(threadId, 100, "desc", after: null, include: null, Options(cancellationToken)).GetRawPagesAsync();
            await foreach (var page in items.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                foreach (var item in (Parse(page)["data"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    if (item["call_id"]?.GetValue<string>() is not { } callId || !wanted.Contains(callId))
                    {
                        continue;
                    }

                    switch (item["type"]?.GetValue<string>())
                    {
                        case "function_call":
                            called.Add(callId);
                            break;
                        case "function_call_output":
                            answered.Add(callId);
                            break;
                    }
                }

                // Newest first, and an output always follows its call: once every call was seen, so was every output.
                if (called.Count == wanted.Count || ++pages >= AnswerSearchPages)
                {
                    break;
                }
            }
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return;
        }

        var missing = outputs.Where(o => called.Contains(o.Key) && !answered.Contains(o.Key)).ToList();
        foreach (var chunk in missing.Chunk(MaxItemsPerRequest))
        {
            var body = new JsonObject { ["items"] = OutputItems(chunk) };
            await Conversations.CreateConversationItemsAsync(threadId, Content(body), include: null, Options(cancellationToken)).ConfigureAwait(false);
        }
    }

    public Task<IReadOnlyList<RunStepRecord>> GetRunStepsAsync(string threadId, string runId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RunStepRecord>>([]);

    public async Task<IReadOnlyList<AssistantMessage>> GetRunMessagesAsync(string threadId, string runId, string? afterMessageId, CancellationToken cancellationToken) =>
        (await GetRunAsync(threadId, runId, cancellationToken).ConfigureAwait(false)).Messages ?? [];

    public IRunStream CreateRunStream(RunRequest request) => new ResponsesRunStream(this, request);

    /// <summary>Opens a streamed, background response (SSE) in the conversation; the body is read as it arrives.</summary>
    public async Task<Stream> OpenStreamAsync(JsonObject settings, string conversationId, JsonArray input, string operationId, CancellationToken cancellationToken)
    {
        var body = Body(settings, conversationId, input, operationId);
        body["stream"] = true;
        var result = await SendCreateAsync(body, buffered: false, cancellationToken).ConfigureAwait(false);
        return result.GetRawResponse().ContentStream!;
    }

    /// <summary>Resumes a background response's stream after the event with sequence number <paramref name="startingAfter"/>.</summary>
    public async Task<Stream> ResumeStreamAsync(string responseId, int startingAfter, CancellationToken cancellationToken)
    {
        var options = Options(cancellationToken);
        options.BufferResponse = false;
        var result = await Responses.GetResponseAsync(responseId, include: null, stream: true, startingAfter: startingAfter, includeObfuscation: null, options).ConfigureAwait(false);
        return result.GetRawResponse().ContentStream!;
    }

    private static JsonObject Body(JsonObject settings, string conversationId, JsonArray input, string operationId)
    {
        var body = (JsonObject)settings.DeepClone();
        body["conversation"] = conversationId;
        if (input.Count > 0)
        {
            // The first response of a run has no input: the user message is already the conversation's newest item.
            body["input"] = input.DeepClone();
        }

        body["background"] = true;
        body["store"] = true;
        var metadata = body["metadata"] as JsonObject ?? [];
        metadata[WriteReconciler.OperationIdKey] = operationId;
        body["metadata"] = metadata;
        return body;
    }

    private async Task<RunSnapshot> CreateResponseAsync(JsonObject settings, string conversationId, JsonArray input, string operationId, CancellationToken cancellationToken)
    {
        var body = Body(settings, conversationId, input, operationId);
        var result = await SendCreateAsync(body, buffered: true, cancellationToken).ConfigureAwait(false);

        // The follow-ups of the run are created with the settings sent here, not with what the service echoes.
        return ToSnapshot(Parse(result), conversationId, AssistantsProtocolBackend.PollHint(result.GetRawResponse())) with { ProtocolState = settings };
    }

    /// <summary>
    /// Sends <c>POST /responses</c> (polled or streamed). Responses cannot be listed, so a creation that may have landed
    /// cannot be found again: it is re-sent only when the connection was never made; any other ambiguous failure is
    /// reported (never re-sent blindly). For the same reason a polled creation, once sent, is not abandoned when the
    /// caller cancels (only the HTTP timeouts bound it): the kit learns the response's ID, and the caller's cancellation,
    /// seen right after, cancels that response instead of leaving an unknown one running in the conversation.
    /// </summary>
    private async Task<ClientResult> SendCreateAsync(JsonObject body, bool buffered, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var options = Options(buffered ? CancellationToken.None : cancellationToken);
                options.BufferResponse = buffered;
                return await Responses.CreateResponseAsync(Content(body), options).ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < 3 && NeverSent(ex))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    internal static bool NeverSent(Exception exception) =>
        exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
        || exception.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };

    /// <summary>The per-response settings that follow from the definition and the run options.</summary>
    internal static JsonObject Settings(RunRequest request)
    {
        var definition = request.Assistant.Definition;
        var body = new JsonObject { ["model"] = request.ModelOverride ?? request.Assistant.Model };
        var instructions = string.Join("\n", new[] { definition.Instructions, request.AdditionalInstructions }.Where(s => !string.IsNullOrEmpty(s)));
        if (instructions.Length > 0)
        {
            body["instructions"] = instructions;
        }

        var tools = new JsonArray();
        foreach (var tool in request.ToolsOverride ?? request.Assistant.FunctionTools)
        {
            var function = new JsonObject
            {
                ["type"] = "function",
                ["name"] = tool.Name,
                ["parameters"] = JsonNode.Parse(tool.ParametersSchema.GetRawText()),
                ["strict"] = tool.Strict,
            };
            if (tool.Description is not null)
            {
                function["description"] = tool.Description;
            }

            tools.Add(function);
        }

        if (definition.FileSearch && definition.VectorStoreIds.Count > 0)
        {
            tools.Add(new JsonObject { ["type"] = "file_search", ["vector_store_ids"] = new JsonArray([.. definition.VectorStoreIds.Select(id => (JsonNode?)id)]) });
        }

        if (definition.CodeInterpreter)
        {
            tools.Add(new JsonObject { ["type"] = "code_interpreter", ["container"] = new JsonObject { ["type"] = "auto" } });
        }

        if (tools.Count > 0)
        {
            body["tools"] = tools;
        }

        if (request.ParallelToolCalls is { } parallel)
        {
            body["parallel_tool_calls"] = parallel;
        }

        if (request.MaxCompletionTokens is { } max)
        {
            body["max_output_tokens"] = max;
        }

        if (definition.Temperature is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (definition.TopP is { } topP)
        {
            body["top_p"] = topP;
        }

        if (definition.ReasoningEffort is { } effort)
        {
            body["reasoning"] = new JsonObject { ["effort"] = effort };
        }

        if (definition.ResponseFormat is "json_object" or "text")
        {
            body["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = definition.ResponseFormat } };
        }

        var metadata = new JsonObject();
        foreach (var (key, value) in request.Metadata)
        {
            metadata[key] = value;
        }

        body["metadata"] = metadata;
        return body;
    }

    internal static RunSnapshot ToSnapshot(JsonObject response, string conversationId, TimeSpan? pollHint)
    {
        var calls = new List<ToolCallRequest>();
        foreach (var item in (response["output"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (item["type"]?.GetValue<string>() == "function_call")
            {
                calls.Add(new ToolCallRequest(
                    item["call_id"]!.GetValue<string>(),
                    item["name"]?.GetValue<string>() ?? string.Empty,
                    item["arguments"]?.GetValue<string>() ?? string.Empty));
            }
        }

        var wireStatus = response["status"]?.GetValue<string>();
        var status = wireStatus switch
        {
            "queued" => RunStatus.Queued,
            "in_progress" => RunStatus.InProgress,
            "completed" => calls.Count > 0 ? RunStatus.RequiresAction : RunStatus.Completed,
            "failed" => RunStatus.Failed,
            "cancelled" => RunStatus.Cancelled,
            "incomplete" => RunStatus.Incomplete,
            _ => throw new InvalidOperationException($"Unknown response status '{wireStatus}'."),
        };
        var error = response["error"] is JsonObject e
            ? new RunError(e["code"]?.GetValue<string>() ?? "server_error", e["message"]?.GetValue<string>() ?? string.Empty)
            : null;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (response["metadata"] is JsonObject m)
        {
            foreach (var (key, value) in m)
            {
                if (value is JsonValue v && v.TryGetValue<string>(out var text))
                {
                    metadata[key] = text;
                }
            }
        }

        TokenUsage? usage = null;
        if (response["usage"] is JsonObject usageNode)
        {
            using var document = JsonDocument.Parse(usageNode.ToJsonString());
            usage = TokenUsage.Parse(document.RootElement);
        }

        var id = response["id"]!.GetValue<string>();
        var createdAt = UnixTime(response["created_at"]) ?? DateTimeOffset.UtcNow;
        IReadOnlyList<AssistantMessage>? messages = status is RunStatus.Queued or RunStatus.InProgress
            ? null
            : [.. (response["output"] as JsonArray ?? [])
                .OfType<JsonObject>()
                .Where(item => item["type"]?.GetValue<string>() == "message" && item["role"]?.GetValue<string>() == "assistant")
                .Select(item => ToMessage(item, id, createdAt))];
        var name = metadata.GetValueOrDefault(AssistantEnsurer.NameKey);
        var version = metadata.GetValueOrDefault(AssistantEnsurer.VersionKey) ?? string.Empty;

        return new RunSnapshot(
            id,
            conversationId,
            name is null ? version : name + "@" + version,
            status,
            status == RunStatus.RequiresAction ? calls : [],
            error,
            (response["incomplete_details"] as JsonObject)?["reason"]?.GetValue<string>(),
            status is RunStatus.Queued or RunStatus.InProgress ? null : usage,
            createdAt,
            null,
            response["model"]?.GetValue<string>(),
            metadata,
            pollHint)
        {
            ProtocolState = EchoedSettings(response),
            CompletedAt = UnixTime(response["completed_at"]),
            Messages = messages,
        };
    }

    /// <summary>
    /// The settings to continue a response with when only its echo is known (a run attached after a restart): what the
    /// kit would have sent, read back from the echo. The service echoes every setting, sent or not (temperature and top_p,
    /// which it picks itself for reasoning models, verbosity, reasoning context and mode, empty tools, null members), and
    /// re-sending those could be refused; so only the settings the kit sends are kept: model, instructions, tools,
    /// <c>parallel_tool_calls</c> when false, <c>max_output_tokens</c>, temperature and top_p other than 1 on a model without
    /// reasoning, the reasoning effort, a text format other than <c>text</c>, and the metadata.
    /// </summary>
    internal static JsonObject EchoedSettings(JsonObject response)
    {
        var settings = new JsonObject();
        foreach (var key in SettingKeys)
        {
            if (response[key] is { } value && value.GetValueKind() != JsonValueKind.Null)
            {
                settings[key] = value.DeepClone();
            }
        }

        var effort = (response["reasoning"] as JsonObject)?["effort"] is JsonValue e && e.TryGetValue<string>(out var level) ? level : null;
        settings.Remove("reasoning");
        if (effort is not null)
        {
            settings["reasoning"] = new JsonObject { ["effort"] = effort };
        }

        foreach (var key in new[] { "temperature", "top_p" })
        {
            if (effort is not null || (settings[key] is JsonValue v && v.TryGetValue<double>(out var number) && number == 1.0))
            {
                settings.Remove(key);
            }
        }

        if (settings["parallel_tool_calls"] is JsonValue parallel && parallel.TryGetValue<bool>(out var allowed) && allowed)
        {
            settings.Remove("parallel_tool_calls");
        }

        var format = (settings["text"] as JsonObject)?["format"] as JsonObject;
        settings.Remove("text");
        if (format is not null && format["type"]?.GetValue<string>() != "text")
        {
            settings["text"] = new JsonObject { ["format"] = format.DeepClone() };
        }

        if (settings["tools"] is JsonArray tools)
        {
            if (tools.Count == 0)
            {
                settings.Remove("tools");
            }

            foreach (var tool in tools.OfType<JsonObject>())
            {
                RemoveNulls(tool);
            }
        }

        return settings;
    }

    private static void RemoveNulls(JsonObject json)
    {
        foreach (var key in json.Where(p => p.Value is null || p.Value.GetValueKind() == JsonValueKind.Null).Select(p => p.Key).ToList())
        {
            json.Remove(key);
        }
    }

    internal static AssistantMessage ToMessage(JsonObject item, string? runId, DateTimeOffset createdAt)
    {
        var texts = new List<string>();
        var annotations = new List<MessageAnnotation>();
        foreach (var part in (item["content"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (part["text"]?.GetValue<string>() is { } text)
            {
                texts.Add(text);
            }

            foreach (var annotation in (part["annotations"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var type = annotation["type"]?.GetValue<string>() ?? "annotation";
                var index = annotation["index"]?.GetValue<int>() ?? annotation["start_index"]?.GetValue<int>() ?? 0;
                annotations.Add(new MessageAnnotation(
                    type,
                    annotation["filename"]?.GetValue<string>() ?? string.Empty,
                    annotation["file_id"]?.GetValue<string>(),
                    index,
                    annotation["end_index"]?.GetValue<int>() ?? index,
                    FileName: annotation["filename"]?.GetValue<string>()));
            }
        }

        return new AssistantMessage(
            item["id"]?.GetValue<string>() ?? string.Empty,
            item["role"]?.GetValue<string>() ?? "assistant",
            string.Join("\n", texts),
            annotations,
            [],
            createdAt,
            runId);
    }

    private static DateTimeOffset? UnixTime(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<long>(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    private static JsonObject Metadata(IReadOnlyDictionary<string, string> metadata)
    {
        var json = new JsonObject();
        foreach (var (key, value) in metadata)
        {
            json[key] = value;
        }

        return json;
    }

    private static BinaryContent Content(JsonNode body) => BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));

    private static RequestOptions Options(CancellationToken cancellationToken) => new() { CancellationToken = cancellationToken };

    private static JsonObject Parse(ClientResult result) => JsonNode.Parse(result.GetRawResponse().Content)!.AsObject();
}
