using System.Text.Json.Nodes;
using Assistants.Kit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Protocols;

/// <summary>
/// One behavioural suite, run on both protocols: the same script and the same assertions on <see cref="RunResult"/> and
/// the events, plus protocol-specific assertions on the request log where the wire differs. Expected usage comes from the
/// emulator's documented formula: per model step (an Assistants run step, a response), <c>prompt = ceil(chars / 4)</c>
/// over the instructions, the message texts and the tool outputs so far; <c>completion = ceil(chars / 4)</c> over the
/// reply, or the round's argument strings. Prices: gpt-4.1-mini, $0.40 input, $0.10 cached input, $1.60 output per million.
/// </summary>
public sealed class ProtocolScenarioTests
{
    private const string Hello = "Hello there.";              // 12 characters
    private const string HelloReply = "Hi! How can I help?";     // 19 characters
    private const string WeatherQuestion = "Weather in Paris?";  // 17 characters
    private const string ParisArguments = """{"city":"Paris"}"""; // 16 characters
    private const string WeatherReply = "It is sunny in Paris."; // 21 characters

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static TheoryData<AssistantsProtocol> Protocols => ProtocolKit.Both;

    public static TheoryData<AssistantsProtocol, bool> ProtocolsPolledAndStreamed => new()
    {
        { AssistantsProtocol.Assistants, false },
        { AssistantsProtocol.Assistants, true },
        { AssistantsProtocol.Responses, false },
        { AssistantsProtocol.Responses, true },
    };

    [Fact]
    public void Formula_ConstantsHaveTheLengthsTheExpectedNumbersAssume()
    {
        Assert.Equal(9, ProtocolKit.Instructions.Length);
        Assert.Equal([12, 19, 17, 16, 18, 21], new[] { Hello, HelloReply, WeatherQuestion, ParisArguments, ScenarioTools.ParisOutput, WeatherReply }.Select(s => s.Length));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CompletedReply_ResultUsageCostAndTheWire(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).Reply(HelloReply);

        var result = await k.Runner.RunAsync("reply", Hello);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(HelloReply, result.Text);
        var message = Assert.Single(result.Messages);
        Assert.Equal("assistant", message.Role);
        Assert.StartsWith("msg_", message.Id, StringComparison.Ordinal);
        Assert.StartsWith(k.ThreadPrefix, result.ThreadId, StringComparison.Ordinal);
        Assert.StartsWith(k.RunPrefix, result.RunId, StringComparison.Ordinal);
        Assert.Equal("reply", result.ConversationKey);
        Assert.Null(result.StopReason);
        Assert.Null(result.ToolLoopStop);
        Assert.Empty(result.ToolCalls);

        // prompt = ceil((9 + 12) / 4) = 6; completion = ceil(19 / 4) = 5; (6 × 0.40 + 5 × 1.60) / 1e6.
        Assert.Equal(new TokenUsage(6, 5), result.Usage);
        Assert.Equal(0.0000104m, result.Cost!.Cost);
        var step = Assert.Single(result.Steps);
        Assert.Equal(RunStepType.MessageCreation, step.Type);
        Assert.Equal(RunStepState.Completed, step.Status);
        Assert.Equal(new TokenUsage(6, 5), step.Usage);

        var log = k.Requests;
        if (k.IsResponses)
        {
            Assert.Equal(1, log.Count("POST", "/conversations"));
            Assert.Equal(1, log.Count("POST", "/conversations/*/items"));
            var body = Assert.Single(k.ResponseBodies());
            Assert.Equal(result.ThreadId, (string?)body["conversation"]);
            Assert.True((bool)body["background"]!);
            Assert.True((bool)body["store"]!);
            Assert.False(body.ContainsKey("previous_response_id"));
            Assert.Equal("gpt-4.1-mini", (string?)body["model"]);
            Assert.Equal(ProtocolKit.Instructions, (string?)body["instructions"]);
            Assert.Empty(log.Where(r => r.Path.StartsWith("/threads", StringComparison.Ordinal) || r.Path.StartsWith("/assistants", StringComparison.Ordinal)));
        }
        else
        {
            Assert.Equal(1, log.Count("POST", "/assistants"));
            Assert.Equal(1, log.Count("POST", "/threads"));
            Assert.Equal(1, log.Count("POST", "/threads/*/messages"));
            Assert.Equal(1, log.Count("POST", "/threads/*/runs"));
            Assert.Empty(log.Where(r => r.Path.StartsWith("/responses", StringComparison.Ordinal) || r.Path.StartsWith("/conversations", StringComparison.Ordinal)));
        }

        // A second message on the key continues the same thread / conversation: the model sees the earlier message.
        log.Clear();
        var second = await k.Runner.RunAsync("reply", "Still there?");
        Assert.Equal(result.ThreadId, second.ThreadId);
        Assert.NotEqual(result.RunId, second.RunId);
        Assert.Equal(EmulatorScript.DefaultReply("Still there?", 1), second.Text);
        Assert.Equal(0, log.Count("POST", k.IsResponses ? "/conversations" : "/threads"));

        var binding = await k.Store.GetAsync("reply", protocol);
        Assert.Equal(result.ThreadId, binding!.ThreadId);
        Assert.Null(binding.ActiveRunId);
        Assert.Equal(RunStatus.Completed, binding.ActiveRunStatus);
        Assert.Empty(binding.PendingToolCalls);
        Assert.Equal(4, binding.MessageCount);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ToolRound_OutputPosted_ReplyUsesIt_UsageSumsTheSteps(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(ctx => $"The tool said: {ctx.ToolOutputs["get_weather"]}");

        var result = await k.Runner.RunAsync("tools", WeatherQuestion);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("The tool said: Paris: sunny, 21 C", result.Text);
        var call = Assert.Single(result.ToolCalls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal(ScenarioTools.ParisOutput, call.Output);
        Assert.Equal(ToolCallStatus.Succeeded, call.Status);
        Assert.StartsWith("call_", call.ToolCallId, StringComparison.Ordinal);
        Assert.Equal([[(call.ToolCallId, ScenarioTools.ParisOutput)]], k.OutputRounds());
        Assert.Equal(1, k.Probe.Calls);

        // Tool step: ceil((9 + 17) / 4) = 7, ceil(16 / 4) = 4. Reply step: ceil((9 + 17 + 18) / 4) = 11, ceil(33 / 4) = 9.
        Assert.Equal(new TokenUsage(18, 13), result.Usage);
        Assert.Equal(0.0000280m, result.Cost!.Cost); // (18 × 0.40 + 13 × 1.60) / 1e6
        Assert.Equal(2, result.Steps.Count);
        Assert.Equal(RunStepType.ToolCalls, result.Steps[0].Type);
        Assert.Equal("get_weather", Assert.Single(result.Steps[0].ToolCalls).Name);
        Assert.Equal(new TokenUsage(7, 4), result.Steps[0].Usage);
        Assert.Equal(RunStepType.MessageCreation, result.Steps[1].Type);
        Assert.Equal(new TokenUsage(11, 9), result.Steps[1].Usage);

        if (k.IsResponses)
        {
            // Two responses in the conversation: the follow-up carries only the output, with the definition again.
            var bodies = k.ResponseBodies();
            Assert.Equal(2, bodies.Count);
            Assert.All(bodies, b =>
            {
                Assert.Equal(result.ThreadId, (string?)b["conversation"]);
                Assert.False(b.ContainsKey("previous_response_id"));
                Assert.Equal(ProtocolKit.Instructions, (string?)b["instructions"]);
                Assert.Contains(b["tools"]!.AsArray(), t => (string?)t!["name"] == "get_weather" && (string?)t["type"] == "function");
            });
            var input = Assert.Single(bodies[1]["input"]!.AsArray())!;
            Assert.Equal("function_call_output", (string?)input["type"]);
            Assert.Equal(call.ToolCallId, (string?)input["call_id"]);

            // The run's ID is the turn's last response.
            Assert.Equal(result.RunId, (string?)JsonNode.Parse(k.Requests.Where("POST", "/responses")[1].ResponseBody!)!["id"]);
        }
        else
        {
            Assert.Equal(1, k.Requests.Count("POST", "/threads/*/runs"));
            Assert.Equal(1, k.Requests.Count("POST", "/threads/*/runs/*/submit_tool_outputs"));
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task ParallelCalls_OneFollowUpCarriesEveryOutputOnce(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1)
            .CallTools(("get_weather", ParisArguments), ("get_weather", """{"city":"Oslo"}"""), ("add", """{"a":2,"b":3}"""))
            .Reply(ctx => $"{string.Join(" | ", ctx.ToolCalls.Select(c => c.Output))}");

        var result = await k.Runner.RunAsync("parallel", "Paris, Oslo and 2+3?");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("Paris: sunny, 21 C | Oslo: sunny, 21 C | 5", result.Text);
        Assert.Equal(3, result.ToolCalls.Count);
        var round = Assert.Single(k.OutputRounds());
        Assert.Equal(3, round.Count);
        Assert.Equal(round.Select(o => o.CallId).Order(StringComparer.Ordinal), result.ToolCalls.Select(c => c.ToolCallId).Order(StringComparer.Ordinal));
        Assert.Equal(3, round.Select(o => o.CallId).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(["5", "Oslo: sunny, 21 C", "Paris: sunny, 21 C"], round.Select(o => o.Output).Order(StringComparer.Ordinal));
        Assert.Equal(2, k.ModelRequests()); // the first request, and one follow-up carrying all three outputs
        Assert.Equal(3, Assert.Single(result.Steps, s => s.Type == RunStepType.ToolCalls).ToolCalls.Count);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task BadInput_InvalidJsonArguments_ErrorOutputPostedAndRunCompletes(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city": "Paris" """)).Reply(ctx => $"The tool said: {ctx.ToolOutputs["get_weather"]}");

        var result = await k.Runner.RunAsync("bad-input", "Try it.");

        var (_, output) = Assert.Single(Assert.Single(k.OutputRounds()));
        Assert.StartsWith("""{"error":{"type":"invalid_arguments","message":"The arguments are not valid JSON: """, output, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal($"The tool said: {output}", result.Text);
        var call = Assert.Single(result.ToolCalls);
        Assert.Equal(ToolCallStatus.InvalidArguments, call.Status);
        Assert.Equal(output, call.Output);
        Assert.Equal(0, k.Probe.Calls); // the handler never ran
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task LoopGuard_SameCallThreeTimes_StoppedCancelled_AndTheConversationStaysUsable(AssistantsProtocol protocol, bool streamed)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1)
            .CallTools(("add", """{"a":1,"b":2}"""))
            .CallTools(("add", """{ "b": 2, "a": 1 }"""))
            .CallTools(("add", """{"b":2,"a":1}"""))
            .Reply("never");
        k.Script.OnRun(2).Reply("Back to normal.");

        var result = await RunAsync(k, "loop", "Add forever.", streamed);

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.NotNull(result.StopReason);
        Assert.Contains("'add' with the same arguments 3 times", result.StopReason, StringComparison.Ordinal);
        Assert.Equal(ToolLoopStopReason.RepeatedCall, result.ToolLoopStop);
        Assert.Equal(2, result.ToolCalls.Count); // the third identical request is not executed
        Assert.Equal(2, k.OutputRounds().Count);
        Assert.Empty(result.Messages);

        if (k.IsResponses)
        {
            // No response after the third round: the third calls get an error output posted into the conversation (no
            // model turn), so the conversation accepts new input; nothing to cancel (the response had completed).
            Assert.Equal(3, k.Requests.Count("POST", "/responses"));
            Assert.Equal(0, k.Requests.Count("POST", "/responses/*/cancel"));
            var (callId, output) = Assert.Single(k.OutputsPostedAsItems());
            Assert.DoesNotContain(result.ToolCalls, c => c.ToolCallId == callId);
            Assert.StartsWith("""{"error":{"type":"run_stopped","message":"The model called tool 'add' with the same arguments 3 times""", output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(1, k.Requests.Count("POST", k.CancelPath));
        }

        Assert.Empty((await k.Store.GetAsync("loop", protocol))!.PendingToolCalls);
        var next = await k.Runner.RunAsync("loop", "Hello again.");
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal("Back to normal.", next.Text);
        Assert.Equal(result.ThreadId, next.ThreadId);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task MaxToolRounds_StoppedAfterTheAllowedRounds(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.ConfigureTools(o => o.MaxToolRounds = 2));
        k.Script.OnRun(1)
            .CallTools(("add", """{"a":1,"b":1}"""))
            .CallTools(("add", """{"a":2,"b":2}"""))
            .CallTools(("add", """{"a":3,"b":3}"""))
            .Reply("never");

        var result = await k.Runner.RunAsync("rounds", "Keep adding.");

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.Contains("at most 2 tool rounds", result.StopReason, StringComparison.Ordinal);
        Assert.Equal(ToolLoopStopReason.MaxToolRounds, result.ToolLoopStop);
        Assert.Equal(["2", "4"], k.OutputRounds().Select(r => Assert.Single(r).Output));
        Assert.Equal(3, k.ModelRequests()); // the first request and two follow-ups; never a fourth
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Streaming_EventsInOrder_TextDeltasAreTheFinalText_OneFinishedEvent(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply);

        var events = await CollectAsync(k.Runner.StreamAsync("stream", WeatherQuestion));

        var finished = Assert.Single(events.OfType<RunFinishedEvent>());
        Assert.Same(finished, events[^1]);
        Assert.Equal(RunStatus.Completed, finished.Status);
        var result = finished.Result!;
        Assert.Equal(WeatherReply, result.Text);
        Assert.Equal(WeatherReply, string.Concat(events.OfType<TextDeltaEvent>().Select(e => e.Text)));
        Assert.Equal(WeatherReply, Assert.Single(events.OfType<MessageCompletedEvent>()).Message.Text);
        Assert.StartsWith(k.ThreadPrefix, finished.ThreadId, StringComparison.Ordinal);
        Assert.All(events, e => Assert.Equal(finished.ThreadId, e.ThreadId));

        // The tool call: started (with its name), executed, its output sent once; the stream continued.
        var started = Assert.Single(events.OfType<ToolCallStartedEvent>());
        Assert.Equal("get_weather", started.Name);
        var completed = Assert.Single(events.OfType<ToolCallCompletedEvent>());
        Assert.Equal(started.ToolCallId, completed.ToolCallId);
        Assert.Equal(ScenarioTools.ParisOutput, completed.Record!.Output);
        Assert.Equal(ParisArguments, string.Concat(events.OfType<ToolCallArgumentsDeltaEvent>().Select(e => e.Delta)));
        Assert.True(events.IndexOf(completed) < events.IndexOf(events.OfType<TextDeltaEvent>().First()));
        Assert.Equal([[(started.ToolCallId, ScenarioTools.ParisOutput)]], k.OutputRounds());

        // Same usage and steps as the polled run of the same script.
        Assert.Equal(new TokenUsage(18, 10), result.Usage);
        Assert.Equal(result.Usage, finished.Usage);
        Assert.Equal([RunStepType.ToolCalls, RunStepType.MessageCreation], result.Steps.Select(s => s.Type));
        Assert.Equal(RunStatus.Completed, events.OfType<RunStatusChangedEvent>().Last().Status);

        if (k.IsResponses)
        {
            Assert.All(k.ResponseBodies(), b =>
            {
                Assert.True((bool)b["stream"]!);
                Assert.True((bool)b["background"]!);
                Assert.True((bool)b["store"]!);
                Assert.Equal(finished.ThreadId, (string?)b["conversation"]);
            });
            Assert.Equal(2, k.ResponseBodies().Count);
            Assert.Empty(k.Requests.Where("GET", "/responses/*")); // nothing polled
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task StreamDrop_ResumedOnTheSameRun_TextInvariant(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        const string Reply = "One two three four five six seven eight nine ten.";
        k.Script.OnRun(1).Reply(Reply).CutStreamAfter(6);

        var events = await CollectAsync(k.Runner.StreamAsync("drop", "Count to ten."));

        var finished = Assert.Single(events.OfType<RunFinishedEvent>());
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal(Reply, finished.Result!.Text);
        Assert.Equal(Reply, string.Concat(events.OfType<TextDeltaEvent>().Select(e => e.Text)));
        Assert.Single(events.OfType<MessageCompletedEvent>());
        Assert.Equal(1, k.ModelRequests()); // never a second run or response for the turn

        if (k.IsResponses)
        {
            // Resumed after the last event seen (sequence numbers 0-5 were delivered), never by polling.
            var resume = Assert.Single(k.Requests.Where("GET", "/responses/*"));
            Assert.Equal($"/responses/{finished.RunId}", resume.Path);
            Assert.Contains("stream=true", resume.Query, StringComparison.Ordinal);
            Assert.Contains("starting_after=5", resume.Query, StringComparison.Ordinal);
            Assert.True(Assert.Single(k.Requests.Where("POST", "/responses")).ConnectionDropped);
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CallerCancellation_CancelledOnTheServer_AndTheConversationStaysUsable(AssistantsProtocol protocol)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(protocol, configure: ProtocolKit.DefaultPolling, time: time, emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(5));
        k.Script.OnRun(2).Reply("Next one.");
        using var cts = new CancellationTokenSource();

        var run = k.Runner.RunAsync("cancel", "Slow one.", cancellationToken: cts.Token);
        await Waiting(() => k.Requests.Count("GET", k.IsResponses ? "/responses/*" : "/threads/*/runs/*") >= 1, time);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
        var cancel = Assert.Single(k.Requests.Where("POST", k.CancelPath));
        Assert.Equal(200, cancel.StatusCode);
        var binding = await k.Store.GetAsync("cancel", protocol);
        Assert.StartsWith(k.ThreadPrefix, binding!.ThreadId, StringComparison.Ordinal);

        k.Emulator.Options.InProgressDuration = TimeSpan.Zero;
        var next = await k.DriveAsync(k.Runner.RunAsync("cancel", "Next."), TimeSpan.FromSeconds(1));
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal("Next one.", next.Text);
        Assert.Equal(binding.ThreadId, next.ThreadId);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CallerCancellationWhileAToolRuns_TheConversationStaysUsable(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).CallTools(("wait_for_release", "{}")).Reply("never");
        k.Script.OnRun(2).Reply("Next one.");
        using var cts = new CancellationTokenSource();

        var run = k.Runner.RunAsync("cancel-tools", "Wait.", cancellationToken: cts.Token);
        await k.Probe.Started.Task.WaitAsync(Deadline);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
        Assert.Empty(k.OutputRounds());
        if (k.IsResponses)
        {
            // The response that asked for the tool had completed: its call gets an error output in the conversation.
            var (_, output) = Assert.Single(k.OutputsPostedAsItems());
            Assert.StartsWith("""{"error":{"type":"run_stopped","message":""", output, StringComparison.Ordinal);
            Assert.Equal(1, k.Requests.Count("POST", "/responses"));
        }
        else
        {
            Assert.Equal(1, k.Requests.Count("POST", k.CancelPath));
        }

        var next = await k.Runner.RunAsync("cancel-tools", "Next.");
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal("Next one.", next.Text);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CallerCancellationAfterTheOutputsWereSent_TheConversationStaysUsable(AssistantsProtocol protocol)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(protocol, configure: ProtocolKit.DefaultPolling, time: time, emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(1));
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply("late");
        k.Script.OnRun(2).Reply("Next one.");
        using var cts = new CancellationTokenSource();

        var run = k.Runner.RunAsync("cancel-late", WeatherQuestion, cancellationToken: cts.Token);
        await Waiting(() => k.OutputRounds().Count == 1, time, TimeSpan.FromSeconds(1));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
        Assert.Single(k.Requests.Where("POST", k.CancelPath));
        if (k.IsResponses)
        {
            Assert.Equal(ScenarioTools.ParisOutput, Assert.Single(k.OutputsPostedAsItems()).Output);
        }

        k.Emulator.Options.InProgressDuration = TimeSpan.Zero;
        var next = await k.DriveAsync(k.Runner.RunAsync("cancel-late", "Next."), TimeSpan.FromSeconds(1));
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal("Next one.", next.Text);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CallerCancellationWhileTheOutputsAreBeingSent_TheRunIsCancelled_AndTheConversationStaysUsable(AssistantsProtocol protocol)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(protocol, configure: ProtocolKit.DefaultPolling, time: time);
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply("late").Taking(TimeSpan.FromMinutes(1));
        k.Script.OnRun(2).Reply("Next one.");
        var submit = k.IsResponses ? k.Emulator.Faults.On("POST", "/responses").OnNth(2) : k.Emulator.Faults.On("POST", "/threads/*/runs/*/submit_tool_outputs");
        submit.Delay(TimeSpan.FromSeconds(5));
        using var cts = new CancellationTokenSource();

        // The outputs are on their way (the server holds the request) when the caller cancels.
        var run = k.Runner.RunAsync("cancel-submit", WeatherQuestion, cancellationToken: cts.Token);
        await Waiting(() => submit.Triggered == 1, time, TimeSpan.FromSeconds(1));
        await cts.CancelAsync();
        time.Advance(TimeSpan.FromSeconds(5));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
        if (k.IsResponses)
        {
            // The follow-up was created after all (a creation, once sent, is seen through), and it is the one cancelled.
            var followUp = Assert.Single(k.Requests.Where("POST", "/responses"), r => r.Body.Contains("function_call_output", StringComparison.Ordinal));
            Assert.Equal(200, followUp.StatusCode);
            var followUpId = (string)JsonNode.Parse(followUp.ResponseBody!)!["id"]!;
            Assert.Equal($"/responses/{followUpId}/cancel", Assert.Single(k.Requests.Where("POST", k.CancelPath)).Path);
            Assert.Equal(ScenarioTools.ParisOutput, Assert.Single(k.OutputsPostedAsItems()).Output);
        }
        else
        {
            Assert.Single(k.Requests.Where("POST", k.CancelPath));
        }

        var next = await k.DriveAsync(k.Runner.RunAsync("cancel-submit", "Next."), TimeSpan.FromSeconds(1));
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal("Next one.", next.Text);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Serialisation_TwoMessagesAtOnceOnOneKey_RunOneAfterTheOther(AssistantsProtocol protocol)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(protocol, configure: ProtocolKit.DefaultPolling, time: time, emulator: e => e.InProgressDuration = TimeSpan.FromSeconds(10));
        k.Script.Default().Reply(ctx => $"Reply to '{ctx.LatestUserMessage}' after {ctx.EarlierUserMessageCount}.");

        var first = k.Runner.RunAsync("serial", "First.");
        var second = k.Runner.RunAsync("serial", "Second.");
        var results = await k.DriveAsync(Task.WhenAll(first, second), TimeSpan.FromMilliseconds(500));

        Assert.Equal("Reply to 'First.' after 0.", results[0].Text);
        Assert.Equal("Reply to 'Second.' after 1.", results[1].Text);
        Assert.Equal(results[0].ThreadId, results[1].ThreadId);
        Assert.Empty(k.Requests.Where(r => r.StatusCode >= 400));

        // The second message went in only after the first run had ended (at least 10 s of model time later).
        var writes = k.Requests.Where("POST", k.IsResponses ? "/conversations/*/items" : "/threads/*/messages");
        Assert.Equal(2, writes.Count);
        Assert.True(writes[1].Timestamp - writes[0].Timestamp >= TimeSpan.FromSeconds(10));
        Assert.Equal(1, k.Requests.Count("POST", k.IsResponses ? "/conversations" : "/threads"));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Budget_AlreadySpent_RefusedAndNothingSent(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddBudget("tenant", o =>
        {
            o.Scope = BudgetScope.ConversationKey;
            o.Unit = BudgetUnit.Tokens;
            o.Limit = 11;
        }));
        k.Script.Default().Reply(HelloReply);

        var first = await k.Runner.RunAsync("tenant-a", Hello); // 6 + 5 = 11 tokens: the key's budget is spent
        Assert.Equal(11, first.Usage!.Value.TotalTokens);
        k.Requests.Clear();

        var ex = await Assert.ThrowsAsync<BudgetExceededException>(() => k.Runner.RunAsync("tenant-a", "Again."));
        var streamed = await Assert.ThrowsAsync<BudgetExceededException>(() => CollectAsync(k.Runner.StreamAsync("tenant-a", "Again.")));

        Assert.Empty(k.Requests.All);
        Assert.Equal("tenant", ex.BudgetName);
        Assert.Equal(11m, ex.Spent);
        Assert.Equal(BudgetRefusalReason.LimitReached, streamed.Reason);
        var other = await k.Runner.RunAsync("tenant-b", Hello); // another key has its own budget
        Assert.Equal(RunStatus.Completed, other.Status);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Usage_CachedAndReasoningTokens_FlowIntoUsageCostAndSteps(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).Reply(HelloReply).WithUsage(cached: 4, reasoning: 3);

        var polled = await k.Runner.RunAsync("cached", Hello);
        var streamed = (await CollectAsync(k.Runner.StreamAsync("cached-stream", Hello))).OfType<RunFinishedEvent>().Single().Result!;

        // prompt 6 (4 cached); completion 5 + 3 reasoning = 8. (2 × 0.40 + 4 × 0.10 + 8 × 1.60) / 1e6 = 14 / 1e6.
        Assert.Equal(new TokenUsage(6, 8, CachedInputTokens: 4, ReasoningTokens: 3), polled.Usage);
        Assert.Equal(0.000014m, polled.Cost!.Cost);
        Assert.Equal(new TokenUsage(6, 8, 4, 3), Assert.Single(polled.Steps).Usage);
        Assert.Equal(new TokenUsage(6, 8, 4, 3), polled.Cost.ConversationTotals.Usage);

        // The run on the second key was scripted by the default rule (run 2): the built-in reply, no overrides.
        Assert.Equal(RunStatus.Completed, streamed.Status);
        Assert.Equal(0, streamed.Usage!.Value.CachedInputTokens);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Usage_ToolRoundWithCachedAndReasoning_TheRunSumsItsSteps(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply).WithUsage(cached: 8, reasoning: 3);

        var result = await k.Runner.RunAsync("steps", WeatherQuestion);

        // Steps: (7, 4) and (11, 6). Assistants reports the overrides on the run's last step only: cached 8, reasoning
        // 3 → run (18, 13, 8, 3). Responses applies them to every response of the turn: (7, 4 + 3, cached 7) and
        // (11, 6 + 3, cached 8) → run (18, 16, 15, 6): the run's usage is the sum over its responses.
        var expected = k.IsResponses ? new TokenUsage(18, 16, 15, 6) : new TokenUsage(18, 13, 8, 3);
        Assert.Equal(expected, result.Usage);
        Assert.Equal(expected, result.Cost!.Usage);
        Assert.Equal(expected, result.Steps.Select(s => s.Usage!.Value).Aggregate((a, b) => a + b));
        Assert.Equal(k.IsResponses ? 0.0000283m : 0.0000256m, result.Cost.Cost);
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task Budget_StepExceedsAStoppingBudget_StoppedAtAToolBoundary(AssistantsProtocol protocol, bool streamed)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, kit: b => b.AddBudget("tokens", o =>
        {
            o.Unit = BudgetUnit.Tokens;
            o.Limit = 10;
        }));
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).CallTools(("get_weather", """{"city":"Rome"}""")).Reply(WeatherReply);
        k.Script.OnRun(2).Reply("Fine.");

        var result = await RunAsync(k, "stop", WeatherQuestion, streamed);

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.Equal("budget exceeded", result.StopReason);
        Assert.Null(result.ToolLoopStop); // stopped by a budget, not the loop guard
        Assert.True(result.Cost!.StoppedByBudget);
        if (k.IsResponses)
        {
            // A response's usage is known when it completes, before its tools run: the first response (7 + 4 = 11
            // tokens) already exceeds the budget, so no tool runs and no second response is created.
            Assert.Empty(result.ToolCalls);
            Assert.Equal(1, k.Requests.Count("POST", "/responses"));
            Assert.Single(k.OutputsPostedAsItems());
            Assert.Equal(new TokenUsage(7, 4), result.Usage);
        }
        else
        {
            // An Assistants step's usage is known once its outputs were submitted: the second round is not executed.
            Assert.Single(result.ToolCalls);
            Assert.Single(k.OutputRounds());
            Assert.Equal(1, k.Requests.Count("POST", k.CancelPath));
            Assert.Equal(new TokenUsage(18, 8), result.Usage);
        }

        Assert.Equal(result.Usage, result.Cost.Usage);
        await Assert.ThrowsAsync<BudgetExceededException>(() => k.Runner.RunAsync("stop", "More?"));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Failed_ThrowsWithTheErrorAndIds_AndTheBindingSaysFailed(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.Default().Fail("invalid_prompt", "The prompt was flagged.");

        var ex = await Assert.ThrowsAsync<RunFailedException>(() => k.Runner.RunAsync("failed", "Bad."));

        Assert.Equal("invalid_prompt", ex.Code);
        Assert.Equal("The prompt was flagged.", ex.Error.Message);
        Assert.StartsWith(k.ThreadPrefix, ex.ThreadId, StringComparison.Ordinal);
        Assert.StartsWith(k.RunPrefix, ex.RunId, StringComparison.Ordinal);
        Assert.Equal(1, k.ModelRequests());
        Assert.Equal(RunStatus.Failed, (await k.Store.GetAsync("failed", protocol))!.ActiveRunStatus);

        var events = await CollectAsync(k.Runner.StreamAsync("failed-stream", "Bad."));
        var finished = Assert.Single(events.OfType<RunFinishedEvent>());
        Assert.Equal(RunStatus.Failed, finished.Status);
        Assert.Null(finished.Result);
        Assert.Equal("invalid_prompt", finished.Error!.Code);
        var streamed = await Assert.ThrowsAsync<RunFailedException>(() => k.Runner.StreamAsync("failed-stream", "Bad again.", new RunStreamHandler()));
        Assert.Equal("invalid_prompt", streamed.Code);
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task Failed_AfterAToolRound_TheConversationStaysUsable(AssistantsProtocol protocol, bool streamed)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Fail("server_error", "Oops.");
        k.Script.OnRun(2).Reply(ctx => $"Earlier user messages: {ctx.EarlierUserMessageCount}.");

        var ex = await Assert.ThrowsAsync<RunFailedException>(() => streamed
            ? k.Runner.StreamAsync("failed-tools", WeatherQuestion, new RunStreamHandler())
            : k.Runner.RunAsync("failed-tools", WeatherQuestion));
        Assert.Equal("server_error", ex.Code);

        var next = await k.Runner.RunAsync("failed-tools", "Try again.");
        Assert.Equal(RunStatus.Completed, next.Status);
        Assert.Equal("Earlier user messages: 1.", next.Text);
        Assert.Equal(ex.ThreadId, next.ThreadId);
        if (k.IsResponses)
        {
            Assert.Equal(ScenarioTools.ParisOutput, Assert.Single(k.OutputsPostedAsItems()).Output);
        }
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task Failed_AfterAToolRound_RerunPolicyRunsAgainInTheSameConversation(AssistantsProtocol protocol, bool streamed)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, configure: o =>
        {
            o.FailedRunRetry.MaxAttempts = 1;
            o.FailedRunRetry.Delay = TimeSpan.Zero;
        });
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Fail("server_error", "Oops.");
        k.Script.OnRun(2).Reply(ctx => $"Retried with {ctx.ToolCalls.Count} new calls.");

        RunResult result;
        if (streamed)
        {
            // One stream from the first run to the re-run's end: one finish, the reply's text once, every step reported once.
            var events = await CollectAsync(k.Runner.StreamAsync("rerun", WeatherQuestion));
            var finished = Assert.Single(events.OfType<RunFinishedEvent>());
            Assert.Same(finished, events[^1]);
            result = finished.Result!;
            Assert.Equal(result.Text, string.Concat(events.OfType<TextDeltaEvent>().Select(e => e.Text)));
            Assert.Equal(RunStatus.Failed, events.OfType<RunStatusChangedEvent>().First(e => e.Status.IsTerminal()).Status);
            Assert.Equal(RunStatus.Completed, events.OfType<RunStatusChangedEvent>().Last().Status);
            var reported = events.OfType<RunStepCompletedEvent>().Select(e => e.Step.StepId).ToList();
            Assert.Equal(reported.Distinct(), reported);
            Assert.Subset(reported.ToHashSet(), result.Steps.Select(s => s.StepId).ToHashSet());
            Assert.Equal(result.ToolCalls.Single().ToolCallId, Assert.Single(events.OfType<ToolCallCompletedEvent>()).ToolCallId);
        }
        else
        {
            result = await k.Runner.RunAsync("rerun", WeatherQuestion);
        }

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("Retried with 0 new calls.", result.Text);
        var call = Assert.Single(result.ToolCalls);
        // Assistants: the failed run and the re-run. Responses: the turn's two responses (the second failed), and the re-run.
        Assert.Equal(k.IsResponses ? 3 : 2, k.Requests.Count("POST", k.IsResponses ? "/responses" : "/threads/*/runs"));
        if (k.IsResponses)
        {
            // The user message was added once; the failed response's tool output (which a failed response does not leave
            // in the conversation) is posted into the conversation before the re-run, so the re-run's context is valid.
            Assert.Single(k.Requests.Where("POST", "/conversations/*/items"), r => r.Body.Contains("\"role\":\"user\"", StringComparison.Ordinal));
            Assert.Equal([(call.ToolCallId, ScenarioTools.ParisOutput)], k.OutputsPostedAsItems());
        }
        else
        {
            Assert.Equal(1, k.Requests.Count("POST", "/threads/*/messages"));
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Streamed_ReRunThatCallsTools_IsFollowedToItsEnd_ReportingWhatThePollingSaw(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, configure: o =>
        {
            o.FailedRunRetry.MaxAttempts = 1;
            o.FailedRunRetry.Delay = TimeSpan.Zero;
        });
        k.Script.OnRun(1).Fail("server_error", "Oops.");
        k.Script.OnRun(2).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply);

        var events = await CollectAsync(k.Runner.StreamAsync("rerun-tools", WeatherQuestion));

        // The re-run is followed by polling: its tool call, its reply and its steps are reported from what the polls read.
        var finished = Assert.Single(events.OfType<RunFinishedEvent>());
        Assert.Same(finished, events[^1]);
        var result = finished.Result!;
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(WeatherReply, result.Text);
        Assert.Equal(WeatherReply, string.Concat(events.OfType<TextDeltaEvent>().Select(e => e.Text)));
        var call = Assert.Single(result.ToolCalls);
        var started = Assert.Single(events.OfType<ToolCallStartedEvent>());
        Assert.Equal((call.ToolCallId, "get_weather"), (started.ToolCallId, started.Name));
        Assert.Equal(ParisArguments, string.Concat(events.OfType<ToolCallArgumentsDeltaEvent>().Where(e => e.ToolCallId == call.ToolCallId).Select(e => e.Delta)));
        Assert.Equal(ScenarioTools.ParisOutput, Assert.Single(events.OfType<ToolCallCompletedEvent>()).Record!.Output);
        var reported = events.OfType<RunStepCompletedEvent>().Select(e => e.Step.StepId).ToList();
        Assert.Equal(reported.Distinct(), reported);
        Assert.Subset(reported.ToHashSet(), result.Steps.Select(s => s.StepId).ToHashSet());
        Assert.Equal(k.IsResponses ? 3 : 2, result.Steps.Count); // Responses: the failed response, the tool round's, the reply's
        Assert.Equal(RunStatus.Completed, events.OfType<RunStatusChangedEvent>().Last().Status);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Incomplete_ScriptedCut_ResultCarriesTheProtocolsReason(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).Reply("A long answer that gets cut").EndIncomplete("max_completion_tokens");

        var result = await k.Runner.RunAsync("incomplete", "Write a lot.");

        Assert.Equal(RunStatus.Incomplete, result.Status);
        Assert.False(result.IsCompleted);
        Assert.Equal(k.IsResponses ? "max_output_tokens" : "max_completion_tokens", result.IncompleteReason);
        Assert.Equal("A long answer", result.Text);
    }

    [Theory]
    [MemberData(nameof(ProtocolsPolledAndStreamed))]
    public async Task Incomplete_MaxCompletionTokens_SentAsTheProtocolsLimit_ReplyCut(AssistantsProtocol protocol, bool streamed)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, configure: o => o.RunDefaults.MaxCompletionTokens = 16);
        k.Script.OnRun(1).Reply("One two three four five six seven eight nine ten eleven twelve thirteen fourteen.");

        var result = await RunAsync(k, "max-tokens", "Count.", streamed);

        Assert.Equal(RunStatus.Incomplete, result.Status);
        Assert.Equal(k.IsResponses ? "max_output_tokens" : "max_completion_tokens", result.IncompleteReason);
        Assert.Equal(16, result.Usage!.Value.OutputTokens);
        Assert.StartsWith("One two three", result.Text, StringComparison.Ordinal);
        if (k.IsResponses)
        {
            Assert.Equal(16, (int)Assert.Single(k.ResponseBodies())["max_output_tokens"]!);
        }
        else
        {
            Assert.Equal(16, (int)Assert.Single(k.Requests.Where("POST", "/threads/*/runs")).BodyAsJson()!["max_completion_tokens"]!);
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task PollingTimeout_RunCancelledOnTheServer_TimeoutReported(AssistantsProtocol protocol)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(
            protocol,
            configure: o =>
            {
                ProtocolKit.DefaultPolling(o);
                o.Polling.Timeout = TimeSpan.FromSeconds(30);
            },
            time: time,
            emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(10));

        var ex = await Assert.ThrowsAsync<RunTimeoutException>(() => k.DriveAsync(k.Runner.RunAsync("timeout", "Take forever."), TimeSpan.FromMilliseconds(500)));

        Assert.StartsWith(k.RunPrefix, ex.RunId, StringComparison.Ordinal);
        Assert.StartsWith(k.ThreadPrefix, ex.ThreadId, StringComparison.Ordinal);
        Assert.Equal(200, Assert.Single(k.Requests.Where("POST", k.CancelPath)).StatusCode);
        Assert.Equal(RunStatus.Cancelling, (await k.Store.GetAsync("timeout", protocol))!.ActiveRunStatus);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Resume_AnotherRunnerAttachesToARunStartedElsewhere_AndFinishesItsToolLoop(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(ctx => $"Attached: {ctx.ToolOutputs["get_weather"]}");
        var started = await k.Runner.StartRunAsync("attach", WeatherQuestion);
        Assert.StartsWith(k.RunPrefix, started.Id, StringComparison.Ordinal);

        // Another process (its own store and caches) picks the run up by its IDs, waits, runs the tools and finishes.
        await using var other = k.NewKit();
        var runner = other.GetRequiredService<AssistantRunner>();
        var attached = runner.AttachRun(started.ThreadId, started.Id);
        var result = await attached.WaitForCompletionAsync();

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("Attached: Paris: sunny, 21 C", result.Text);
        Assert.Equal(started.ThreadId, result.ThreadId);
        Assert.Equal(ScenarioTools.ParisOutput, Assert.Single(result.ToolCalls).Output);
        Assert.Equal(new TokenUsage(18, 11), result.Usage); // (7, 4) + (ceil(44 / 4) = 11, ceil(28 / 4) = 7)
        Assert.Equal(2, k.ModelRequests());
        if (k.IsResponses)
        {
            // The follow-up goes to the same conversation with the settings of the response it answers, rebuilt from the
            // service's echo: the same settings the first runner sent.
            var first = k.ResponseBodies()[0];
            var followUp = k.ResponseBodies()[1];
            Assert.Equal(started.ThreadId, (string?)followUp["conversation"]);
            Assert.False(followUp.ContainsKey("previous_response_id"));
            Assert.Equal(
                first.Where(p => p.Key is not ("input" or "conversation")).Select(p => p.Key).Order(StringComparer.Ordinal),
                followUp.Where(p => p.Key is not ("input" or "conversation")).Select(p => p.Key).Order(StringComparer.Ordinal));
            foreach (var key in new[] { "model", "instructions", "tools", "metadata", "max_output_tokens" })
            {
                Assert.True(JsonNode.DeepEquals(first[key], followUp[key]), $"{key}: {first[key]?.ToJsonString()} vs {followUp[key]?.ToJsonString()}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task StreamErrorEvent_ReportedThenTheSameRunFollowed_TextInvariant(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol);
        const string Reply = "Alpha beta gamma delta epsilon zeta eta theta.";
        k.Script.OnRun(1).Reply(Reply).FailStreamAfter(5, "server_error", "The stream broke.");

        var events = await CollectAsync(k.Runner.StreamAsync("stream-error", "Greek letters?"));

        var finished = Assert.Single(events.OfType<RunFinishedEvent>());
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal(Reply, finished.Result!.Text);
        Assert.Equal(Reply, string.Concat(events.OfType<TextDeltaEvent>().Select(e => e.Text)));
        Assert.Equal(1, k.ModelRequests());
        if (k.IsResponses)
        {
            var error = Assert.Single(events.OfType<RunErrorEvent>());
            Assert.Equal("server_error", error.Code);
            Assert.Equal("The stream broke.", error.Message);
            Assert.True(events.IndexOf(error) < events.IndexOf(finished));

            // Resumed after the last response event (0-4); the error event does not count as one.
            Assert.Contains("starting_after=4", Assert.Single(k.Requests.Where("GET", "/responses/*")).Query, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task StreamCancelledByTheCaller_RunCancelledOnTheServer_AndTheConversationStaysUsable(AssistantsProtocol protocol)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(protocol, configure: ProtocolKit.DefaultPolling, time: time, emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(5));
        k.Script.OnRun(2).Reply("Next one.");
        using var cts = new CancellationTokenSource();
        var inProgress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var consume = Task.Run(async () =>
        {
            await foreach (var e in k.Runner.StreamAsync("stream-cancel", "Slow one.", cancellationToken: cts.Token))
            {
                if (e is RunStatusChangedEvent { Status: RunStatus.InProgress })
                {
                    inProgress.TrySetResult();
                }
            }
        });
        await Waiting(() => inProgress.Task.IsCompleted, time);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consume.WaitAsync(Deadline));
        Assert.Equal(200, Assert.Single(k.Requests.Where("POST", k.CancelPath)).StatusCode);
        k.Emulator.Options.InProgressDuration = TimeSpan.Zero;
        var next = await k.DriveAsync(k.Runner.RunAsync("stream-cancel", "Next."), TimeSpan.FromSeconds(1));
        Assert.Equal("Next one.", next.Text);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task SqliteStore_TwoRunnerInstancesInARow_ContinueTheSameConversation(AssistantsProtocol protocol)
    {
        using var folder = new TempFolder();
        var database = folder.File("conversations.db");
        await using var k = await ProtocolKit.StartAsync(protocol);

        RunResult first;
        await using (var process1 = k.NewKit(kit: b => b.AddSqliteStore(database)))
        {
            first = await process1.GetRequiredService<AssistantRunner>().RunAsync("durable", "First message.");
        }

        RunResult second;
        await using (var process2 = k.NewKit(kit: b => b.AddSqliteStore(database)))
        {
            second = await process2.GetRequiredService<AssistantRunner>().RunAsync("durable", "Second message.");
            var binding = await process2.GetRequiredService<IConversationStore>().GetAsync("durable", protocol);
            Assert.Equal(first.ThreadId, binding!.ThreadId);
            Assert.Equal(4, binding.MessageCount);
        }

        Assert.StartsWith(k.ThreadPrefix, first.ThreadId, StringComparison.Ordinal);
        Assert.Equal(first.ThreadId, second.ThreadId);
        Assert.Equal(EmulatorScript.DefaultReply("Second message.", 1), second.Text);
        Assert.Equal(1, k.Requests.Count("POST", k.IsResponses ? "/conversations" : "/threads"));
        if (!k.IsResponses)
        {
            Assert.Equal(1, k.Requests.Count("POST", "/assistants")); // the second process found it through the store
        }
    }

    [Fact]
    public async Task ProtocolSwitch_OnAnExistingKey_StartsANewConversation_AndTheAssistantsBindingStays()
    {
        using var folder = new TempFolder();
        var database = folder.File("conversations.db");
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Assistants);

        RunResult before;
        await using (var assistants = k.NewKit(AssistantsProtocol.Assistants, kit: b => b.AddSqliteStore(database)))
        {
            before = await assistants.GetRequiredService<AssistantRunner>().RunAsync("switch", "On Assistants.");
        }

        // The configuration now says Responses: same key, same store. A new conversation, no error, no 404.
        RunResult after;
        await using (var responses = k.NewKit(AssistantsProtocol.Responses, kit: b => b.AddSqliteStore(database)))
        {
            var runner = responses.GetRequiredService<AssistantRunner>();
            after = await runner.RunAsync("switch", "On Responses.");
            var again = await runner.RunAsync("switch", "Still on Responses.");
            Assert.Equal(after.ThreadId, again.ThreadId);
            Assert.Equal(EmulatorScript.DefaultReply("Still on Responses.", 1), again.Text);

            var store = responses.GetRequiredService<IConversationStore>();
            Assert.Equal(before.ThreadId, (await store.GetAsync("switch", AssistantsProtocol.Assistants))!.ThreadId);
            Assert.Equal(after.ThreadId, (await store.GetAsync("switch", AssistantsProtocol.Responses))!.ThreadId);
        }

        Assert.StartsWith("thread_", before.ThreadId, StringComparison.Ordinal);
        Assert.StartsWith("conv_", after.ThreadId, StringComparison.Ordinal);
        Assert.Equal(EmulatorScript.DefaultReply("On Responses.", 0), after.Text); // the Responses conversation starts empty
        Assert.DoesNotContain(k.Requests.All, r => r.StatusCode >= 400);
        Assert.DoesNotContain(k.Requests.All, r => r.Path.StartsWith("/responses", StringComparison.Ordinal) && r.Body.Contains(before.ThreadId, StringComparison.Ordinal));

        // Switching back continues the Assistants thread where it was.
        await using var back = k.NewKit(AssistantsProtocol.Assistants, kit: b => b.AddSqliteStore(database));
        var resumed = await back.GetRequiredService<AssistantRunner>().RunAsync("switch", "Back on Assistants.");
        Assert.Equal(before.ThreadId, resumed.ThreadId);
        Assert.Equal(EmulatorScript.DefaultReply("Back on Assistants.", 1), resumed.Text);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CancelActivePolicy_AfterAToolRound_TheRunningModelStepIsCancelled_AndTheNewMessageGetsItsOwnRun(AssistantsProtocol protocol)
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await ProtocolKit.StartAsync(
            protocol,
            configure: o =>
            {
                ProtocolKit.DefaultPolling(o);
                o.Concurrency = ConcurrencyPolicy.CancelActive;
            },
            time: time,
            emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(1));
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply("late");
        k.Script.OnRun(2).Reply("Second.");

        // The first run's tool round is done and its next model step is running when the second message arrives.
        var first = k.Runner.RunAsync("active", WeatherQuestion);
        // (The kit has the outputs' answer when the binding moves past requires_action: the log shows the request earlier.)
        await Waiting(
            () => k.OutputRounds().Count == 1
                && k.Store.GetAsync("active", protocol).GetAwaiter().GetResult() is { ActiveRunStatus: not RunStatus.RequiresAction and not null },
            time,
            TimeSpan.FromSeconds(1));
        k.Emulator.Options.InProgressDuration = TimeSpan.Zero;
        var second = k.Runner.RunAsync("active", "Second message.");

        var firstResult = await k.DriveAsync(first, TimeSpan.FromMilliseconds(200));
        var secondResult = await k.DriveAsync(second, TimeSpan.FromMilliseconds(200));

        Assert.Equal(RunStatus.Cancelled, firstResult.Status);
        Assert.Equal(RunStatus.Completed, secondResult.Status);
        Assert.Equal("Second.", secondResult.Text);
        var cancel = Assert.Single(k.Requests.Where("POST", k.CancelPath));
        if (k.IsResponses)
        {
            // The response that was running: the follow-up that carried the output, not the one that asked for the tool.
            var followUp = JsonNode.Parse(k.Requests.Where("POST", "/responses")[1].ResponseBody!)!["id"]!.GetValue<string>();
            Assert.Equal($"/responses/{followUp}/cancel", cancel.Path);

            // A cancelled response adds nothing to its conversation, the output it carried included: the output the tool
            // really returned is added, so the call is answered before the second message.
            var (callId, output) = Assert.Single(k.OutputsPostedAsItems());
            Assert.Equal((Assert.Single(firstResult.ToolCalls).ToolCallId, ScenarioTools.ParisOutput), (callId, output));
        }

        Assert.Empty(k.Requests.Where(r => r.StatusCode >= 400));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task CancelActivePolicy_WhileTheActiveRunsToolExecutes_AssistantsCancelsIt_ResponsesLetsItFinishFirst(AssistantsProtocol protocol)
    {
        await using var k = await ProtocolKit.StartAsync(protocol, configure: o => o.Concurrency = ConcurrencyPolicy.CancelActive);
        k.Script.OnRun(1).CallTools(("wait_for_release", "{}")).Reply("First done.");
        k.Script.OnRun(2).Reply("Second.");

        var first = k.Runner.RunAsync("busy", "Wait.");
        await k.Probe.Started.Task.WaitAsync(Deadline);
        var second = k.Runner.RunAsync("busy", "Second message.");
        if (k.IsResponses)
        {
            // No response is running while the tool executes, so there is nothing to cancel: the second message waits.
            await Task.Delay(200);
            Assert.False(second.IsCompleted);
        }
        else
        {
            // The run waiting for tool outputs is cancelled on the server.
            await WaitUntilAsync(() => k.Requests.Count("POST", k.CancelPath) == 1);
        }

        k.Probe.Release.TrySetResult();
        var firstResult = await first.WaitAsync(Deadline);
        var secondResult = await second.WaitAsync(Deadline);

        Assert.Equal(k.IsResponses ? RunStatus.Completed : RunStatus.Cancelled, firstResult.Status);
        Assert.Equal(RunStatus.Completed, secondResult.Status);
        Assert.Equal("Second.", secondResult.Text);
        Assert.Equal(firstResult.ThreadId, secondResult.ThreadId);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1_000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    private static async Task<RunResult> RunAsync(ProtocolKit k, string key, string message, bool streamed)
    {
        if (!streamed)
        {
            return await k.Runner.RunAsync(key, message);
        }

        var events = await CollectAsync(k.Runner.StreamAsync(key, message));
        Assert.Same(Assert.Single(events.OfType<RunFinishedEvent>()), events[^1]);
        return ((RunFinishedEvent)events[^1]).Result!;
    }

    private static async Task<List<RunStreamEvent>> CollectAsync(IAsyncEnumerable<RunStreamEvent> events)
    {
        var list = new List<RunStreamEvent>();
        await foreach (var e in events.WithCancellation(CancellationToken.None))
        {
            list.Add(e);
        }

        return list;
    }

    /// <summary>Advances the fake clock in small steps until <paramref name="condition"/> holds (bounded).</summary>
    private static async Task Waiting(Func<bool> condition, FakeTimeProvider time, TimeSpan? step = null)
    {
        for (var i = 0; i < 2_000 && !condition(); i++)
        {
            await Task.Delay(2);
            if (!condition())
            {
                time.Advance(step ?? TimeSpan.FromMilliseconds(100));
            }
        }

        Assert.True(condition(), "The condition did not hold in time.");
    }
}
