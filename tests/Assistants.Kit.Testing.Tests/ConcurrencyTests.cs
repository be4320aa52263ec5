using System.Text.Json.Nodes;
using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task TwoHundredParallelClients_CreateThreadsAndMessages_WithoutCrossTalk()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async client =>
        {
            var threadId = (await http.PostJsonAsync("/threads", new { messages = new[] { new { role = "user", content = $"client {client} #0" } } })).Body.Str("id");
            for (var i = 1; i <= 3; i++)
            {
                var (status, _) = await http.PostJsonAsync($"/threads/{threadId}/messages", new { role = "user", content = $"client {client} #{i}" });
                Assert.Equal(200, status);
            }

            var messages = (await http.GetJsonAsync($"/threads/{threadId}/messages?order=asc")).Body!["data"]!.AsArray();
            return (client, threadId, texts: messages.Select(m => m.Str("content.0.text.value")).ToList(), owners: messages.Select(m => m.Str("thread_id")).ToList());
        }));

        foreach (var (client, threadId, texts, owners) in results)
        {
            Assert.Equal(Enumerable.Range(0, 4).Select(i => $"client {client} #{i}"), texts);
            Assert.All(owners, owner => Assert.Equal(threadId, owner));
        }

        Assert.Equal(200, results.Select(r => r.threadId).Distinct().Count());
        Assert.Equal(200 * 5, emulator.Requests.All.Count);
    }

    [Fact]
    public async Task TwoHundredParallelConversations_EachWithAToolRound_AllComplete()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        emulator.Script.Default()
            .CallTools(ctx => [("lookup", new JsonObject { ["q"] = ctx.LatestUserMessage }.ToJsonString())])
            .Reply(ctx => $"answer to {ctx.LatestUserMessage}: {ctx.ToolOutputs["lookup"]}");
        using var http = Emulators.Http(emulator);
        var assistantId = (await http.PostJsonAsync("/assistants", new { model = "gpt-4o", tools = new[] { new { type = "function", function = new { name = "lookup" } } } })).Body.Str("id");
        var sent = 1;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var requests = 0;
            var run = (await http.PostJsonAsync("/threads/runs", new { assistant_id = assistantId, thread = new { messages = new[] { new { role = "user", content = $"question {i}" } } } })).Body!;
            requests++;
            var threadId = run.Str("thread_id");
            var waiting = (await http.GetJsonAsync($"/threads/{threadId}/runs/{run.Str("id")}")).Body!;
            requests++;
            Assert.Equal("requires_action", waiting.Str("status"));
            Assert.Equal($$"""{"q":"question {{i}}"}""", waiting.Str("required_action.submit_tool_outputs.tool_calls.0.function.arguments"));
            var callId = RunDriver.CallIds(waiting)[0];
            var (status, _) = await http.PostJsonAsync($"/threads/{threadId}/runs/{run.Str("id")}/submit_tool_outputs", new { tool_outputs = new[] { new { tool_call_id = callId, output = $"result {i}" } } });
            requests++;
            Assert.Equal(200, status);
            var done = (await http.GetJsonAsync($"/threads/{threadId}/runs/{run.Str("id")}")).Body!;
            requests++;
            var messages = (await http.GetJsonAsync($"/threads/{threadId}/messages?order=asc")).Body!["data"]!.AsArray();
            requests++;
            Interlocked.Add(ref sent, requests);
            return (i, status: done.Str("status"), texts: messages.Select(m => m.Str("content.0.text.value")).ToList(), callId);
        }));

        foreach (var (i, status, texts, _) in outcomes)
        {
            Assert.Equal("completed", status);
            Assert.Equal([$"question {i}", $"answer to question {i}: result {i}"], texts);
        }

        Assert.Equal(sent, emulator.Requests.All.Count);
        Assert.Equal(200, emulator.Requests.Count("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.Equal(200, outcomes.Select(o => o.callId).Distinct().Count());
    }
}
