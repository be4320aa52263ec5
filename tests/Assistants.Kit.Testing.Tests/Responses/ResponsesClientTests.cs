using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;
using OpenAI.Conversations;
using OpenAI.Responses;

namespace Assistants.Kit.Testing.Tests.Responses;

/// <summary>The official <see cref="ResponsesClient"/> and <see cref="ConversationClient"/> (2.15.0) against the emulator: every answer deserialises.</summary>
public sealed class ResponsesClientTests
{
    private static readonly BinaryData OrderParameters = BinaryData.FromString("""{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}""");

    private static async Task<List<StreamingResponseUpdate>> CollectAsync(Task<AsyncStreamingResult<StreamingResponseUpdate>> start)
    {
        var updates = new List<StreamingResponseUpdate>();
        await using var stream = await start;
        await foreach (var update in stream)
        {
            updates.Add(update);
        }

        return updates;
    }

    private static List<string> Kinds(IEnumerable<StreamingResponseUpdate> updates)
    {
        var kinds = new List<string>();
        foreach (var kind in updates.Select(u => u.Kind.ToString()))
        {
            if (kinds.Count == 0 || kinds[^1] != kind)
            {
                kinds.Add(kind);
            }
        }

        return kinds;
    }

    [Fact]
    public async Task CreateGetDelete_ThenGetIs404()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().Reply("Hello! How can I assist you today?");
        var created = (await d.Responses.CreateResponseAsync("gpt-4o-mini", "Hello, model!")).Value;
        Assert.Equal(ResponseStatus.Completed, created.Status);
        Assert.Matches("^resp_[0-9a-f]{50}$", created.Id);
        Assert.Equal("Hello! How can I assist you today?", created.GetOutputText());
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(created.OutputItems));
        Assert.Matches("^msg_[0-9a-f]{50}$", message.Id);
        Assert.Equal(4, created.Usage.InputTokenCount); // ceil(13 / 4)
        Assert.Equal(9, created.Usage.OutputTokenCount); // ceil(34 / 4)
        Assert.Equal(13, created.Usage.TotalTokenCount);
        Assert.Equal(0, created.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(0, created.Usage.OutputTokenDetails.ReasoningTokenCount);

        var fetched = (await d.Responses.GetResponseAsync(created.Id)).Value;
        Assert.Equal(created.GetOutputText(), fetched.GetOutputText());

        var deleted = (await d.Responses.DeleteResponseAsync(created.Id)).Value;
        Assert.True(deleted.Deleted);
        Assert.Equal(created.Id, deleted.ResponseId);
        var error = await Assert.ThrowsAsync<ClientResultException>(() => d.Responses.GetResponseAsync(created.Id));
        Assert.Equal(404, error.Status);
        Assert.Contains($"Response with id '{created.Id}' not found.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreFalse_IsNotRetrievable()
    {
        await using var d = await ResponsesDriver.StartAsync();
        var created = (await d.Responses.CreateResponseAsync(new CreateResponseOptions("gpt-4o-mini", [ResponseItem.CreateUserMessageItem("hi")]) { StoredOutputEnabled = false })).Value;
        Assert.Equal(ResponseStatus.Completed, created.Status);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => d.Responses.GetResponseAsync(created.Id))).Status);
    }

    [Fact]
    public async Task FunctionCalls_ThenOutputsWithPreviousResponseId_ContinueTheTurn_AndInputItemsPage()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.WhenUserMessageContains("ORD-")
            .CallTools(("get_order_status", """{"order_id":"ORD-1"}"""), ("get_customer", """{"order_id":"ORD-1"}"""))
            .Reply(ctx => $"Order ORD-1 is {ctx.ToolOutputs["get_order_status"]} for {ctx.ToolOutputs["get_customer"]}.");
        var tools = new List<ResponseTool>
        {
            ResponseTool.CreateFunctionTool("get_order_status", OrderParameters, strictModeEnabled: false, "Gets an order's status"),
            ResponseTool.CreateFunctionTool("get_customer", OrderParameters, strictModeEnabled: false),
        };
        var options = new CreateResponseOptions("gpt-4o", [ResponseItem.CreateUserMessageItem("Where is ORD-1?")]);
        foreach (var tool in tools)
        {
            options.Tools.Add(tool);
        }

        var first = (await d.Responses.CreateResponseAsync(options)).Value;
        Assert.Equal(ResponseStatus.Completed, first.Status);
        var calls = first.OutputItems.OfType<FunctionCallResponseItem>().ToList();
        Assert.Equal(["get_order_status", "get_customer"], calls.Select(c => c.FunctionName));
        Assert.All(calls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.CallId));
        Assert.All(calls, c => Assert.Matches("^fc_[0-9a-f]{50}$", c.Id));
        Assert.Equal("""{"order_id":"ORD-1"}""", calls[0].FunctionArguments.ToString());

        var next = new CreateResponseOptions("gpt-4o", [ResponseItem.CreateFunctionCallOutputItem(calls[0].CallId, "shipped"), ResponseItem.CreateFunctionCallOutputItem(calls[1].CallId, "Alice")])
        {
            PreviousResponseId = first.Id,
        };
        foreach (var tool in tools)
        {
            next.Tools.Add(tool);
        }

        var second = (await d.Responses.CreateResponseAsync(next)).Value;
        Assert.Equal("Order ORD-1 is shipped for Alice.", second.GetOutputText());
        Assert.Equal(first.Id, second.PreviousResponseId);

        // Newest first: both outputs, both calls, the user message.
        var items = new List<ResponseItem>();
        await foreach (var item in d.Responses.GetResponseInputItemsAsync(second.Id))
        {
            items.Add(item);
        }

        Assert.Equal(5, items.Count);
        Assert.IsAssignableFrom<FunctionCallOutputResponseItem>(items[0]);
        Assert.IsAssignableFrom<FunctionCallResponseItem>(items[2]);
        Assert.IsAssignableFrom<MessageResponseItem>(items[4]);
        var page = (await d.Http.GetJsonAsync($"/responses/{second.Id}/input_items?limit=2&order=asc")).Body!;
        Assert.True((bool)page["has_more"]!);
        Assert.Equal("message", page.Str("data.0.type"));
        var rest = (await d.Http.GetJsonAsync($"/responses/{second.Id}/input_items?limit=10&order=asc&after={page.Str("last_id")}")).Body!;
        Assert.Equal(3, rest["data"]!.AsArray().Count);
        Assert.False((bool)rest["has_more"]!);
    }

    [Fact]
    public async Task Background_IsQueued_ThenPolledToCompletion_OnTheEmulatorsClock()
    {
        await using var d = await ResponsesDriver.StartAsync(o =>
        {
            o.QueuedDuration = TimeSpan.FromSeconds(1);
            o.InProgressDuration = TimeSpan.FromSeconds(2);
        });
        var created = (await d.Responses.CreateResponseAsync(new CreateResponseOptions("gpt-4.1-mini", [ResponseItem.CreateUserMessageItem("Hello, model!")]) { BackgroundModeEnabled = true })).Value;
        Assert.Equal(ResponseStatus.Queued, created.Status);
        Assert.True(created.BackgroundModeEnabled);
        Assert.Null(created.Usage);
        Assert.Empty(created.OutputItems);

        d.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ResponseStatus.InProgress, (await d.Responses.GetResponseAsync(created.Id)).Value.Status);
        d.Time.Advance(TimeSpan.FromSeconds(2));
        var done = (await d.Responses.GetResponseAsync(created.Id)).Value;
        Assert.Equal(ResponseStatus.Completed, done.Status);
        Assert.Equal("Emulated reply to \"Hello, model!\". This thread holds 0 earlier user messages.", done.GetOutputText());
        var raw = await d.GetAsync(created.Id);
        Assert.Equal(RunDriver.StartSeconds + 3, (long)raw["completed_at"]!);
    }

    [Fact]
    public async Task Cancel_ABackgroundResponse_AndOnlyThose()
    {
        await using var d = await ResponsesDriver.StartAsync(o => o.QueuedDuration = TimeSpan.FromSeconds(5));
        var created = (await d.Responses.CreateResponseAsync(new CreateResponseOptions("gpt-4.1-mini", [ResponseItem.CreateUserMessageItem("Hello, model!")]) { BackgroundModeEnabled = true })).Value;
        var cancelled = (await d.Responses.CancelResponseAsync(created.Id)).Value;
        Assert.Equal(ResponseStatus.Cancelled, cancelled.Status);
        Assert.Empty(cancelled.OutputItems);
        Assert.Null(cancelled.Usage);
        d.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(ResponseStatus.Cancelled, (await d.Responses.CancelResponseAsync(created.Id)).Value.Status); // idempotent

        var foreground = (await d.Responses.CreateResponseAsync("gpt-4o-mini", "hi")).Value;
        var error = await Assert.ThrowsAsync<ClientResultException>(() => d.Responses.CancelResponseAsync(foreground.Id));
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public async Task Streaming_SendsTheRecordedEventOrder_WithSequenceNumbersFromZero()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().Reply("Hello! How can I assist you today?");
        var updates = await CollectAsync(d.Responses.CreateResponseStreamingAsync("gpt-4o-mini", "Hello, model!"));
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            Kinds(updates));
        Assert.Equal(Enumerable.Range(0, updates.Count), updates.Select(u => u.SequenceNumber));
        Assert.Equal("Hello! How can I assist you today?", string.Concat(updates.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta)));
        var completed = Assert.IsType<StreamingResponseCompletedUpdate>(updates[^1]);
        Assert.Equal(ResponseStatus.Completed, completed.Response.Status);
        Assert.NotNull(completed.Response.Usage);
        Assert.Equal("Hello! How can I assist you today?", (await d.Responses.GetResponseAsync(completed.Response.Id)).Value.GetOutputText());
    }

    [Fact]
    public async Task StreamingFunctionCall_ThenAStreamedContinuation()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().CallTools(("get_weather_at_location", """{"location":"San Francisco, CA"}""")).Reply(ctx => $"It is {ctx.ToolOutputs["get_weather_at_location"]}.");
        var first = await CollectAsync(d.Responses.CreateResponseStreamingAsync("gpt-4o-mini", "What should I wear?"));
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done", "response.completed"],
            Kinds(first));
        var done = first.OfType<StreamingResponseFunctionCallArgumentsDoneUpdate>().Single();
        Assert.Equal("""{"location":"San Francisco, CA"}""", done.FunctionArguments.ToString());
        var call = (FunctionCallResponseItem)first.OfType<StreamingResponseOutputItemDoneUpdate>().Single().Item;
        var responseId = ((StreamingResponseCompletedUpdate)first[^1]).Response.Id;

        var second = await CollectAsync(d.Responses.CreateResponseStreamingAsync("gpt-4o-mini", [ResponseItem.CreateFunctionCallOutputItem(call.CallId, "22 celcius and windy")], responseId));
        Assert.Equal("It is 22 celcius and windy.", string.Concat(second.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta)));
    }

    [Fact]
    public async Task BackgroundStream_IsResumedWithStartingAfter()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().Reply("Once upon a time there was a little star.").CutStreamAfter(4);
        var received = new List<StreamingResponseUpdate>();
        var error = await Record.ExceptionAsync(async () =>
        {
            await using var stream = await d.Responses.CreateResponseStreamingAsync(new CreateResponseOptions("gpt-4.1-mini", [ResponseItem.CreateUserMessageItem("Tell me a story")]) { BackgroundModeEnabled = true, StreamingEnabled = true });
            await foreach (var update in stream)
            {
                received.Add(update);
            }
        });
        Assert.NotNull(error);
        Assert.Equal(["response.created", "response.queued", "response.in_progress", "response.output_item.added"], Kinds(received));
        var responseId = ((StreamingResponseCreatedUpdate)received[0]).Response.Id;

        d.Emulator.Script.Clear();
        var resumed = await CollectAsync(d.Responses.GetResponseStreamingAsync(new GetResponseOptions(responseId) { StartingAfter = received[^1].SequenceNumber, StreamingEnabled = true }));
        Assert.Equal(4, resumed[0].SequenceNumber);
        Assert.Equal(
            ["response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            Kinds(resumed));
        Assert.Equal("Once upon a time there was a little star.", string.Concat(resumed.OfType<StreamingResponseOutputTextDeltaUpdate>().Select(u => u.Delta)));

        var fromStart = await CollectAsync(d.Responses.GetResponseStreamingAsync(new GetResponseOptions(responseId) { StartingAfter = 1, StreamingEnabled = true }));
        Assert.Equal(2, fromStart[0].SequenceNumber);
        Assert.Equal(StreamingResponseUpdateKind.ResponseInProgress, fromStart[0].Kind);
    }

    [Fact]
    public async Task StreamErrorEvent_ReachesTheClientAsAnErrorUpdate()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().Reply("one two three").FailStreamAfter(2, "server_error", "Something broke mid-stream.");

        // The 2.15.0 client yields the Responses error event as an update (it does not throw), and the stream ends there.
        var received = await CollectAsync(d.Responses.CreateResponseStreamingAsync("gpt-4o-mini", "hi"));
        Assert.Equal(3, received.Count);
        var update = Assert.IsType<StreamingResponseErrorUpdate>(received[^1]);
        Assert.Equal("server_error", update.Code);
        Assert.Equal("Something broke mid-stream.", update.Message);
        Assert.Equal(2, update.SequenceNumber);
    }

    [Fact]
    public async Task ScriptedFailure_AndMaxOutputTokens_GiveFailedAndIncompleteResponses()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.WhenUserMessageContains("fail").Fail("rate_limit_exceeded");
        d.Emulator.Script.Default().Reply(new string('x', 200));
        var failed = (await d.Responses.CreateResponseAsync("gpt-4o-mini", "please fail")).Value;
        Assert.Equal(ResponseStatus.Failed, failed.Status);
        Assert.Equal("rate_limit_exceeded", failed.Error.Code.ToString());
        Assert.False(string.IsNullOrEmpty(failed.Error.Message));

        var incomplete = (await d.Responses.CreateResponseAsync(new CreateResponseOptions("gpt-4o-mini", [ResponseItem.CreateUserMessageItem("hi")]) { MaxOutputTokenCount = 20 })).Value;
        Assert.Equal(ResponseStatus.Incomplete, incomplete.Status);
        Assert.Equal(ResponseIncompleteStatusReason.MaxOutputTokens, incomplete.IncompleteStatusDetails.Reason);
        Assert.Equal(80, incomplete.GetOutputText().Length);
        Assert.Equal(20, incomplete.Usage.OutputTokenCount);
        Assert.Equal(MessageStatus.Incomplete, ((MessageResponseItem)incomplete.OutputItems[0]).Status);

        var streamed = await CollectAsync(d.Responses.CreateResponseStreamingAsync(new CreateResponseOptions("gpt-4o-mini", [ResponseItem.CreateUserMessageItem("please fail")]) { StreamingEnabled = true }));
        Assert.Equal(["response.created", "response.in_progress", "response.failed"], Kinds(streamed));
    }

    [Fact]
    public async Task Conversations_TypedAndProtocolMethods_AndAResponseInAConversation()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().Reply(ctx => $"Reply #{ctx.EarlierUserMessageCount + 1} in {ctx.ConversationId}");
        var created = (await d.Conversations.CreateConversationAsync(new ConversationCreationOptions
        {
            Metadata = { ["topic"] = "test" },
            Items = { ResponseItem.CreateSystemMessageItem("You are a helpful assistant.") },
        })).Value;
        Assert.Matches("^conv_[0-9a-f]{48}$", created.Id);
        Assert.Equal("test", created.Metadata["topic"]);
        Assert.Equal("test", (await d.Conversations.GetConversationAsync(created.Id)).Value.Metadata["topic"]);
        var updated = (await d.Conversations.UpdateConversationAsync(created.Id, new ConversationUpdateOptions { Metadata = { ["topic"] = "updated" } })).Value;
        Assert.Equal("updated", updated.Metadata["topic"]);

        var options = new CreateResponseOptions("gpt-4o-mini", [ResponseItem.CreateUserMessageItem("Tell me a joke.")]) { ConversationOptions = new ResponseConversationOptions(created.Id) };
        var response = (await d.Responses.CreateResponseAsync(options)).Value;
        Assert.Equal(created.Id, response.ConversationOptions.ConversationId);
        Assert.Equal($"Reply #1 in {created.Id}", response.GetOutputText());

        // Items through the protocol methods: add one, page through all (newest first), get one, delete it.
        var added = await d.Conversations.CreateConversationItemsAsync(created.Id, BinaryContent.Create(BinaryData.FromString("""{"items":[{"type":"message","role":"user","content":[{"type":"input_text","text":"second item"}]}]}""")), null, null);
        var addedJson = JsonNode.Parse(added.GetRawResponse().Content.ToString())!;
        var itemId = addedJson.Str("data.0.id");
        Assert.Matches("^msg_[0-9a-f]{48}$", itemId);

        var texts = new List<string>();
        await foreach (var page in d.Conversations.GetConversationItemsAsync(created.Id, 2, "desc", null, null, null).GetRawPagesAsync())
        {
            foreach (var item in JsonNode.Parse(page.GetRawResponse().Content.ToString())!["data"]!.AsArray())
            {
                texts.Add(item.Str("content.0.text"));
            }
        }

        Assert.Equal(["second item", $"Reply #1 in {created.Id}", "Tell me a joke.", "You are a helpful assistant."], texts);
        var one = await d.Conversations.GetConversationItemAsync(created.Id, itemId, null, null);
        Assert.Equal("second item", JsonNode.Parse(one.GetRawResponse().Content.ToString()).Str("content.0.text"));
        var deleted = await d.Conversations.DeleteConversationItemAsync(created.Id, itemId, null);
        Assert.Equal("conversation.item.deleted", JsonNode.Parse(deleted.GetRawResponse().Content.ToString()).Str("object"));
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => d.Conversations.GetConversationItemAsync(created.Id, itemId, null, null));
        Assert.Equal(404, missing.Status);

        var second = (await d.Responses.CreateResponseAsync(options)).Value;
        Assert.Equal($"Reply #2 in {created.Id}", second.GetOutputText());

        var gone = (await d.Conversations.DeleteConversationAsync(created.Id)).Value;
        Assert.True(gone.Deleted);
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => d.Conversations.GetConversationAsync(created.Id))).Status);
    }
}
