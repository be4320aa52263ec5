using System.Text.Json.Nodes;
using Assistants.Kit.Tests.Support;

namespace Assistants.Kit.Tests.Http;

/// <summary>
/// Writes that may have landed are reconciled, not re-sent blindly: the emulator commits the request and drops the
/// connection, and the request log proves exactly one message, one run, one submit.
/// </summary>
public sealed class ReconciliationTests
{
    private sealed class EchoTools
    {
        [AssistantTool("echo", Description = "Echoes the text.")]
        public static string Echo(string text) => text;
    }

    [Fact]
    public async Task CreateMessage_CommittedThenDropped_IsAdoptedNotResent()
    {
        await using var kit = await EmulatorKit.StartAsync();
        kit.Emulator.Faults.On("POST", "/threads/*/messages").OnNth(1).CommitThenDrop();

        var result = await kit.Runner.RunAsync("k", "only once");

        Assert.Equal(RunStatus.Completed, result.Status);
        var posts = kit.Emulator.Requests.Where("POST", "/threads/*/messages");
        var post = Assert.Single(posts);
        Assert.True(post.ConnectionDropped);
        Assert.Equal(2, kit.Emulator.Requests.Count("GET", "/threads/*/messages")); // the reconciliation list, then the run's messages
        Assert.Equal(EmulatorUserMessages(kit, result.ThreadId), ["only once"]);
    }

    [Fact]
    public async Task CreateMessage_DroppedBeforeCommit_IsSentAgainOnce()
    {
        await using var kit = await EmulatorKit.StartAsync();
        kit.Emulator.Faults.On("POST", "/threads/*/messages").OnNth(1).DropConnection();

        var result = await kit.Runner.RunAsync("k", "landed once");

        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/threads/*/messages"));
        Assert.Equal(EmulatorUserMessages(kit, result.ThreadId), ["landed once"]);
    }

    [Fact]
    public async Task CreateMessage_ServerError500_IsReconciledToo()
    {
        await using var kit = await EmulatorKit.StartAsync(o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1));
        kit.Emulator.Faults.On("POST", "/threads/*/messages").OnNth(1).RespondWith(500);

        var result = await kit.Runner.RunAsync("k", "after a 500");

        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/threads/*/messages")); // not retried by the HTTP layer; re-sent once by the reconciler
        Assert.Equal(EmulatorUserMessages(kit, result.ThreadId), ["after a 500"]);
    }

    [Fact]
    public async Task CreateRun_CommittedThenDropped_IsAdoptedNotResent()
    {
        await using var kit = await EmulatorKit.StartAsync();
        kit.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).CommitThenDrop();

        var result = await kit.Runner.RunAsync("k", "one run please");

        Assert.Equal(RunStatus.Completed, result.Status);
        var post = Assert.Single(kit.Emulator.Requests.Where("POST", "/threads/*/runs"));
        Assert.True(post.ConnectionDropped);
        Assert.Equal(1, kit.Emulator.Requests.Count("GET", "/threads/*/runs")); // the reconciliation list
        Assert.All(kit.Emulator.Requests.Where("GET", "/threads/*/runs/*"), r => Assert.EndsWith(result.RunId, r.Path, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SubmitToolOutputs_CommittedThenDropped_IsReconciledByReadingTheRun()
    {
        await using var kit = await EmulatorKit.StartAsync(kit: k => k.AddTools<EchoTools>());
        kit.Emulator.Script.OnRun(1).CallTools(("echo", """{"text":"a"}"""), ("echo", """{"text":"b"}""")).Reply(ctx => "done: " + ctx.ToolOutputsByCallId.Count);
        kit.Emulator.Faults.On("POST", "/threads/*/runs/*/submit_tool_outputs").OnNth(1).CommitThenDrop();

        var result = await kit.Runner.RunAsync("k", "echo twice");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("done: 2", result.Text);
        var submit = Assert.Single(kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.True(submit.ConnectionDropped);
        var ids = submit.BodyAsJson()!["tool_outputs"]!.AsArray().Select(o => o!["tool_call_id"]!.GetValue<string>()).ToList();
        Assert.Equal(2, ids.Distinct().Count());
    }

    [Fact]
    public async Task SubmitToolOutputs_DroppedBeforeCommit_IsSentAgainOnce()
    {
        await using var kit = await EmulatorKit.StartAsync(kit: k => k.AddTools<EchoTools>());
        kit.Emulator.Script.OnRun(1).CallTools(("echo", """{"text":"a"}""")).Reply("ok");
        kit.Emulator.Faults.On("POST", "/threads/*/runs/*/submit_tool_outputs").OnNth(1).DropConnection();

        var result = await kit.Runner.RunAsync("k", "echo");

        Assert.Equal(RunStatus.Completed, result.Status);
        var submits = kit.Emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs");
        Assert.Equal(2, submits.Count);
        Assert.Equal(200, submits[1].StatusCode);
    }

    [Fact]
    public async Task RateLimitedPost_IsRetriedByTheHttpLayer_WithTheServersDelay()
    {
        await using var kit = await EmulatorKit.StartAsync();
        kit.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).RespondWith(429, retryAfterMs: 20, code: "rate_limit_exceeded");

        var result = await kit.Runner.RunAsync("k", "busy");

        Assert.Equal(RunStatus.Completed, result.Status);
        var posts = kit.Emulator.Requests.Where("POST", "/threads/*/runs");
        Assert.Equal([429, 200], posts.Select(p => p.StatusCode));
        Assert.Equal(0, kit.Emulator.Requests.Count("GET", "/threads/*/runs")); // a 429 did nothing: no reconciliation
    }

    private static List<string> EmulatorUserMessages(EmulatorKit kit, string threadId)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{kit.Emulator.BaseUri}/threads/{threadId}/messages?order=asc&limit=100");
        request.Headers.Add("OpenAI-Beta", "assistants=v2");
        var body = JsonNode.Parse(http.Send(request).Content.ReadAsStringAsync().GetAwaiter().GetResult())!;
        return [.. body["data"]!.AsArray()
            .Where(m => m!["role"]!.GetValue<string>() == "user")
            .Select(m => m!["content"]![0]!["text"]!["value"]!.GetValue<string>())];
    }
}
