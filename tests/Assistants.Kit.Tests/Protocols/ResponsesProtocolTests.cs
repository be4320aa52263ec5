using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Protocols;

/// <summary>
/// What only the Responses protocol has: the request bodies against the recorded traffic and the spec, background
/// responses polled on the kit's schedule, a run cut short between its calls and their outputs, ambiguous writes, a
/// conversation gone on the server, and the <c>invoke_agent</c> span.
/// </summary>
public sealed class ResponsesProtocolTests : IDisposable
{
    private const AssistantsProtocol Responses = AssistantsProtocol.Responses;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly ConcurrentBag<Activity> _activities = [];
    private readonly ActivityListener _listener;

    public ResponsesProtocolTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is AssistantsKitTelemetry.ActivitySourceName or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _activities.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task RequestBodies_HaveTheRecordedShapes_AndOnlySpecProperties()
    {
        await using var k = await ProtocolKit.StartAsync(Responses, configure: o => o.RunDefaults.ParallelToolCalls = false);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}""")).Reply("Sunny.");

        var result = await k.Runner.RunAsync("shapes", "Weather in Paris?", new RunOptions { Metadata = { ["tenant"] = "t-1" } });

        // POST /conversations: metadata only (recorded: {"metadata":{...}}).
        var conversation = Assert.Single(k.Requests.Where("POST", "/conversations")).BodyAsJson()!.AsObject();
        Assert.Equal(["metadata"], conversation.Select(p => p.Key));

        // POST /conversations/{id}/items: exactly the recorded add_items shape.
        var items = Assert.Single(k.Requests.Where("POST", "/conversations/*/items"));
        Assert.Equal($"/conversations/{result.ThreadId}/items", items.Path);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"items":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Weather in Paris?"}]}]}"""),
            items.BodyAsJson()));

        var spec = Spec.Properties("CreateResponse");
        var bodies = k.ResponseBodies();
        Assert.Equal(2, bodies.Count);
        foreach (var body in bodies)
        {
            Assert.All(body.Select(p => p.Key), key => Assert.Contains(key, spec));
            Assert.Equal(result.ThreadId, (string?)body["conversation"]);
            Assert.True((bool)body["background"]!);
            Assert.True((bool)body["store"]!);
            Assert.False(body.ContainsKey("previous_response_id"));
            Assert.False(body.ContainsKey("stream"));
            Assert.False(body.ContainsKey("truncation"));
            Assert.Equal("gpt-4.1-mini", (string?)body["model"]);
            Assert.Equal(ProtocolKit.Instructions, (string?)body["instructions"]);
            Assert.Equal(4096, (int)body["max_output_tokens"]!); // RunDefaults.MaxCompletionTokens
            Assert.False((bool)body["parallel_tool_calls"]!);

            // Function tools as recorded: type, name, description, parameters, strict.
            var tools = body["tools"]!.AsArray().Select(t => t!.AsObject()).ToList();
            Assert.Equal(["add", "get_weather", "wait_for_release"], tools.Select(t => (string)t["name"]!).Order(StringComparer.Ordinal));
            Assert.All(tools, t => Assert.Equal(["description", "name", "parameters", "strict", "type"], t.Select(p => p.Key).Order(StringComparer.Ordinal)));
            Assert.All(tools, t => Assert.All(t.Select(p => p.Key), key => Assert.Contains(key, Spec.Properties("FunctionTool"))));

            // Metadata: the caller's, the kit's operation ID and the definition version; strings only.
            var metadata = body["metadata"]!.AsObject();
            Assert.Equal("t-1", (string?)metadata["tenant"]);
            Assert.StartsWith("op_", (string?)metadata["kit_op"], StringComparison.Ordinal);
            Assert.Equal(result.DefinitionVersion, (string?)metadata["kit_def_version"]);
        }

        // The first response has no input (the user message is the conversation's newest item); the follow-up carries
        // only the output, in the recorded function_call_output shape.
        Assert.False(bodies[0].ContainsKey("input"));
        var output = Assert.Single(bodies[1]["input"]!.AsArray())!.AsObject();
        Assert.Equal(["call_id", "output", "type"], output.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.All(output.Select(p => p.Key), key => Assert.Contains(key, Spec.Properties("FunctionCallOutputItemParam")));
        Assert.Equal((string?)bodies[0]["metadata"]!["kit_op"], (string?)bodies[1]["metadata"]!["kit_op"]); // one run, one operation

        // Polls are plain GETs of the response; nothing else is read (no steps, no message list).
        Assert.All(k.Requests.Where("GET", "/responses/*"), r => Assert.Equal(string.Empty, r.Query));
        Assert.Empty(k.Requests.Where(r => r.Method == "GET" && r.Path.StartsWith("/conversations", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task BackgroundPolling_QueuedInProgressCompletedSeenByPolls_OnThePollersColdSchedule()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        var clock = new ScheduleClock(time, TimeSpan.FromSeconds(5));
        await using var k = await ProtocolKit.StartAsync(
            Responses,
            configure: o =>
            {
                ProtocolKit.DefaultPolling(o);
                o.Polling.Adaptive = false;
            },
            emulator: e =>
            {
                e.QueuedDuration = TimeSpan.FromSeconds(1);
                e.InProgressDuration = TimeSpan.FromSeconds(3);
            },
            time: time,
            kitTime: clock);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}""")).Reply("Sunny.");

        var result = await clock.DriveAsync(k.Runner.RunAsync("background", "Weather in Paris?"));

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("Sunny.", result.Text);

        // Each response is created queued (1 s), then in progress (3 s). The kit polls on its cold schedule (200 ms,
        // ×1.5 per poll, jitter 0; a wait is whole milliseconds) from each response's creation: after 0.2, 0.5, 0.95,
        // 1.625, 2.637 and 4.155 s.
        TimeSpan[] schedule = [.. Enumerable.Range(0, 6).Select(n => TimeSpan.FromMilliseconds(Math.Floor(200 * Math.Pow(1.5, n))))];
        Assert.Equal([.. schedule, .. schedule], clock.Waited);
        var creates = k.Requests.Where("POST", "/responses");
        Assert.Equal(["queued", "queued"], creates.Select(r => (string?)JsonNode.Parse(r.ResponseBody!)!["status"]));
        var polls = k.Requests.Where("GET", "/responses/*");
        string[] statuses = ["queued", "queued", "queued", "in_progress", "in_progress", "completed"];
        Assert.Equal([.. statuses, .. statuses], polls.Select(r => (string?)JsonNode.Parse(r.ResponseBody!)!["status"]));

        var t0 = ProtocolKit.Start;
        var created = new[] { t0, t0 + schedule.Aggregate((a, b) => a + b) };
        Assert.Equal(created, creates.Select(r => r.Timestamp));
        var expected = created.SelectMany(start => schedule.Select((_, i) => start + schedule.Take(i + 1).Aggregate((a, b) => a + b)));
        Assert.Equal(expected, polls.Select(r => r.Timestamp));
        Assert.Equal(polls[5].Timestamp, creates[1].Timestamp); // the outputs went out as soon as the poll saw the calls
    }

    [Fact]
    public async Task RunCutShortBetweenCallAndOutput_NextRunResumesIt_AnsweringTheInterruptedCallBeforeItsMessage()
    {
        using var folder = new TempFolder();
        var database = folder.File("conversations.db");
        await using var k = await ProtocolKit.StartAsync(Responses);
        k.Script.OnRun(1).CallTools(("wait_for_release", "{}")).Reply("Resumed."); // the resumed run's next response
        k.Script.OnRun(2).Reply("Here.");

        // Process 1 runs the tool and stops waiting without telling the server anything (as a crash would).
        string threadId;
        string callId;
        await using (var process1 = k.NewKit(configure: o => o.CancelRunOnCallerCancellation = false, kit: b => b.AddSqliteStore(database)))
        {
            using var cts = new CancellationTokenSource();
            var run = process1.GetRequiredService<AssistantRunner>().RunAsync("cut", "Wait for it.", cancellationToken: cts.Token);
            await process1.GetRequiredService<ScenarioProbe>().Started.Task.WaitAsync(Deadline);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
            var binding = await process1.GetRequiredService<IConversationStore>().GetAsync("cut", Responses);
            callId = Assert.Single(binding!.PendingToolCalls).ToolCallId;
            Assert.NotNull(binding.Journal);
            threadId = binding.ThreadId;
        }

        Assert.Empty(k.OutputsPostedAsItems());
        k.Requests.Clear();

        // Process 2: the journaled run is resumed first. The interrupted (non-idempotent) call is not run again; its error
        // output goes in a new response of that run, and only then does the new message go in.
        await using var process2 = k.NewKit(kit: b => b.AddSqliteStore(database));
        var result = await process2.GetRequiredService<AssistantRunner>().RunAsync("cut", "Are you there?");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(threadId, result.ThreadId);
        Assert.Equal("Here.", result.Text);
        var all = k.Requests.All.ToList();
        var resumed = all.FindIndex(r => r.Method == "POST" && r.Path == "/responses");
        var message = all.FindIndex(r => r.Method == "POST" && r.Path.EndsWith("/items", StringComparison.Ordinal));
        Assert.True(resumed >= 0 && message > resumed, k.DescribeRequests());
        var input = all[resumed].BodyAsJson()!["input"]!.AsArray();
        var output = Assert.Single(input, i => (string?)i!["type"] == "function_call_output")!;
        Assert.Equal(callId, (string?)output["call_id"]);
        Assert.Contains("not_reexecuted", (string?)output["output"], StringComparison.Ordinal);
        Assert.Contains("Are you there?", all[message].Body, StringComparison.Ordinal);
        var stored = (await process2.GetRequiredService<IConversationStore>().GetAsync("cut", Responses))!;
        Assert.Empty(stored.PendingToolCalls);
        Assert.Null(stored.Journal);

        // Once answered, the calls are not answered again.
        k.Requests.Clear();
        await process2.GetRequiredService<AssistantRunner>().RunAsync("cut", "And now?");
        Assert.Empty(k.OutputsPostedAsItems());
        Assert.DoesNotContain(k.Requests.Where("POST", "/responses"), r => r.Body.Contains("function_call_output", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailedFollowUp_OutputsCannotBeAdded_RunStillFails_AndTheNextRunAnswersTheCall()
    {
        await using var k = await ProtocolKit.StartAsync(Responses);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}""")).Fail("server_error", "Oops.");
        k.Script.OnRun(2).Reply("Recovered.");
        var answer = k.Emulator.Faults.On("POST", "/conversations/*/items").OnNth(2).RespondWith(500);

        var ex = await Assert.ThrowsAsync<RunFailedException>(() => k.Runner.RunAsync("unanswered", "Weather in Paris?"));

        Assert.Equal("server_error", ex.Code); // the run's own outcome, not the failed write
        Assert.Equal(1, answer.Triggered);
        Assert.Single((await k.Store.GetAsync("unanswered", Responses))!.PendingToolCalls);
        Assert.Contains(k.Services.LogLines(), l => l.Contains($"could not be added to conversation {ex.ThreadId}", StringComparison.Ordinal));

        var next = await k.Runner.RunAsync("unanswered", "Try again.");

        Assert.Equal("Recovered.", next.Text);
        var outputWrites = k.Requests.Where("POST", "/conversations/*/items").Where(r => r.Body.Contains("function_call_output", StringComparison.Ordinal)).ToList();
        Assert.Equal([500, 200], outputWrites.Select(r => r.StatusCode));
        Assert.Contains(ScenarioTools.ParisOutput, outputWrites[0].Body, StringComparison.Ordinal); // the real output, refused
        Assert.Contains(ScenarioTools.ParisOutput, outputWrites[1].Body, StringComparison.Ordinal); // the next run sends it again
        Assert.Empty((await k.Store.GetAsync("unanswered", Responses))!.PendingToolCalls);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AmbiguousUserMessageWrite_AdoptedWhenItLanded_SentAgainWhenNot_NeverTwice(bool landed)
    {
        await using var k = await ProtocolKit.StartAsync(Responses);
        var fault = k.Emulator.Faults.On("POST", "/conversations/*/items").OnNth(1);
        _ = landed ? fault.CommitThenDrop() : fault.DropConnection();

        var result = await k.Runner.RunAsync("ambiguous", "Hello once.");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(EmulatorScript.DefaultReply("Hello once.", 0), result.Text); // the conversation holds the message once
        Assert.Equal(landed ? 1 : 2, k.Requests.Count("POST", "/conversations/*/items"));
        Assert.Single(k.Requests.Where("GET", "/conversations/*/items")); // the newest item, read once
    }

    [Fact]
    public async Task AmbiguousResponseCreate_IsNotSentAgain()
    {
        await using var k = await ProtocolKit.StartAsync(Responses);
        k.Emulator.Faults.On("POST", "/responses").OnNth(1).CommitThenDrop();

        var ex = await Assert.ThrowsAsync<AssistantsServerException>(() => k.Runner.RunAsync("ambiguous-create", "Hello."));

        // Responses cannot be listed, so one that may have landed cannot be found again: reported, never re-sent.
        Assert.Equal(0, ex.Status);
        Assert.Single(k.Requests.Where("POST", "/responses"));
        Assert.Equal(RunStatus.Completed, (await k.Runner.RunAsync("ambiguous-create", "Again.")).Status);
    }

    [Fact]
    public async Task ConversationDeletedOnTheServer_NewConversationAndTheOldIdKept()
    {
        await using var k = await ProtocolKit.StartAsync(Responses);
        var first = await k.Runner.RunAsync("deleted", "Hello.");
        using (var http = new HttpClient())
        {
            using var response = await http.DeleteAsync(new Uri($"{k.Emulator.BaseUri}/conversations/{first.ThreadId}"));
            response.EnsureSuccessStatusCode();
        }

        var second = await k.Runner.RunAsync("deleted", "Anyone?");

        Assert.Equal(RunStatus.Completed, second.Status);
        Assert.StartsWith("conv_", second.ThreadId, StringComparison.Ordinal);
        Assert.NotEqual(first.ThreadId, second.ThreadId);
        Assert.Equal(EmulatorScript.DefaultReply("Anyone?", 0), second.Text);
        var binding = await k.Store.GetAsync("deleted", Responses);
        Assert.Equal(second.ThreadId, binding!.ThreadId);
        Assert.Equal([first.ThreadId], binding.PreviousThreadIds);
    }

    [Fact]
    public async Task Telemetry_InvokeAgentSpanCarriesTheConversationAndTheTurnsUsage()
    {
        await using var k = await ProtocolKit.StartAsync(Responses);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}"""), ("get_weather", """{"city":"Oslo"}""")).Reply("Both sunny.").WithUsage(cached: 2, reasoning: 1);

        var result = await k.Runner.RunAsync("telemetry", "Paris and Oslo?");

        var run = _activities.Single(a => a.DisplayName == $"invoke_agent {ProtocolKit.AssistantName}" && Tag(a, "gen_ai.conversation.id") == result.ThreadId);
        Assert.StartsWith("conv_", Tag(run, "gen_ai.conversation.id"), StringComparison.Ordinal);
        Assert.Equal(result.ThreadId, Tag(run, "openai.assistants.thread.id"));
        Assert.Equal(result.RunId, Tag(run, "openai.assistants.run.id"));
        Assert.StartsWith("resp_", result.RunId, StringComparison.Ordinal);
        Assert.Equal(result.AssistantId, Tag(run, "gen_ai.agent.id"));
        Assert.Equal($"{ProtocolKit.AssistantName}@{result.DefinitionVersion}", result.AssistantId);
        Assert.Equal("invoke_agent", Tag(run, "gen_ai.operation.name"));
        Assert.Equal("gpt-4.1-mini", Tag(run, "gen_ai.request.model"));
        Assert.Equal("gpt-4.1-mini", Tag(run, "gen_ai.response.model"));
        Assert.Equal("completed", Tag(run, "openai.assistants.run.status"));
        var usage = result.Usage!.Value;
        Assert.Equal(usage.InputTokens.ToString(CultureInfo.InvariantCulture), Tag(run, "gen_ai.usage.input_tokens"));
        Assert.Equal(usage.OutputTokens.ToString(CultureInfo.InvariantCulture), Tag(run, "gen_ai.usage.output_tokens"));
        Assert.Equal(4, usage.CachedInputTokens); // 2 per response, two responses
        Assert.Equal(2, usage.ReasoningTokens);
        Assert.Null(Tag(run, "error.type"));

        var trace = _activities.Where(a => a.TraceId == run.TraceId).ToList();
        Assert.Equal(2, trace.Count(a => a.DisplayName == "execute_tool get_weather" && a.ParentSpanId == run.SpanId));
        Assert.Contains(trace, a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == run.SpanId);
    }

    [Fact]
    public async Task RunOperation_UpdateStatusAndCancel_OnABackgroundResponse()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(
            Responses, configure: ProtocolKit.DefaultPolling, time: time, emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(1));

        var operation = await k.Runner.StartRunAsync("handle", "Slow one.");
        Assert.Equal(RunStatus.Queued, operation.Status);
        Assert.Equal(RunStatus.InProgress, await operation.UpdateStatusAsync());
        await operation.CancelAsync();
        var result = await k.DriveAsync(operation.WaitForCompletionAsync(), TimeSpan.FromMilliseconds(200));

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.Empty(result.Messages);
        Assert.Equal($"/responses/{operation.Id}/cancel", Assert.Single(k.Requests.Where("POST", "/responses/*/cancel")).Path);
        Assert.Equal(RunStatus.Cancelled, (await k.Store.GetAsync("handle", Responses))!.ActiveRunStatus);
    }

    private static string? Tag(Activity activity, string name) => activity.GetTagItem(name)?.ToString();

    /// <summary>Property names of the trimmed OpenAPI spec's schemas (through <c>allOf</c> and <c>$ref</c>).</summary>
    private static class Spec
    {
        private static readonly Lazy<JsonObject> Schemas = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(
            AppContext.BaseDirectory, "Fixtures", "openai-recorded", "openai-openapi", "openapi-responses-conversations.trimmed.json")))!["components"]!["schemas"]!.AsObject());

        public static HashSet<string> Properties(string schema)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            Collect(Schemas.Value[schema]!, names, []);
            Assert.NotEmpty(names);
            return names;
        }

        private static void Collect(JsonNode node, HashSet<string> names, HashSet<string> seen)
        {
            if (node["$ref"]?.GetValue<string>() is { } reference && seen.Add(reference))
            {
                Collect(Schemas.Value[reference.Split('/')[^1]]!, names, seen);
            }

            foreach (var (name, _) in node["properties"] as JsonObject ?? [])
            {
                names.Add(name);
            }

            foreach (var part in node["allOf"] as JsonArray ?? [])
            {
                Collect(part!, names, seen);
            }
        }
    }
}
