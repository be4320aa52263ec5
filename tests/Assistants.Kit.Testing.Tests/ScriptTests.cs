using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

/// <summary>The scripted model: matching, tool rounds, replies, annotations, usage, and what runs carry.</summary>
public sealed class ScriptTests
{
    [Fact]
    public async Task DefaultReply_CountsEarlierUserMessages()
    {
        await using var d = await RunDriver.StartAsync();
        var assistant = await d.AssistantAsync();
        var thread = await d.ThreadAsync("first");
        await d.GetRunAsync(await d.CreateRunAsync(thread, new { assistant_id = assistant }));
        await d.Http.PostJsonAsync($"/threads/{thread}/messages", new { role = "user", content = "second" });
        await d.GetRunAsync(await d.CreateRunAsync(thread, new { assistant_id = assistant }));
        await d.Http.PostJsonAsync($"/threads/{thread}/messages", new { role = "user", content = "third" });
        await d.GetRunAsync(await d.CreateRunAsync(thread, new { assistant_id = assistant }));

        var replies = (await d.MessagesAsync(thread)).Where(m => m.Str("role") == "assistant").Select(RunDriver.Text).ToList();
        Assert.Equal(
            [
                "Emulated reply to \"first\". This thread holds 0 earlier user messages.",
                "Emulated reply to \"second\". This thread holds 1 earlier user message.",
                "Emulated reply to \"third\". This thread holds 2 earlier user messages.",
            ],
            replies);
        Assert.Equal(replies[2], EmulatorScript.DefaultReply("third", 2));
    }

    [Fact]
    public async Task FunctionToolsWithoutAScript_JustReply()
    {
        await using var d = await RunDriver.StartAsync();
        var assistant = await d.AssistantAsync(new { model = "gpt-4o", tools = new[] { new { type = "function", function = new { name = "get_order_status" } } } });
        var run = await d.CreateRunAsync(await d.ThreadAsync("where is ORD-1?"), new { assistant_id = assistant });
        Assert.Equal("completed", (await d.GetRunAsync(run)).Str("status"));
    }

    [Fact]
    public async Task Matching_ByOrderThenPredicateThenDefault()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().Reply("default");
        d.Emulator.Script.WhenUserMessageContains("ORD-").Reply(ctx => $"order {ctx.LatestUserMessage}");
        d.Emulator.Script.When(ctx => ctx.Metadata.ContainsKey("vip")).Reply("vip");
        d.Emulator.Script.OnRun(2).Reply("second run");
        var assistant = await d.AssistantAsync();

        async Task<string> ReplyAsync(string text, object? metadata = null)
        {
            var thread = await d.ThreadAsync(text);
            var run = await d.CreateRunAsync(thread, new { assistant_id = assistant, metadata = metadata ?? new { } });
            await d.GetRunAsync(run);
            return RunDriver.Text((await d.MessagesAsync(thread))[^1]);
        }

        Assert.Equal("order ord-7", await ReplyAsync("ord-7"));
        Assert.Equal("second run", await ReplyAsync("ORD-8"));
        Assert.Equal("vip", await ReplyAsync("hello", new { vip = "yes" }));
        Assert.Equal("default", await ReplyAsync("hello"));
        d.Emulator.Script.Clear();
        Assert.StartsWith("Emulated reply to", await ReplyAsync("hello"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ParallelCalls_ComputedArguments_SeveralRounds_AndReplyFromOutputs()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.WhenUserMessageContains("ORD-")
            .CallTools(ctx => [("get_order_status", $$"""{"order_id":"{{ctx.LatestUserMessage.Split(' ').Last(w => w.StartsWith("ORD-", StringComparison.Ordinal)).TrimEnd('?')}}"}"""), ("get_customer", "{}")])
            .CallTools(ctx => [("process_refund", $$"""{"amount":{{ctx.ToolOutputs["get_order_status"].Length}}}""")])
            .Reply(ctx => $"{ctx.ToolOutputs["get_order_status"]} / {ctx.ToolOutputsByCallId[ctx.ToolCalls[2].Id]} / rounds {ctx.ToolRounds}");
        var run = await d.CreateRunAsync(await d.ThreadAsync("Where is ORD-12345?"), new { assistant_id = await d.AssistantAsync() });

        var first = await d.GetRunAsync(run);
        var calls = first["required_action"]!["submit_tool_outputs"]!["tool_calls"]!.AsArray();
        Assert.Equal(2, calls.Count);
        Assert.Equal("""{"order_id":"ORD-12345"}""", calls[0].Str("function.arguments"));
        Assert.All(calls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Str("id")));
        await d.SubmitAsync(first, (calls[0].Str("id"), "shipped"), (calls[1].Str("id"), "alice"));

        var second = await d.GetRunAsync(run);
        Assert.Equal("""{"amount":7}""", second.Str("required_action.submit_tool_outputs.tool_calls.0.function.arguments"));
        await d.SubmitAsync(second, (RunDriver.CallIds(second)[0], "refunded"));

        Assert.Equal("completed", (await d.GetRunAsync(run)).Str("status"));
        Assert.Equal("shipped / refunded / rounds 2", RunDriver.Text((await d.MessagesAsync(run.Str("thread_id")))[^1]));
        Assert.Equal(["tool_calls", "tool_calls", "message_creation"], (await d.StepsAsync(run)).Select(s => s.Str("type")));
        Assert.Equal(1, d.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs")
            .Count(r => r.BodyAsJson()!["tool_outputs"]!.AsArray().Select(o => o.Str("tool_call_id")).Order().SequenceEqual(calls.Select(c => c.Str("id")).Order())));
    }

    [Fact]
    public async Task ParallelToolCallsFalse_IssuesOneCallPerRound_AndToolChoiceNoneSkipsTools()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default().CallTools(("a", "{}"), ("b", "{}")).Reply("done");
        var assistant = await d.AssistantAsync();
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = assistant, parallel_tool_calls = false });
        var first = await d.GetRunAsync(run);
        Assert.Equal(["a"], first["required_action"]!["submit_tool_outputs"]!["tool_calls"]!.AsArray().Select(c => c.Str("function.name")));
        await d.SubmitAsync(first, (RunDriver.CallIds(first)[0], "1"));
        var second = await d.GetRunAsync(run);
        Assert.Equal("b", second.Str("required_action.submit_tool_outputs.tool_calls.0.function.name"));

        var none = await d.CreateRunAsync(await d.ThreadAsync("y"), new { assistant_id = assistant, tool_choice = "none" });
        Assert.Equal("completed", (await d.GetRunAsync(none)).Str("status"));
    }

    [Fact]
    public async Task Reply_WithAnnotationAndImageFile()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.Default()
            .Reply("Filip likes cake【4:0†foods.txt】.")
            .WithAnnotation("【4:0†foods.txt】", "file-abc")
            .WithAnnotation("sandbox:/mnt/data/chart.png", "file-chart", EmulatorAnnotationKind.FilePath)
            .WithImageFile("file-img");
        var run = await d.CreateRunAsync(await d.ThreadAsync("x"), new { assistant_id = await d.AssistantAsync() });
        await d.GetRunAsync(run);
        var message = (await d.MessagesAsync(run.Str("thread_id")))[^1];
        var annotations = message["content"]![0]!["text"]!["annotations"]!.AsArray();
        Assert.Equal("file_citation", annotations[0].Str("type"));
        Assert.Equal(16, (int)annotations[0]!["start_index"]!);
        Assert.Equal(31, (int)annotations[0]!["end_index"]!);
        Assert.Equal("file-abc", annotations[0].Str("file_citation.file_id"));
        Assert.Equal("file_path", annotations[1].Str("type"));
        Assert.EndsWith("sandbox:/mnt/data/chart.png", RunDriver.Text(message), StringComparison.Ordinal);
        Assert.Equal("file-img", message.Str("content.1.image_file.file_id"));
    }

    [Fact]
    public async Task Usage_FollowsTheDocumentedFormula_AndCanBeOverridden()
    {
        await using var d = await RunDriver.StartAsync();
        d.Emulator.Script.OnRun(1).CallTools(("f", "12345678")).Reply("abcdefghij");
        d.Emulator.Script.OnRun(2).Reply("abcd").WithUsage(cached: 3, reasoning: 5);
        var assistant = await d.AssistantAsync(new { model = "gpt-4o", instructions = "1234" });
        var thread = await d.ThreadAsync("12345678");
        var run = await d.CreateRunAsync(thread, new { assistant_id = assistant });
        var waiting = await d.GetRunAsync(run);
        await d.SubmitAsync(waiting, (RunDriver.CallIds(waiting)[0], "123456789"));
        var done = await d.GetRunAsync(run);

        // Step 1: prompt ceil((4 + 8)/4) = 3, completion ceil(8/4) = 2. Step 2: prompt ceil((4 + 8 + 9)/4) = 6, completion ceil(10/4) = 3.
        var steps = await d.StepsAsync(run);
        Assert.Equal((3, 2, 5), Usage(steps[0]["usage"]!));
        Assert.Equal((6, 3, 9), Usage(steps[1]["usage"]!));
        Assert.Equal((9, 5, 14), Usage(done["usage"]!));
        Assert.Equal(0, (int)done["usage"]!["prompt_token_details"]!["cached_tokens"]!);
        Assert.Equal(0, (int)done["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!);

        var second = await d.GetRunAsync(await d.CreateRunAsync(await d.ThreadAsync("12345678"), new { assistant_id = assistant }));
        Assert.Equal(3, (int)second["usage"]!["prompt_token_details"]!["cached_tokens"]!);
        Assert.Equal(5, (int)second["usage"]!["completion_tokens_details"]!["reasoning_tokens"]!);
        Assert.Equal((3, 6, 9), Usage(second["usage"]!)); // completion ceil(4/4) = 1 plus 5 reasoning

        static (int Prompt, int Completion, int Total) Usage(JsonNode usage) =>
            ((int)usage["prompt_tokens"]!, (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
    }

    [Fact]
    public async Task Runs_CarryTheRequestedSettings_WithTheAssistantsAsDefaults()
    {
        await using var d = await RunDriver.StartAsync();
        var assistant = await d.AssistantAsync(new
        {
            model = "gpt-4o",
            instructions = "base",
            temperature = 0.5,
            top_p = 0.9,
            tools = new[] { new { type = "code_interpreter" } },
            response_format = new { type = "json_object" },
        });
        var thread = await d.ThreadAsync("x");
        var defaults = await d.CreateRunAsync(thread, new { assistant_id = assistant });
        Assert.Equal("gpt-4o", defaults.Str("model"));
        Assert.Equal("base", defaults.Str("instructions"));
        Assert.Equal(0.5, (double)defaults["temperature"]!);
        Assert.Equal(0.9, (double)defaults["top_p"]!);
        Assert.Equal("code_interpreter", defaults.Str("tools.0.type"));
        Assert.Equal("json_object", defaults.Str("response_format.type"));
        Assert.Equal("auto", defaults.Str("tool_choice"));
        Assert.True((bool)defaults["parallel_tool_calls"]!);
        Assert.Equal("auto", defaults.Str("truncation_strategy.type"));
        await d.GetRunAsync(defaults);

        var overridden = await d.CreateRunAsync(thread, new
        {
            assistant_id = assistant,
            model = "gpt-4o-mini",
            instructions = "override",
            additional_instructions = "extra",
            additional_messages = new[] { new { role = "user", content = "added" } },
            tools = new[] { new { type = "function", function = new { name = "f", parameters = new { type = "object" } } } },
            metadata = new { k = "v" },
            temperature = 0.1,
            top_p = 0.2,
            max_prompt_tokens = 5000,
            max_completion_tokens = 600,
            truncation_strategy = new { type = "last_messages", last_messages = 3 },
            tool_choice = new { type = "function", function = new { name = "f" } },
            parallel_tool_calls = false,
            response_format = "auto",
        });
        Assert.Equal("gpt-4o-mini", overridden.Str("model"));
        Assert.Equal("override\nextra", overridden.Str("instructions"));
        Assert.Equal("f", overridden.Str("tools.0.function.name"));
        Assert.Equal("v", overridden.Str("metadata.k"));
        Assert.Equal(0.1, (double)overridden["temperature"]!);
        Assert.Equal(5000, (int)overridden["max_prompt_tokens"]!);
        Assert.Equal(600, (int)overridden["max_completion_tokens"]!);
        Assert.Equal(3, (int)overridden["truncation_strategy"]!["last_messages"]!);
        Assert.Equal("f", overridden.Str("tool_choice.function.name"));
        Assert.False((bool)overridden["parallel_tool_calls"]!);
        Assert.Equal("auto", overridden.Str("response_format"));
        var messages = await d.MessagesAsync(thread);
        Assert.Equal("added", RunDriver.Text(messages[^2]));
        Assert.Equal(overridden.Str("id"), messages[^1].Str("run_id"));
    }
}
