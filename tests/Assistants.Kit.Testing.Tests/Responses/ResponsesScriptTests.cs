using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests.Responses;

/// <summary>One script drives both protocols: rules, turns, tool rounds, usage and the scripted outcomes on the Responses surface.</summary>
public sealed class ResponsesScriptTests
{
    private static readonly object[] OrderTools =
    [
        new { type = "function", name = "get_order_status", parameters = new { type = "object", properties = new { order_id = new { type = "string" } } }, strict = false },
        new { type = "function", name = "get_customer", strict = false },
    ];

    /// <summary>The order-status script, written once.</summary>
    private static void ScriptOrders(EmulatorScript script) =>
        script.WhenUserMessageContains("ORD-")
            .CallTools(ctx => [("get_order_status", $$"""{"order_id":"{{ctx.LatestUserMessage.Split(' ').Last(w => w.StartsWith("ORD-", StringComparison.Ordinal)).TrimEnd('?')}}"}""")])
            .Reply(ctx => $"Order is {ctx.ToolOutputs["get_order_status"]} (run {ctx.RunNumber}, {ctx.Protocol}, {ctx.ToolRounds} round).");

    [Fact]
    public async Task TheSameScript_DrivesAnAssistantsRunAndAResponsesTurn()
    {
        await using var d = await ResponsesDriver.StartAsync();
        ScriptOrders(d.Emulator.Script);

        // Assistants: one run, requires_action, submit, completed.
        using var assistants = Emulators.Http(d.Emulator);
        var assistant = (await assistants.PostJsonAsync("/assistants", new { model = "gpt-4o" })).Body.Str("id");
        var run = (await assistants.PostJsonAsync("/threads/runs", new { assistant_id = assistant, thread = new { messages = new[] { new { role = "user", content = "Where is ORD-7?" } } } })).Body!;
        var waiting = (await assistants.GetJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}")).Body!;
        Assert.Equal("""{"order_id":"ORD-7"}""", waiting.Str("required_action.submit_tool_outputs.tool_calls.0.function.arguments"));
        await assistants.PostJsonAsync($"/threads/{run.Str("thread_id")}/runs/{run.Str("id")}/submit_tool_outputs", new { tool_outputs = new[] { new { tool_call_id = RunDriver.CallIds(waiting)[0], output = "shipped" } } });
        var messages = (await assistants.GetJsonAsync($"/threads/{run.Str("thread_id")}/messages")).Body!;
        Assert.Equal("Order is shipped (run 1, Assistants, 1 round).", messages.Str("data.0.content.0.text.value"));

        // Responses: the same rule is the second "run": a function_call response, then the reply from its output.
        var first = await d.CreateAsync(new { model = "gpt-4o", input = "Where is ORD-8?", tools = OrderTools });
        var call = Assert.Single(ResponsesDriver.Calls(first));
        Assert.Equal("get_order_status", call.Str("name"));
        Assert.Equal("""{"order_id":"ORD-8"}""", call.Str("arguments"));
        var second = await d.CreateAsync(new { model = "gpt-4o", previous_response_id = first.Str("id"), input = new[] { ResponsesDriver.Output(call.Str("call_id"), "delivered") }, tools = OrderTools });
        Assert.Equal("Order is delivered (run 2, Responses, 1 round).", ResponsesDriver.Text(second));
    }

    [Fact]
    public async Task Context_CountsUserMessagesOfTheChainAndTheConversation()
    {
        await using var d = await ResponsesDriver.StartAsync();
        var first = await d.CreateAsync(new { model = "m", input = "first" });
        Assert.Equal("Emulated reply to \"first\". This thread holds 0 earlier user messages.", ResponsesDriver.Text(first));
        var second = await d.CreateAsync(new { model = "m", input = "second", previous_response_id = first.Str("id") });
        Assert.Equal("Emulated reply to \"second\". This thread holds 1 earlier user message.", ResponsesDriver.Text(second));

        var conversation = (await d.Http.PostJsonAsync("/conversations", new { items = new[] { new { type = "message", role = "user", content = "seed" } } })).Body.Str("id");
        await d.CreateAsync(new { model = "m", input = "one", conversation });
        var reply = await d.CreateAsync(new { model = "m", input = "two", conversation = new { id = conversation } });
        Assert.Equal("Emulated reply to \"two\". This thread holds 2 earlier user messages.", ResponsesDriver.Text(reply));
        Assert.Equal(conversation, reply.Str("conversation.id"));
        Assert.Null(reply["previous_response_id"]);
        var items = (await d.Http.GetJsonAsync($"/conversations/{conversation}/items?order=asc")).Body!["data"]!.AsArray();
        Assert.Equal(["user", "user", "assistant", "user", "assistant"], items.Select(i => i.Str("role")));

        // Stateless: the history travels in the input.
        var stateless = await d.CreateAsync(new
        {
            model = "m",
            store = false,
            input = new object[]
            {
                new { role = "developer", content = "Be brief." },
                new { role = "user", content = "a" },
                new { role = "assistant", content = "b" },
                new { role = "user", content = "c" },
            },
        });
        Assert.Equal("Emulated reply to \"c\". This thread holds 1 earlier user message.", ResponsesDriver.Text(stateless));
    }

    [Fact]
    public async Task ParallelCalls_ArePendingTogether_OutputsAreValidated_AndTheTurnContinuesStatelessToo()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default()
            .CallTools(("get_location", """{"loc_name":"Londos"}"""), ("get_location", """{"loc_name":"London"}"""))
            .Reply(ctx => string.Join(" / ", ctx.ToolCalls.Select(c => c.Output)));
        var first = await d.CreateAsync(new { model = "gpt-4o", input = "What is the location of Londos and London?", parallel_tool_calls = true });
        var calls = ResponsesDriver.Calls(first);
        Assert.Equal(2, calls.Count);

        // An output for an unknown call, or a missing output, is refused as by the service.
        var (unknownStatus, unknown) = await d.Http.PostJsonAsync("/responses", new { model = "gpt-4o", previous_response_id = first.Str("id"), input = new[] { ResponsesDriver.Output("call_unknown", "x") } });
        Assert.Equal(400, unknownStatus);
        Assert.Equal("No tool call found for function call output with call_id call_unknown.", unknown.Str("error.message"));
        Assert.Equal("input", unknown.Str("error.param"));
        var (missingStatus, missing) = await d.Http.PostJsonAsync("/responses", new { model = "gpt-4o", previous_response_id = first.Str("id"), input = new[] { ResponsesDriver.Output(calls[0].Str("call_id"), "x") } });
        Assert.Equal(400, missingStatus);
        Assert.Equal($"No tool output found for function call {calls[1].Str("call_id")}.", missing.Str("error.message"));

        // Stateless continuation (pydantic-ai style): the user message, both calls echoed, both outputs.
        var input = new List<object> { new { role = "user", content = "What is the location of Londos and London?" } };
        input.AddRange(calls.Select(c => (object)new { type = "function_call", call_id = c.Str("call_id"), name = c.Str("name"), arguments = c.Str("arguments") }));
        input.Add(ResponsesDriver.Output(calls[0].Str("call_id"), "unknown place"));
        input.Add(ResponsesDriver.Output(calls[1].Str("call_id"), """{"lat": 51, "lng": 0}"""));
        var second = await d.CreateAsync(new { model = "gpt-4o", input });
        Assert.Equal("""unknown place / {"lat": 51, "lng": 0}""", ResponsesDriver.Text(second));
    }

    [Fact]
    public async Task ParallelToolCallsFalse_IssuesOneCallPerResponse_AndToolChoiceNoneSkipsTools()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().CallTools(("a", "{}"), ("b", "{}")).Reply("done");
        var first = await d.CreateAsync(new { model = "m", input = "x", parallel_tool_calls = false });
        Assert.False((bool)first["parallel_tool_calls"]!);
        Assert.Equal("a", Assert.Single(ResponsesDriver.Calls(first)).Str("name"));
        var second = await d.CreateAsync(new { model = "m", previous_response_id = first.Str("id"), input = new[] { ResponsesDriver.Output(ResponsesDriver.Calls(first)[0].Str("call_id"), "1") }, parallel_tool_calls = false });
        Assert.Equal("b", Assert.Single(ResponsesDriver.Calls(second)).Str("name"));
        var third = await d.CreateAsync(new { model = "m", previous_response_id = second.Str("id"), input = new[] { ResponsesDriver.Output(ResponsesDriver.Calls(second)[0].Str("call_id"), "2") } });
        Assert.Equal("done", ResponsesDriver.Text(third));

        var none = await d.CreateAsync(new { model = "m", input = "y", tool_choice = "none" });
        Assert.Equal("done", ResponsesDriver.Text(none));
        Assert.Equal("none", none.Str("tool_choice"));
    }

    [Fact]
    public async Task Usage_FollowsTheDocumentedFormula_PerResponse_AndCanBeOverridden()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.OnRun(1).CallTools(("f", "12345678")).Reply("abcdefghij");
        d.Emulator.Script.OnRun(2).Reply("abcd").WithUsage(cached: 3, reasoning: 5);
        var first = await d.CreateAsync(new { model = "m", instructions = "1234", input = "12345678" });

        // Response 1: input ceil((4 + 8) / 4) = 3, output ceil(8 / 4) = 2 (the arguments). Response 2: input
        // ceil((4 + 8 + 9) / 4) = 6 (instructions, the user message, the output), output ceil(10 / 4) = 3: the same numbers
        // as the steps of the equivalent Assistants run.
        Assert.Equal((3, 2, 5), ResponsesDriver.Usage(first));
        var second = await d.CreateAsync(new { model = "m", instructions = "1234", previous_response_id = first.Str("id"), input = new[] { ResponsesDriver.Output(ResponsesDriver.Calls(first)[0].Str("call_id"), "123456789") } });
        Assert.Equal((6, 3, 9), ResponsesDriver.Usage(second));
        Assert.Equal(0, (int)second["usage"]!["input_tokens_details"]!["cached_tokens"]!);

        var third = await d.CreateAsync(new { model = "m", instructions = "1234", input = "12345678" });
        Assert.Equal(3, (int)third["usage"]!["input_tokens_details"]!["cached_tokens"]!);
        Assert.Equal(5, (int)third["usage"]!["output_tokens_details"]!["reasoning_tokens"]!);
        Assert.Equal((3, 6, 9), ResponsesDriver.Usage(third)); // output ceil(4 / 4) = 1 plus 5 reasoning

        var (_, count) = await d.Http.PostJsonAsync("/responses/input_tokens", new { model = "m", instructions = "1234", input = "12345678" });
        Assert.Equal("response.input_tokens", count.Str("object"));
        Assert.Equal(3, (int)count!["input_tokens"]!);
    }

    [Fact]
    public async Task Outcomes_FailIncompleteAndExpire_MapOntoResponses()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.WhenUserMessageContains("fail").CallTools(("f", "{}")).Fail("server_error", "boom");
        d.Emulator.Script.WhenUserMessageContains("half").Reply("0123456789").EndIncomplete();
        d.Emulator.Script.WhenUserMessageContains("prompt").EndIncomplete("max_prompt_tokens");
        d.Emulator.Script.WhenUserMessageContains("expire").Reply("not expired").Expire();

        var calling = await d.CreateAsync(new { model = "m", input = "please fail" });
        var failed = await d.CreateAsync(new { model = "m", previous_response_id = calling.Str("id"), input = new[] { ResponsesDriver.Output(ResponsesDriver.Calls(calling)[0].Str("call_id"), "ok") } });
        Assert.Equal("failed", failed.Str("status"));
        Assert.Equal("server_error", failed.Str("error.code"));
        Assert.Equal("boom", failed.Str("error.message"));
        Assert.Empty(failed["output"]!.AsArray());

        var half = await d.CreateAsync(new { model = "m", input = "half" });
        Assert.Equal("incomplete", half.Str("status"));
        Assert.Equal("max_output_tokens", half.Str("incomplete_details.reason"));
        Assert.Equal("01234", ResponsesDriver.Text(half));
        Assert.Equal("incomplete", half.Str("output.0.status"));

        var prompt = await d.CreateAsync(new { model = "m", input = "prompt" });
        Assert.Equal("incomplete", prompt.Str("status"));
        Assert.Empty(prompt["output"]!.AsArray());

        var expire = await d.CreateAsync(new { model = "m", input = "expire" });
        Assert.Equal("completed", expire.Str("status"));
        Assert.Equal("not expired", ResponsesDriver.Text(expire));
    }

    [Fact]
    public async Task Taking_MakesAForegroundRequestWaitForTheEmulatorsClock()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().Reply("slow").Taking(TimeSpan.FromSeconds(30));
        var pending = d.CreateAsync(new { model = "m", input = "x" });
        await FaultTests.WaitUntilAsync(() => d.Emulator.Requests.Count("POST", "/responses") == 1);
        Assert.False(pending.IsCompleted);

        // The request may not have read the clock yet when time is first advanced: advance until it answers.
        for (var i = 0; i < 10 && !pending.IsCompleted; i++)
        {
            d.Time.Advance(TimeSpan.FromSeconds(30));
            await Task.WhenAny(pending, Task.Delay(TimeSpan.FromMilliseconds(200)));
        }

        var response = await pending;
        Assert.Equal("completed", response.Str("status"));
        Assert.Equal(30, (long)response["completed_at"]! - (long)response["created_at"]!);
    }

    [Fact]
    public async Task Annotations_AreOutputTextAnnotations()
    {
        await using var d = await ResponsesDriver.StartAsync();
        d.Emulator.Script.Default().Reply("Filip likes cake【4:0†foods.txt】.").WithAnnotation("【4:0†foods.txt】", "file-abc");
        var response = await d.CreateAsync(new { model = "m", input = "x" });
        var annotation = response["output"]![0]!["content"]![0]!["annotations"]![0]!;
        Assert.Equal("file_citation", annotation.Str("type"));
        Assert.Equal("file-abc", annotation.Str("file_id"));
        Assert.Equal(16, (int)annotation["index"]!);
    }
}
