using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Files.Internal;
using Assistants.Kit.Http.Internal;
using Assistants.Kit.Tools.Internal;
using OpenAI.Assistants;

namespace Assistants.Kit.Protocols.Internal;

/// <summary>The Assistants v2 protocol over the official <see cref="AssistantClient"/>.</summary>
internal sealed class AssistantsProtocolBackend : IProtocolBackend
{
    private readonly OpenAIClientProvider _clients;
    private readonly WriteReconciler _reconciler;

    public AssistantsProtocolBackend(OpenAIClientProvider clients, WriteReconciler reconciler)
    {
        _clients = clients;
        _reconciler = reconciler;
    }

    public AssistantsProtocol Protocol => AssistantsProtocol.Assistants;

    private AssistantClient Client => _clients.Assistants;

    public async Task<ServerAssistant?> GetAssistantAsync(string assistantId, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Client.GetAssistantAsync(assistantId, cancellationToken).ConfigureAwait(false);
            return ToServerAssistant(result.Value);
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async IAsyncEnumerable<ServerAssistant> ListAssistantsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var options = new AssistantCollectionOptions { Order = AssistantCollectionOrder.Descending, PageSizeLimit = 100 };
        await foreach (var assistant in Client.GetAssistantsAsync(options, cancellationToken).ConfigureAwait(false))
        {
            yield return ToServerAssistant(assistant);
        }
    }

    public async Task<ServerAssistant> CreateAssistantAsync(AssistantSpec spec, CancellationToken cancellationToken)
    {
        // The protocol method: only what the definition sets goes on the wire, and reasoning_effort (absent from the
        // typed options of OpenAI 2.15.0) can be sent.
        using var content = BinaryContent.Create(BinaryData.FromString(AssistantBody(spec, includeModel: true).ToJsonString()));
        var result = await Client.CreateAssistantAsync(content, new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
        return ToServerAssistant(ModelReaderWriter.Read<Assistant>(result.GetRawResponse().Content)!);
    }

    public async Task<ServerAssistant> UpdateAssistantAsync(string assistantId, AssistantSpec spec, CancellationToken cancellationToken)
    {
        using var content = BinaryContent.Create(BinaryData.FromString(AssistantBody(spec, includeModel: true).ToJsonString()));
        var result = await Client.ModifyAssistantAsync(assistantId, content, new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
        return ToServerAssistant(ModelReaderWriter.Read<Assistant>(result.GetRawResponse().Content)!);
    }

    public async Task<bool> DeleteAssistantAsync(string assistantId, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Client.DeleteAssistantAsync(assistantId, cancellationToken).ConfigureAwait(false);
            return result.Value.Deleted;
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    public async Task<string> CreateThreadAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var options = new ThreadCreationOptions();
        foreach (var (key, value) in metadata)
        {
            options.Metadata[key] = value;
        }

        var result = await Client.CreateThreadAsync(options, cancellationToken).ConfigureAwait(false);
        return result.Value.Id;
    }

    public async Task<string> CreateSeededThreadAsync(string assistantMessage, CancellationToken cancellationToken)
    {
        var options = new ThreadCreationOptions();
        options.InitialMessages.Add(new ThreadInitializationMessage(MessageRole.Assistant, [MessageContent.FromText(assistantMessage)]));
        var result = await Client.CreateThreadAsync(options, cancellationToken).ConfigureAwait(false);
        return result.Value.Id;
    }

    public async Task<bool> ThreadExistsAsync(string threadId, CancellationToken cancellationToken)
    {
        try
        {
            await Client.GetThreadAsync(threadId, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ClientResultException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    public Task<AssistantMessage> AddUserMessageAsync(string threadId, string text, string operationId, CancellationToken cancellationToken) =>
        AddUserMessageAsync(threadId, text, operationId, [], cancellationToken);

    public Task<AssistantMessage> AddUserMessageAsync(string threadId, string text, string operationId, IReadOnlyList<MessageAttachment> attachments, CancellationToken cancellationToken)
    {
        return _reconciler.ExecuteAsync(
            "Create message",
            $"/threads/{threadId}/messages",
            operationId,
            async ct =>
            {
                var options = new MessageCreationOptions();
                options.Metadata[WriteReconciler.OperationIdKey] = operationId;
                foreach (var attachment in attachments)
                {
                    options.Attachments.Add(MessageAttachments.ToSdk(attachment));
                }

                var result = await Client.CreateMessageAsync(threadId, MessageRole.User, [MessageContent.FromText(text)], options, ct).ConfigureAwait(false);
                return ToMessage(result.Value);
            },
            ct => FindUserMessageAsync(threadId, operationId, text, ct),
            static m => m.Id,
            cancellationToken);
    }

    public async Task<AssistantMessage?> FindUserMessageAsync(string threadId, string operationId, string text, CancellationToken cancellationToken)
    {
        var options = new MessageCollectionOptions { Order = MessageCollectionOrder.Descending, PageSizeLimit = 10 };
        var seen = 0;
        await foreach (var message in Client.GetMessagesAsync(threadId, options, cancellationToken).ConfigureAwait(false))
        {
            if (message.Metadata.TryGetValue(WriteReconciler.OperationIdKey, out var op) && op == operationId)
            {
                return ToMessage(message);
            }

            if (++seen >= 10)
            {
                break;
            }
        }

        return null;
    }

    public Task<RunSnapshot?> FindRunByOperationAsync(string threadId, string operationId, CancellationToken cancellationToken) =>
        FindRunAsync(threadId, operationId, cancellationToken);

    public IRunStream CreateRunStream(RunRequest request) => new AssistantsRunStream(this, request);

    /// <summary>Creates a run with the streaming create: the updates arrive as the official client parses them.</summary>
    public Task<AsyncStreamingResult<StreamingUpdate>> CreateRunStreamAsync(RunRequest request, CancellationToken cancellationToken) =>
        Client.CreateRunStreamingAsync(request.ThreadId, request.AssistantId, ToRunOptions(request), cancellationToken);

    /// <summary>Submits a round's outputs with the streaming submit: the run goes on in the returned stream.</summary>
    public Task<AsyncStreamingResult<StreamingUpdate>> SubmitToolOutputsStreamAsync(string threadId, string runId, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken) =>
        Client.SubmitToolOutputsToRunStreamingAsync(threadId, runId, [.. outputs.Select(o => new OpenAI.Assistants.ToolOutput(o.Key, o.Value))], cancellationToken);

    public Task<RunSnapshot> CreateRunAsync(RunRequest request, CancellationToken cancellationToken)
    {
        return _reconciler.ExecuteAsync(
            "Create run",
            $"/threads/{request.ThreadId}/runs",
            request.OperationId,
            async ct =>
            {
                var result = await Client.CreateRunAsync(request.ThreadId, request.AssistantId, ToRunOptions(request), ct).ConfigureAwait(false);
                return ToSnapshot(result.Value, PollHint(result.GetRawResponse()));
            },
            ct => FindRunAsync(request.ThreadId, request.OperationId, ct),
            static r => r.Id,
            cancellationToken);
    }

    public async Task<RunSnapshot?> FindRunAsync(string threadId, string operationId, CancellationToken cancellationToken)
    {
        var options = new RunCollectionOptions { Order = RunCollectionOrder.Descending, PageSizeLimit = 10 };
        var seen = 0;
        await foreach (var run in Client.GetRunsAsync(threadId, options, cancellationToken).ConfigureAwait(false))
        {
            if (run.Metadata.TryGetValue(WriteReconciler.OperationIdKey, out var op) && op == operationId)
            {
                return ToSnapshot(run, null);
            }

            if (++seen >= 10)
            {
                break;
            }
        }

        return null;
    }

    public async Task<RunSnapshot> GetRunAsync(string threadId, string runId, CancellationToken cancellationToken)
    {
        var result = await Client.GetRunAsync(threadId, runId, cancellationToken).ConfigureAwait(false);
        return ToSnapshot(result.Value, PollHint(result.GetRawResponse()));
    }

    public Task<RunSnapshot> SubmitToolOutputsAsync(string threadId, string runId, IReadOnlyList<KeyValuePair<string, string>> outputs, CancellationToken cancellationToken)
    {
        var submitted = outputs.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        return _reconciler.ExecuteAsync(
            "Submit tool outputs",
            $"/threads/{threadId}/runs/{runId}/submit_tool_outputs",
            runId,
            async ct =>
            {
                var result = await Client.SubmitToolOutputsToRunAsync(threadId, runId, outputs.Select(o => new OpenAI.Assistants.ToolOutput(o.Key, o.Value)), ct).ConfigureAwait(false);
                return ToSnapshot(result.Value, PollHint(result.GetRawResponse()));
            },
            async ct =>
            {
                // The submit landed when the run no longer waits for exactly these calls.
                var run = await GetRunAsync(threadId, runId, ct).ConfigureAwait(false);
                var waitingForSame = run.Status == RunStatus.RequiresAction
                    && run.RequiredToolCalls.Select(c => c.ToolCallId).ToHashSet(StringComparer.Ordinal).SetEquals(submitted);
                return waitingForSame ? null : run;
            },
            static r => r.Id,
            cancellationToken);
    }

    public async Task<RunSnapshot> CancelRunAsync(string threadId, string runId, CancellationToken cancellationToken)
    {
        var result = await Client.CancelRunAsync(threadId, runId, cancellationToken).ConfigureAwait(false);
        return ToSnapshot(result.Value, null);
    }

    public async Task<IReadOnlyList<AssistantMessage>> GetRunMessagesAsync(string threadId, string runId, string? afterMessageId, CancellationToken cancellationToken)
    {
        var options = new MessageCollectionOptions { Order = MessageCollectionOrder.Ascending, AfterId = afterMessageId, PageSizeLimit = 100 };
        var messages = new List<AssistantMessage>();
        await foreach (var message in Client.GetMessagesAsync(threadId, options, cancellationToken).ConfigureAwait(false))
        {
            if (message.Role == MessageRole.Assistant && message.RunId == runId)
            {
                messages.Add(ToMessage(message));
            }
        }

        return messages;
    }

    public async Task<IReadOnlyList<RunStepRecord>> GetRunStepsAsync(string threadId, string runId, CancellationToken cancellationToken)
    {
        var options = new RunStepCollectionOptions { Order = RunStepCollectionOrder.Ascending, PageSizeLimit = 100 };
        var steps = new List<RunStepRecord>();
        await foreach (var step in Client.GetRunStepsAsync(threadId, runId, options, cancellationToken).ConfigureAwait(false))
        {
            steps.Add(ToStepRecord(step));
        }

        return steps;
    }

    internal static RunStepRecord ToStepRecord(RunStep step)
    {
        var calls = new List<Assistants.Kit.RunStepToolCall>();
        if (step.Details?.ToolCalls is { } toolCalls)
        {
            foreach (var call in toolCalls)
            {
                var kind = call.Kind switch
                {
                    OpenAI.Assistants.RunStepToolCallKind.Function => Assistants.Kit.RunStepToolCallKind.Function,
                    OpenAI.Assistants.RunStepToolCallKind.CodeInterpreter => Assistants.Kit.RunStepToolCallKind.CodeInterpreter,
                    OpenAI.Assistants.RunStepToolCallKind.FileSearch => Assistants.Kit.RunStepToolCallKind.FileSearch,
                    _ => Assistants.Kit.RunStepToolCallKind.Other,
                };
                calls.Add(new Assistants.Kit.RunStepToolCall(
                    call.Id,
                    kind,
                    kind == Assistants.Kit.RunStepToolCallKind.Function ? call.FunctionName : kind == Assistants.Kit.RunStepToolCallKind.CodeInterpreter ? "code_interpreter" : "file_search")
                {
                    FileSearchResults = kind == Assistants.Kit.RunStepToolCallKind.FileSearch ? FileSearchResults(call) : [],
                    CodeInterpreterInput = kind == Assistants.Kit.RunStepToolCallKind.CodeInterpreter ? call.CodeInterpreterInput : null,
                    CodeInterpreterLogs = kind == Assistants.Kit.RunStepToolCallKind.CodeInterpreter ? CodeInterpreterLogs(call) : [],
                    CodeInterpreterImageFileIds = kind == Assistants.Kit.RunStepToolCallKind.CodeInterpreter ? CodeInterpreterImages(call) : [],
                });
            }
        }

        var state = step.Status == RunStepStatus.Completed ? RunStepState.Completed
            : step.Status == RunStepStatus.Failed ? RunStepState.Failed
            : step.Status == RunStepStatus.Cancelled ? RunStepState.Cancelled
            : step.Status == RunStepStatus.Expired ? RunStepState.Expired
            : RunStepState.InProgress;
        return new RunStepRecord(
            step.Id,
            step.Kind == RunStepKind.ToolCall ? RunStepType.ToolCalls : RunStepType.MessageCreation,
            state,
            calls,
            step.Usage is { } usage ? SdkTokenUsage.From(usage) : null,
            step.CreatedAt,
            step.CompletedAt ?? step.FailedAt ?? step.CancelledAt ?? step.ExpiredAt);
    }

    internal static IReadOnlyList<FileSearchResult> FileSearchResults(OpenAI.Assistants.RunStepToolCall call) =>
        [.. (call.FileSearchResults ?? []).Select(r => new FileSearchResult(
            r.FileId, r.FileName, r.Score, r.Content is { Count: > 0 } parts ? string.Concat(parts.Select(p => p.Text)) : null))];

    internal static IReadOnlyList<string> CodeInterpreterLogs(OpenAI.Assistants.RunStepToolCall call) =>
        [.. (call.CodeInterpreterOutputs ?? []).Where(o => o.Logs is not null).Select(o => o.Logs)];

    internal static IReadOnlyList<string> CodeInterpreterImages(OpenAI.Assistants.RunStepToolCall call) =>
        [.. (call.CodeInterpreterOutputs ?? []).Where(o => o.ImageFileId is not null).Select(o => o.ImageFileId)];

    internal static JsonObject AssistantBody(AssistantSpec spec, bool includeModel)
    {
        var definition = spec.Definition;
        var body = new JsonObject();
        if (includeModel)
        {
            body["model"] = spec.Model;
        }

        body["name"] = definition.Name;
        if (definition.Description is not null)
        {
            body["description"] = definition.Description;
        }

        if (definition.Instructions is not null)
        {
            body["instructions"] = definition.Instructions;
        }

        var tools = new JsonArray();
        if (definition.CodeInterpreter)
        {
            tools.Add(new JsonObject { ["type"] = "code_interpreter" });
        }

        if (definition.FileSearch)
        {
            tools.Add(new JsonObject { ["type"] = "file_search" });
        }

        foreach (var tool in spec.FunctionTools)
        {
            tools.Add(FunctionToolJson(tool));
        }

        body["tools"] = tools;
        if (definition.FileSearch && definition.VectorStoreIds.Count > 0)
        {
            body["tool_resources"] = new JsonObject
            {
                ["file_search"] = new JsonObject { ["vector_store_ids"] = new JsonArray([.. definition.VectorStoreIds.Select(id => (JsonNode?)id)]) },
            };
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
            body["reasoning_effort"] = effort;
        }

        if (definition.ResponseFormat is { } format)
        {
            body["response_format"] = format == "auto" ? "auto" : new JsonObject { ["type"] = format };
        }

        var metadata = new JsonObject();
        foreach (var (key, value) in spec.Metadata)
        {
            metadata[key] = value;
        }

        body["metadata"] = metadata;
        return body;
    }

    private static JsonObject FunctionToolJson(FunctionToolSpec tool)
    {
        var function = new JsonObject { ["name"] = tool.Name };
        if (tool.Description is not null)
        {
            function["description"] = tool.Description;
        }

        function["parameters"] = JsonNode.Parse(tool.ParametersSchema.GetRawText());
        if (tool.Strict)
        {
            function["strict"] = true;
        }

        return new JsonObject { ["type"] = "function", ["function"] = function };
    }

    internal static RunCreationOptions ToRunOptions(RunRequest request)
    {
        var options = new RunCreationOptions
        {
            MaxOutputTokenCount = request.MaxCompletionTokens,
            MaxInputTokenCount = request.MaxPromptTokens,
            AllowParallelToolCalls = request.ParallelToolCalls,
            AdditionalInstructions = request.AdditionalInstructions,
            ModelOverride = request.ModelOverride,
        };
        if (request.TruncationLastMessages is { } last)
        {
            options.TruncationStrategy = RunTruncationStrategy.CreateLastMessagesStrategy(last);
        }

        if (request.ToolsOverride is { } tools)
        {
            if (request.Assistant.Definition.CodeInterpreter)
            {
                options.ToolsOverride.Add(new CodeInterpreterToolDefinition());
            }

            if (request.Assistant.Definition.FileSearch)
            {
                options.ToolsOverride.Add(new FileSearchToolDefinition());
            }

            foreach (var tool in tools)
            {
                options.ToolsOverride.Add(ToolDefinition.CreateFunction(
                    tool.Name, tool.Description, BinaryData.FromString(tool.ParametersSchema.GetRawText()), tool.Strict ? true : null));
            }
        }

        options.Metadata[WriteReconciler.OperationIdKey] = request.OperationId;
        foreach (var (key, value) in request.Metadata)
        {
            options.Metadata[key] = value;
        }

        return options;
    }

    private static ServerAssistant ToServerAssistant(Assistant assistant) =>
        new(assistant.Id, assistant.Name, assistant.CreatedAt, assistant.Metadata.ToDictionary(StringComparer.Ordinal));

    internal static TimeSpan? PollHint(PipelineResponse response) =>
        response.Headers.TryGetValue("openai-poll-after-ms", out var value)
        && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0
            ? TimeSpan.FromMilliseconds(ms)
            : null;

    internal static RunSnapshot ToSnapshot(ThreadRun run, TimeSpan? pollHint)
    {
        var calls = run.RequiredActions?.Select(a => new ToolCallRequest(a.ToolCallId, a.FunctionName, a.FunctionArguments ?? string.Empty)).ToArray()
            ?? [];
        return new RunSnapshot(
            run.Id,
            run.ThreadId,
            run.AssistantId,
            MapStatus(run.Status),
            calls,
            run.LastError is { } error ? new RunError(error.Code.ToString(), error.Message) : null,
            run.IncompleteDetails?.Reason is { } reason ? IncompleteReasonWire(reason) : null,
            run.Usage is { } usage ? SdkTokenUsage.From(usage) : null,
            run.CreatedAt,
            run.ExpiresAt,
            run.Model,
            run.Metadata.ToDictionary(StringComparer.Ordinal),
            pollHint);
    }

    private static string IncompleteReasonWire(RunIncompleteReason reason) =>
        reason == RunIncompleteReason.MaxOutputTokenCount ? "max_completion_tokens"
        : reason == RunIncompleteReason.MaxInputTokenCount ? "max_prompt_tokens"
        : reason.ToString();

    internal static RunStatus MapStatus(OpenAI.Assistants.RunStatus status)
    {
        if (status == OpenAI.Assistants.RunStatus.Queued) { return RunStatus.Queued; }
        if (status == OpenAI.Assistants.RunStatus.InProgress) { return RunStatus.InProgress; }
        if (status == OpenAI.Assistants.RunStatus.RequiresAction) { return RunStatus.RequiresAction; }
        if (status == OpenAI.Assistants.RunStatus.Cancelling) { return RunStatus.Cancelling; }
        if (status == OpenAI.Assistants.RunStatus.Cancelled) { return RunStatus.Cancelled; }
        if (status == OpenAI.Assistants.RunStatus.Failed) { return RunStatus.Failed; }
        if (status == OpenAI.Assistants.RunStatus.Completed) { return RunStatus.Completed; }
        if (status == OpenAI.Assistants.RunStatus.Incomplete) { return RunStatus.Incomplete; }
        if (status == OpenAI.Assistants.RunStatus.Expired) { return RunStatus.Expired; }
        throw new InvalidOperationException($"Unknown run status '{status}'.");
    }

    internal static AssistantMessage ToMessage(ThreadMessage message)
    {
        var texts = new List<string>();
        var annotations = new List<MessageAnnotation>();
        var images = new List<string>();
        foreach (var content in message.Content)
        {
            if (content.Text is { } text)
            {
                texts.Add(text);
                foreach (var annotation in content.TextAnnotations)
                {
                    var isCitation = annotation.InputFileId is not null;
                    var kind = isCitation ? "file_citation" : "file_path";
                    annotations.Add(new MessageAnnotation(
                        kind,
                        annotation.TextToReplace,
                        annotation.InputFileId ?? annotation.OutputFileId,
                        annotation.StartIndex,
                        annotation.EndIndex,
                        FileName: CitationResolver.FileNameOf(kind, annotation.TextToReplace)));
                }
            }

            if (content.ImageFileId is { } imageFileId)
            {
                images.Add(imageFileId);
            }
        }

        return new AssistantMessage(
            message.Id,
            message.Role == MessageRole.Assistant ? "assistant" : "user",
            string.Join("\n", texts),
            annotations,
            images,
            message.CreatedAt,
            message.RunId);
    }
}
