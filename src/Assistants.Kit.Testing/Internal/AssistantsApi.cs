using System.Globalization;
using System.Text.Json.Nodes;

namespace Assistants.Kit.Testing.Internal;

/// <summary>The Assistants v2 surface: assistants, threads, messages, runs and run steps.</summary>
internal sealed class AssistantsApi : IApiSurface
{
    private static readonly string[] RunOptionNames =
    [
        "assistant_id", "model", "reasoning_effort", "instructions", "additional_instructions", "additional_messages", "tools",
        "metadata", "temperature", "top_p", "stream", "max_prompt_tokens", "max_completion_tokens", "truncation_strategy",
        "tool_choice", "parallel_tool_calls", "response_format",
    ];

    private static readonly string[] ThreadAndRunOptionNames =
    [
        "assistant_id", "thread", "model", "reasoning_effort", "instructions", "tools", "tool_resources", "metadata", "temperature",
        "top_p", "stream", "max_prompt_tokens", "max_completion_tokens", "truncation_strategy", "tool_choice",
        "parallel_tool_calls", "response_format",
    ];

    private readonly EmulatorStore _store;
    private readonly RunEngine _engine;
    private readonly AssistantsEmulatorOptions _options;
    private readonly VectorStoreEngine _files;

    public AssistantsApi(EmulatorStore store, RunEngine engine, AssistantsEmulatorOptions options, VectorStoreEngine files)
    {
        _store = store;
        _engine = engine;
        _options = options;
        _files = files;
    }

    public void Register(RouteTable routes)
    {
        routes.Map("POST", "/assistants", CreateAssistant);
        routes.Map("GET", "/assistants", ListAssistants);
        routes.Map("GET", "/assistants/{assistant_id}", GetAssistant);
        routes.Map("POST", "/assistants/{assistant_id}", ModifyAssistant);
        routes.Map("DELETE", "/assistants/{assistant_id}", DeleteAssistant);

        routes.Map("POST", "/threads", CreateThread);
        routes.Map("POST", "/threads/runs", CreateThreadAndRun);
        routes.Map("GET", "/threads/{thread_id}", GetThread);
        routes.Map("POST", "/threads/{thread_id}", ModifyThread);
        routes.Map("DELETE", "/threads/{thread_id}", DeleteThread);

        routes.Map("POST", "/threads/{thread_id}/messages", CreateMessage);
        routes.Map("GET", "/threads/{thread_id}/messages", ListMessages);
        routes.Map("GET", "/threads/{thread_id}/messages/{message_id}", GetMessage);
        routes.Map("POST", "/threads/{thread_id}/messages/{message_id}", ModifyMessage);
        routes.Map("DELETE", "/threads/{thread_id}/messages/{message_id}", DeleteMessage);

        routes.Map("POST", "/threads/{thread_id}/runs", CreateRun);
        routes.Map("GET", "/threads/{thread_id}/runs", ListRuns);
        routes.Map("GET", "/threads/{thread_id}/runs/{run_id}", GetRun);
        routes.Map("POST", "/threads/{thread_id}/runs/{run_id}", ModifyRun);
        routes.Map("POST", "/threads/{thread_id}/runs/{run_id}/cancel", CancelRun);
        routes.Map("POST", "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", SubmitToolOutputs);
        routes.Map("GET", "/threads/{thread_id}/runs/{run_id}/steps", ListSteps);
        routes.Map("GET", "/threads/{thread_id}/runs/{run_id}/steps/{step_id}", GetStep);
    }

    // ---------------------------------------------------------------- assistants

    private ApiResult CreateAssistant(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("model", "name", "description", "instructions", "reasoning_effort", "tools", "tool_resources", "metadata", "temperature", "top_p", "response_format");
        var model = body.RequiredString("model");
        var name = body.String("name", 256);
        var description = body.String("description", 512);
        var instructions = body.String("instructions", 256_000);
        var reasoning = ReasoningEffort(body);
        var tools = Normalize.Tools(body, "tools", 128);
        var metadata = body.Metadata();
        var temperature = body.Number("temperature", 0, 2);
        var topP = body.Number("top_p", 0, 1);
        var responseFormat = body.Has("response_format") ? Normalize.ResponseFormat(body, "response_format") : null;
        lock (_store.Sync)
        {
            var resources = Normalize.ToolResources(body.Object("tool_resources"), _store, _files);
            Normalize.AddToolDefaults(tools, resources);
            var assistant = new AssistantRecord
            {
                Id = _store.NewId("asst_"),
                Seq = _store.NextSeq(),
                CreatedAt = EmulatorStore.Seconds(_store.Now),
                Model = model,
                Name = name,
                Description = description,
                Instructions = instructions,
                ReasoningEffort = reasoning,
                Tools = tools,
                ToolResources = resources,
                Metadata = metadata ?? new(StringComparer.Ordinal),
                Temperature = temperature ?? 1.0,
                TopP = topP ?? 1.0,
                ResponseFormat = responseFormat ?? JsonValue.Create("auto"),
            };
            _store.Data.Assistants[assistant.Id] = assistant;
            _store.Touch();
            return ApiResult.Ok(Render.Assistant(assistant));
        }
    }

    private ApiResult GetAssistant(ApiRequest request)
    {
        lock (_store.Sync)
        {
            return ApiResult.Ok(Render.Assistant(FindAssistant(request["assistant_id"])));
        }
    }

    private ApiResult ModifyAssistant(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("model", "name", "description", "instructions", "reasoning_effort", "tools", "tool_resources", "metadata", "temperature", "top_p", "response_format");
        var model = body.String("model");
        var name = body.String("name", 256);
        var description = body.String("description", 512);
        var instructions = body.String("instructions", 256_000);
        var reasoning = ReasoningEffort(body);
        var tools = body.Has("tools") ? Normalize.Tools(body, "tools", 128) : null;
        var metadata = body.Metadata();
        var temperature = body.Number("temperature", 0, 2);
        var topP = body.Number("top_p", 0, 1);
        var responseFormat = body.Has("response_format") ? Normalize.ResponseFormat(body, "response_format") : null;
        lock (_store.Sync)
        {
            var assistant = FindAssistant(request["assistant_id"]);
            var resources = body.Has("tool_resources") ? Normalize.ToolResources(body.Object("tool_resources"), _store, _files) : null;
            assistant.Model = model ?? assistant.Model;
            assistant.Name = name ?? assistant.Name;
            assistant.Description = description ?? assistant.Description;
            assistant.Instructions = instructions ?? assistant.Instructions;
            assistant.ReasoningEffort = reasoning ?? assistant.ReasoningEffort;
            assistant.Tools = tools ?? assistant.Tools;
            assistant.ToolResources = resources ?? assistant.ToolResources;
            Normalize.AddToolDefaults(assistant.Tools, assistant.ToolResources);
            assistant.Metadata = metadata ?? assistant.Metadata;
            assistant.Temperature = temperature ?? assistant.Temperature;
            assistant.TopP = topP ?? assistant.TopP;
            assistant.ResponseFormat = responseFormat ?? assistant.ResponseFormat;
            _store.Touch();
            return ApiResult.Ok(Render.Assistant(assistant));
        }
    }

    private ApiResult DeleteAssistant(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var assistant = FindAssistant(request["assistant_id"]);
            _store.Data.Assistants.Remove(assistant.Id);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(assistant.Id, "assistant.deleted"));
        }
    }

    private ApiResult ListAssistants(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        lock (_store.Sync)
        {
            var items = _store.Data.Assistants.Values.OrderBy(a => a.Seq).ToList();
            return ApiResult.Ok(query.Page(items, a => a.Id, Render.Assistant));
        }
    }

    // ---------------------------------------------------------------- threads

    private ApiResult CreateThread(ApiRequest request)
    {
        var body = request.Json;
        lock (_store.Sync)
        {
            var thread = CreateThreadCore(body);
            return ApiResult.Ok(Render.Thread(thread));
        }
    }

    /// <summary>Validates a create-thread body completely, then creates the thread and its messages.</summary>
    private ThreadRecord CreateThreadCore(JsonBody body)
    {
        body.AllowOnly("messages", "tool_resources", "metadata");
        var messages = body.Objects("messages").Select(Normalize.Message).ToList();
        var metadata = body.Metadata();
        var resources = Normalize.ToolResources(body.Object("tool_resources"), _store, _files);
        var now = EmulatorStore.Seconds(_store.Now);
        var thread = new ThreadRecord
        {
            Id = _store.NewId("thread_"),
            Seq = _store.NextSeq(),
            CreatedAt = now,
            Metadata = metadata ?? new(StringComparer.Ordinal),
            ToolResources = resources,
        };
        foreach (var (role, content, attachments, messageMetadata) in messages)
        {
            AddMessage(thread, role, content, attachments, messageMetadata, now);
        }

        _store.Data.Threads[thread.Id] = thread;
        _store.Touch();
        return thread;
    }

    private ApiResult GetThread(ApiRequest request)
    {
        lock (_store.Sync)
        {
            return ApiResult.Ok(Render.Thread(FindThread(request["thread_id"]), withDefaults: true));
        }
    }

    private ApiResult ModifyThread(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("tool_resources", "metadata");
        var metadata = body.Metadata();
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            if (body.Has("tool_resources"))
            {
                thread.ToolResources = Normalize.ToolResources(body.Object("tool_resources"), _store, _files);
            }

            thread.Metadata = metadata ?? thread.Metadata;
            _store.Touch();
            return ApiResult.Ok(Render.Thread(thread));
        }
    }

    private ApiResult DeleteThread(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            _store.Data.Threads.Remove(thread.Id);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(thread.Id, "thread.deleted"));
        }
    }

    // ---------------------------------------------------------------- messages

    private ApiResult CreateMessage(ApiRequest request)
    {
        var (role, content, attachments, metadata) = Normalize.Message(request.Json);
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            var now = _store.Now;
            _engine.AdvanceThread(thread, now);
            if (thread.Runs.Find(r => r.IsActive) is { } active)
            {
                throw ApiException.BadRequest($"Can't add messages to {thread.Id} while a run {active.Id} is active.");
            }

            var message = AddMessage(thread, role, content, attachments, metadata, EmulatorStore.Seconds(now));
            _store.Touch();
            return ApiResult.Ok(Render.Message(message, stream: false));
        }
    }

    private ApiResult ListMessages(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        var runId = request.Query.TryGetValue("run_id", out var values) ? values.ToString() : null;
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            _engine.AdvanceThread(thread, _store.Now);
            var items = thread.Messages.Where(m => string.IsNullOrEmpty(runId) || m.RunId == runId).ToList();
            return ApiResult.Ok(query.Page(items, m => m.Id, m => Render.Message(m, stream: false)));
        }
    }

    private ApiResult GetMessage(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            _engine.AdvanceThread(thread, _store.Now);
            return ApiResult.Ok(Render.Message(FindMessage(thread, request["message_id"]), stream: false));
        }
    }

    private ApiResult ModifyMessage(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("metadata");
        var metadata = body.Metadata();
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            _engine.AdvanceThread(thread, _store.Now);
            var message = FindMessage(thread, request["message_id"]);
            message.Metadata = metadata ?? message.Metadata;
            _store.Touch();
            return ApiResult.Ok(Render.Message(message, stream: false));
        }
    }

    private ApiResult DeleteMessage(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            _engine.AdvanceThread(thread, _store.Now);
            var message = FindMessage(thread, request["message_id"]);
            thread.Messages.Remove(message);
            _store.Touch();
            return ApiResult.Ok(Render.Deleted(message.Id, "thread.message.deleted"));
        }
    }

    private MessageRecord AddMessage(ThreadRecord thread, string role, JsonArray content, JsonArray attachments, Dictionary<string, string> metadata, long createdAt)
    {
        var message = new MessageRecord
        {
            Id = _store.NewId("msg_"),
            Seq = _store.NextSeq(),
            CreatedAt = createdAt,
            ThreadId = thread.Id,
            Role = role,
            Content = content,
            Attachments = attachments,
            Metadata = metadata,
            Status = "completed",
            CompletedAt = createdAt,
        };
        thread.Messages.Add(message);
        return message;
    }

    // ---------------------------------------------------------------- runs

    private ApiResult CreateRun(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly(RunOptionNames);
        var options = RunOptions.Read(body, threadAndRun: false);
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            var assistant = FindAssistant(options.AssistantId);
            var now = _store.Now;
            _engine.AdvanceThread(thread, now);
            if (thread.Runs.Find(r => r.IsActive) is { } active)
            {
                throw ApiException.BadRequest($"Thread {thread.Id} already has an active run {active.Id}.");
            }

            var instructions = options.EffectiveInstructions(assistant);
            var hasUserMessage = thread.Messages.Exists(m => m.Role == "user") || options.AdditionalMessages.Exists(m => m.Role == "user");
            if (!hasUserMessage && string.IsNullOrEmpty(instructions))
            {
                throw ApiException.BadRequest(
                    "Run creation requires a Thread with a user message or an assistant with instructions.",
                    null,
                    "invalid_thread");
            }

            var seconds = EmulatorStore.Seconds(now);
            foreach (var (role, content, attachments, metadata) in options.AdditionalMessages)
            {
                AddMessage(thread, role, content, attachments, metadata, seconds);
            }

            var run = NewRun(thread, assistant, options, [], now);
            run.IncludeFileSearchContent = IncludesFileSearchContent(request);
            return RunResult(thread, run, options.Stream, prefix: null);
        }
    }

    private ApiResult CreateThreadAndRun(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly(ThreadAndRunOptionNames);
        var options = RunOptions.Read(body, threadAndRun: true);
        lock (_store.Sync)
        {
            var assistant = FindAssistant(options.AssistantId);
            var threadBody = body.Object("thread") ?? new JsonBody([], "thread");
            threadBody.AllowOnly("messages", "tool_resources", "metadata");
            var initialMessages = threadBody.Objects("messages").Select(Normalize.Message).ToList();
            threadBody.Metadata();
            if (!initialMessages.Exists(m => m.Role == "user") && string.IsNullOrEmpty(options.EffectiveInstructions(assistant)))
            {
                throw ApiException.BadRequest(
                    "Run creation requires a Thread with a user message or an assistant with instructions.",
                    null,
                    "invalid_thread");
            }

            var runResources = Normalize.ToolResources(body.Object("tool_resources"), _store, _files);
            var thread = CreateThreadCore(threadBody);
            var now = _store.Now;
            var run = NewRun(thread, assistant, options, runResources, now);
            run.IncludeFileSearchContent = IncludesFileSearchContent(request);
            return RunResult(thread, run, options.Stream, prefix: new SseEvent("thread.created", Render.Thread(thread, withDefaults: true).ToJsonString()));
        }
    }

    private RunRecord NewRun(ThreadRecord thread, AssistantRecord assistant, RunOptions options, JsonObject toolResources, DateTimeOffset now)
    {
        var run = new RunRecord
        {
            Id = _store.NewId("run_"),
            Seq = _store.NextSeq(),
            Number = _store.NextRunNumber(),
            Created = now,
            ThreadId = thread.Id,
            AssistantId = assistant.Id,
            Status = RunStatus.Queued,
            Model = options.Model ?? assistant.Model,
            Instructions = options.EffectiveInstructions(assistant),
            Tools = options.Tools ?? (JsonArray)assistant.Tools.DeepClone(),
            ToolResources = toolResources,
            Metadata = options.Metadata ?? new(StringComparer.Ordinal),
            Temperature = options.Temperature ?? assistant.Temperature,
            TopP = options.TopP ?? assistant.TopP,
            ReasoningEffort = options.ReasoningEffort ?? assistant.ReasoningEffort,
            MaxCompletionTokens = options.MaxCompletionTokens,
            MaxPromptTokens = options.MaxPromptTokens,
            TruncationType = options.TruncationType ?? "auto",
            TruncationLastMessages = options.TruncationLastMessages,
            ResponseFormat = options.ResponseFormat ?? assistant.ResponseFormat?.DeepClone(),
            ToolChoice = options.ToolChoice ?? JsonValue.Create("auto"),
            ParallelToolCalls = options.ParallelToolCalls ?? true,
            PhaseEndsAt = now + _options.QueuedDuration,
            Deadline = now + _options.RequiresActionTimeout,
        };
        run.ExpiresAt = EmulatorStore.Seconds(run.Deadline);
        thread.Runs.Add(run);
        _engine.ResolvePlan(thread, run);
        _store.Touch();
        return run;
    }

    private ApiResult RunResult(ThreadRecord thread, RunRecord run, bool stream, SseEvent? prefix)
    {
        if (!stream)
        {
            return WithPollHeader(ApiResult.Ok(Render.Run(run)));
        }

        var plan = new RunStreamPlan(_engine, thread, run);
        if (prefix is { } first)
        {
            plan.Prefix.Add(first);
        }

        run.Followers++;
        run.Journal.Add(new SseEvent("thread.run.created", Render.Run(run, stream: true).ToJsonString()));
        run.Journal.Add(new SseEvent("thread.run.queued", Render.Run(run, stream: true).ToJsonString()));
        return new ApiResult { Stream = plan };
    }

    private ApiResult GetRun(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var (_, run) = FindRun(request);
            return WithPollHeader(ApiResult.Ok(Render.Run(run)));
        }
    }

    private ApiResult ListRuns(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        lock (_store.Sync)
        {
            var thread = FindThread(request["thread_id"]);
            _engine.AdvanceThread(thread, _store.Now);
            return ApiResult.Ok(query.Page(thread.Runs, r => r.Id, r => Render.Run(r)));
        }
    }

    private ApiResult ModifyRun(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("metadata");
        var metadata = body.Metadata();
        lock (_store.Sync)
        {
            var (_, run) = FindRun(request);
            run.Metadata = metadata ?? run.Metadata;
            _store.Touch();
            return ApiResult.Ok(Render.Run(run));
        }
    }

    private ApiResult CancelRun(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var (_, run) = FindRun(request);
            if (run.Status is not (RunStatus.Queued or RunStatus.InProgress or RunStatus.RequiresAction))
            {
                throw ApiException.BadRequest($"Cannot cancel run with status '{run.Status}'.");
            }

            _engine.BeginCancel(run, _store.Now);
            return WithPollHeader(ApiResult.Ok(Render.Run(run)));
        }
    }

    private ApiResult SubmitToolOutputs(ApiRequest request)
    {
        var body = request.Json;
        body.AllowOnly("tool_outputs", "stream");
        var stream = body.Boolean("stream") ?? false;
        if (!body.Contains("tool_outputs"))
        {
            throw ApiException.MissingParameter("tool_outputs");
        }

        var submitted = new List<(string Id, string Output)>();
        foreach (var output in body.Objects("tool_outputs"))
        {
            output.AllowOnly("tool_call_id", "output");
            submitted.Add((output.RequiredString("tool_call_id"), output.String("output") ?? ""));
        }

        lock (_store.Sync)
        {
            var (thread, run) = FindRun(request);
            if (run.Status != RunStatus.RequiresAction)
            {
                throw ApiException.BadRequest($"Runs in status \"{run.Status}\" do not accept tool outputs.");
            }

            var expected = run.PendingCallIds;
            var got = submitted.Select(s => s.Id).ToList();
            if (got.Count != expected.Count || got.Distinct(StringComparer.Ordinal).Count() != got.Count || !got.All(expected.Contains))
            {
                throw ApiException.BadRequest(
                    $"Expected tool outputs for call_ids [{string.Join(", ", expected.Select(e => $"'{e}'"))}], got [{string.Join(", ", got.Select(g => $"'{g}'"))}]");
            }

            var outputs = submitted.ToDictionary(s => s.Id, s => s.Output, StringComparer.Ordinal);
            if (!stream)
            {
                _engine.SubmitOutputs(run, outputs, _store.Now);
                return WithPollHeader(ApiResult.Ok(Render.Run(run)));
            }

            var plan = new RunStreamPlan(_engine, thread, run);
            run.Followers++;
            _engine.SubmitOutputs(run, outputs, _store.Now);
            return new ApiResult { Stream = plan };
        }
    }

    // ---------------------------------------------------------------- run steps

    private ApiResult ListSteps(ApiRequest request)
    {
        var query = ListQuery.Read(request);
        lock (_store.Sync)
        {
            var (_, run) = FindRun(request);
            var include = IncludesFileSearchContent(request);
            return ApiResult.Ok(query.Page(run.Steps, s => s.Id, s => Render.Step(run, s, stream: false, include)));
        }
    }

    private ApiResult GetStep(ApiRequest request)
    {
        lock (_store.Sync)
        {
            var (_, run) = FindRun(request);
            var step = run.Steps.Find(s => s.Id == request["step_id"]) ?? throw ApiException.NotFound("run step", request["step_id"]);
            return ApiResult.Ok(Render.Step(run, step, stream: false, IncludesFileSearchContent(request)));
        }
    }

    // ---------------------------------------------------------------- lookups

    private AssistantRecord FindAssistant(string id) =>
        _store.Data.Assistants.TryGetValue(id, out var assistant) ? assistant : throw ApiException.NotFound("assistant", id);

    private ThreadRecord FindThread(string id) =>
        _store.Data.Threads.TryGetValue(id, out var thread) ? thread : throw ApiException.NotFound("thread", id);

    private static MessageRecord FindMessage(ThreadRecord thread, string id) =>
        thread.Messages.Find(m => m.Id == id) ?? throw ApiException.NotFound("message", id);

    private (ThreadRecord Thread, RunRecord Run) FindRun(ApiRequest request)
    {
        var thread = FindThread(request["thread_id"]);
        var run = thread.Runs.Find(r => r.Id == request["run_id"]) ?? throw ApiException.NotFound("run", request["run_id"]);
        if (run.IsActive)
        {
            _engine.Advance(thread, run, _store.Now);
        }

        return (thread, run);
    }

    private ApiResult WithPollHeader(ApiResult result)
    {
        if (_options.PollAfter is { } pollAfter)
        {
            result.Headers["openai-poll-after-ms"] = ((long)pollAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        }

        return result;
    }

    /// <summary>Whether the request asks for file search results' text (<c>include[]=step_details.tool_calls[*].file_search.results[*].content</c>).</summary>
    private static bool IncludesFileSearchContent(ApiRequest request) =>
        request.Query.TryGetValue("include[]", out var values)
        && values.Any(v => v is not null && v.Contains("file_search.results[*].content", StringComparison.Ordinal));

    private static string? ReasoningEffort(JsonBody body) =>
        body.Enum("reasoning_effort", "none", "minimal", "low", "medium", "high", "xhigh", "max");

    /// <summary>The validated options of a create-run or create-thread-and-run request.</summary>
    private sealed class RunOptions
    {
        public string AssistantId { get; private init; } = "";
        public string? Model { get; private init; }
        public bool HasInstructions { get; private init; }
        public string? Instructions { get; private init; }
        public string? AdditionalInstructions { get; private init; }
        public List<(string Role, JsonArray Content, JsonArray Attachments, Dictionary<string, string> Metadata)> AdditionalMessages { get; private init; } = [];
        public JsonArray? Tools { get; private init; }
        public Dictionary<string, string>? Metadata { get; private init; }
        public double? Temperature { get; private init; }
        public double? TopP { get; private init; }
        public string? ReasoningEffort { get; private init; }
        public bool Stream { get; private init; }
        public int? MaxPromptTokens { get; private init; }
        public int? MaxCompletionTokens { get; private init; }
        public string? TruncationType { get; private init; }
        public int? TruncationLastMessages { get; private init; }
        public JsonNode? ToolChoice { get; private init; }
        public bool? ParallelToolCalls { get; private init; }
        public JsonNode? ResponseFormat { get; private init; }

        public static RunOptions Read(JsonBody body, bool threadAndRun)
        {
            var truncation = body.Object("truncation_strategy");
            truncation?.AllowOnly("type", "last_messages");
            var truncationType = truncation?.Enum("type", "auto", "last_messages");
            if (truncation is not null && truncationType is null)
            {
                throw ApiException.MissingParameter(truncation.PathOf("type"));
            }

            return new RunOptions
            {
                AssistantId = body.RequiredString("assistant_id"),
                Model = body.String("model"),
                HasInstructions = body.Has("instructions"),
                Instructions = body.String("instructions", 256_000),
                AdditionalInstructions = threadAndRun ? null : body.String("additional_instructions"),
                AdditionalMessages = threadAndRun ? [] : body.Objects("additional_messages").Select(Normalize.Message).ToList(),
                Tools = body.Has("tools") ? Normalize.Tools(body, "tools", 128) : null,
                Metadata = body.Metadata(),
                Temperature = body.Number("temperature", 0, 2),
                TopP = body.Number("top_p", 0, 1),
                ReasoningEffort = AssistantsApi.ReasoningEffort(body),
                Stream = body.Boolean("stream") ?? false,
                MaxPromptTokens = body.Integer("max_prompt_tokens", 1),
                MaxCompletionTokens = body.Integer("max_completion_tokens", 1),
                TruncationType = truncationType,
                TruncationLastMessages = truncation?.Integer("last_messages", 1),
                ToolChoice = body.Has("tool_choice") ? Normalize.ToolChoice(body, "tool_choice") : null,
                ParallelToolCalls = body.Boolean("parallel_tool_calls"),
                ResponseFormat = body.Has("response_format") ? Normalize.ResponseFormat(body, "response_format") : null,
            };
        }

        /// <summary>
        /// The run's instructions: the override (or the assistant's), followed by a newline and the additional
        /// instructions when given.
        /// </summary>
        public string? EffectiveInstructions(AssistantRecord assistant)
        {
            var baseInstructions = HasInstructions ? Instructions : assistant.Instructions;
            if (string.IsNullOrEmpty(AdditionalInstructions))
            {
                return baseInstructions;
            }

            return string.IsNullOrEmpty(baseInstructions) ? AdditionalInstructions : $"{baseInstructions}\n{AdditionalInstructions}";
        }
    }
}
