using Assistants.Kit.Testing.Tests.Support;

namespace Assistants.Kit.Testing.Tests;

public sealed class PagingTests
{
    private static async Task<(HttpClient Http, string ThreadId, List<string> Ids)> ThreadWithMessagesAsync(AssistantsEmulator emulator, int count)
    {
        var http = Emulators.Http(emulator);
        var (_, thread) = await http.PostJsonAsync("/threads");
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var (_, message) = await http.PostJsonAsync($"/threads/{thread.Str("id")}/messages", new { role = "user", content = $"message {i}" });
            ids.Add(message.Str("id"));
        }

        return (http, thread.Str("id"), ids);
    }

    private static async Task<List<string>> PageThroughAsync(HttpClient http, string path, string order, int limit)
    {
        var seen = new List<string>();
        string? after = null;
        for (var pages = 0; pages < 50; pages++)
        {
            var (_, page) = await http.GetJsonAsync($"{path}?order={order}&limit={limit}" + (after is null ? "" : $"&after={after}"));
            var data = page!["data"]!.AsArray().Select(d => d.Str("id")).ToList();
            seen.AddRange(data);
            Assert.Equal(data.FirstOrDefault(), (string?)page["first_id"]);
            Assert.Equal(data.LastOrDefault(), (string?)page["last_id"]);
            if (!(bool)page["has_more"]!)
            {
                return seen;
            }

            after = (string)page["last_id"]!;
        }

        throw new InvalidOperationException("Paging did not end.");
    }

    [Fact]
    public async Task Messages_PageInBothOrdersWithAfterCursors()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var (http, threadId, ids) = await ThreadWithMessagesAsync(emulator, 7);
        using (http)
        {
            Assert.Equal(ids, await PageThroughAsync(http, $"/threads/{threadId}/messages", "asc", 3));
            Assert.Equal(Enumerable.Reverse(ids), await PageThroughAsync(http, $"/threads/{threadId}/messages", "desc", 2));

            var (_, all) = await http.GetJsonAsync($"/threads/{threadId}/messages");
            Assert.Equal(Enumerable.Reverse(ids), all!["data"]!.AsArray().Select(d => d.Str("id")));
            Assert.False((bool)all["has_more"]!);
        }
    }

    [Fact]
    public async Task Messages_BeforeCursor_ReturnsTheItemsJustPrecedingIt()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var (http, threadId, ids) = await ThreadWithMessagesAsync(emulator, 6);
        using (http)
        {
            var (_, asc) = await http.GetJsonAsync($"/threads/{threadId}/messages?order=asc&limit=2&before={ids[4]}");
            Assert.Equal([ids[2], ids[3]], asc!["data"]!.AsArray().Select(d => d.Str("id")));
            Assert.True((bool)asc["has_more"]!);

            var (_, desc) = await http.GetJsonAsync($"/threads/{threadId}/messages?order=desc&limit=10&before={ids[1]}");
            Assert.Equal([ids[5], ids[4], ids[3], ids[2]], desc!["data"]!.AsArray().Select(d => d.Str("id")));
            Assert.False((bool)desc["has_more"]!);

            var (_, between) = await http.GetJsonAsync($"/threads/{threadId}/messages?order=asc&after={ids[0]}&before={ids[3]}");
            Assert.Equal([ids[1], ids[2]], between!["data"]!.AsArray().Select(d => d.Str("id")));

            var (_, empty) = await http.GetJsonAsync($"/threads/{threadId}/messages?after=msg_unknown");
            Assert.Empty(empty!["data"]!.AsArray());
            Assert.Null(empty["first_id"]);
        }
    }

    [Fact]
    public async Task Messages_FilterByRunId()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        var (http, threadId, _) = await ThreadWithMessagesAsync(emulator, 2);
        using (http)
        {
            var (_, assistant) = await http.PostJsonAsync("/assistants", new { model = "gpt-4o" });
            var (_, run) = await http.PostJsonAsync($"/threads/{threadId}/runs", new { assistant_id = assistant.Str("id") });
            var (_, byRun) = await http.GetJsonAsync($"/threads/{threadId}/messages?run_id={run.Str("id")}");
            var message = byRun!["data"]!.AsArray().Single();
            Assert.Equal(run.Str("id"), message.Str("run_id"));
            Assert.Equal(assistant.Str("id"), message.Str("assistant_id"));
            Assert.Equal("assistant", message.Str("role"));
        }
    }

    [Fact]
    public async Task Assistants_RunsAndSteps_PageToo()
    {
        await using var emulator = await AssistantsEmulator.StartAsync();
        using var http = Emulators.Http(emulator);
        var assistantIds = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            assistantIds.Add((await http.PostJsonAsync("/assistants", new { model = "gpt-4o", name = $"a{i}" })).Body.Str("id"));
        }

        Assert.Equal(Enumerable.Reverse(assistantIds), await PageThroughAsync(http, "/assistants", "desc", 2));

        emulator.Script.Default().CallTools(("a", "{}")).CallTools(("b", "{}")).Reply("done");
        var (_, run) = await http.PostJsonAsync("/threads/runs", new { assistant_id = assistantIds[0], thread = new { messages = new[] { new { role = "user", content = "go" } } } });
        var threadId = run.Str("thread_id");
        for (var round = 0; round < 2; round++)
        {
            var (_, current) = await http.GetJsonAsync($"/threads/{threadId}/runs/{run.Str("id")}");
            var callId = current.Str("required_action.submit_tool_outputs.tool_calls.0.id");
            await http.PostJsonAsync($"/threads/{threadId}/runs/{run.Str("id")}/submit_tool_outputs", new { tool_outputs = new[] { new { tool_call_id = callId, output = "ok" } } });
        }

        var steps = await PageThroughAsync(http, $"/threads/{threadId}/runs/{run.Str("id")}/steps", "asc", 2);
        Assert.Equal(3, steps.Count);
        Assert.Equal(Enumerable.Reverse(steps), await PageThroughAsync(http, $"/threads/{threadId}/runs/{run.Str("id")}/steps", "desc", 1));
        Assert.Single(await PageThroughAsync(http, $"/threads/{threadId}/runs", "desc", 1));
    }
}
