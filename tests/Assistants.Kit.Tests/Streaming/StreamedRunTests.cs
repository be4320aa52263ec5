using Assistants.Kit.Testing;

namespace Assistants.Kit.Tests.Streaming;

/// <summary>Streamed runs over the wire: the kit (through DI) against the emulator, asserting on events and the request log.</summary>
public sealed class StreamedRunTests
{
    private const string Reply = "Hello there, how can I help you today?";

    [Fact]
    public async Task HappyRun_StreamsStatusTextStepsAndExactlyOneFinish()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply(Reply);

        var events = await h.StreamAsync("happy", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(
            [
                "status Queued", "status InProgress", "message.created",
                .. Reply.Split(' ').Select((w, i) => i == 0 ? $"text {w}" : $"text  {w}"),
                $"message.completed {Reply}", "step MessageCreation Completed", "status Completed", "finished Completed",
            ],
            StreamHarness.Describe(events));
        Assert.Equal(RunStatus.Completed, finished.Status);
        var result = Assert.IsType<RunResult>(finished.Result);
        Assert.Equal(Reply, result.Text);
        Assert.Equal(Reply, StreamHarness.StreamedText(events));
        Assert.Null(finished.Error);

        // Usage on the finish: the run's, as the server reports it, and the steps' sum.
        var usage = Assert.IsType<TokenUsage>(finished.Usage);
        Assert.True(usage.InputTokens > 0 && usage.OutputTokens > 0);
        Assert.Equal(usage, result.Usage);
        var step = Assert.Single(result.Steps);
        Assert.Equal(usage, step.Usage);
        Assert.Equal(step, events.OfType<RunStepCompletedEvent>().Single().Step);

        // One thread, one message, one streamed run; no polling.
        Assert.Equal(1, h.Requests.Count("POST", "/threads"));
        Assert.Equal(1, h.Requests.Count("POST", "/threads/*/messages"));
        var create = Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        Assert.True(create.BodyAsJson()!["stream"]!.GetValue<bool>());
        Assert.Equal(0, h.Requests.Count("GET", "/threads/*/runs/*"));
        Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId));
    }

    [Fact]
    public async Task ParallelToolCalls_AreExecutedTogether_AndSubmittedOnceWithTheStreamingSubmit()
    {
        var probe = new RendezvousTools { Expected = 2 };
        await using var h = await StreamHarness.StartAsync(kit: b => b.AddTools(probe).ConfigureTools(t => t.PerCallTimeout = TimeSpan.FromSeconds(10)));
        h.Script.Default()
            .CallTools(("meet", """{"who":"alice"}"""), ("meet", """{"who":"bob"}"""))
            .Reply(ctx => string.Join(" and ", ctx.ToolCalls.Select(c => c.Output)));

        var events = await h.StreamAsync("parallel", "meet them");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal(2, probe.MaxInside);
        var completed = events.OfType<ToolCallCompletedEvent>().ToList();
        Assert.Equal(2, completed.Count);
        Assert.All(completed, c => Assert.Equal(ToolCallStatus.Succeeded, c.Record!.Status));
        Assert.Equal(["met alice", "met bob"], completed.Select(c => c.Record!.Output).Order(StringComparer.Ordinal));
        Assert.Equal("met alice and met bob", finished.Result!.Text);
        Assert.Equal(StreamHarness.StreamedText(events), finished.Result.Text);
        Assert.Equal(completed.Select(c => c.Record!), finished.Result.ToolCalls);

        // The calls were announced before the run asked for them; the sequence then goes on from the submit stream.
        var describe = StreamHarness.Describe(events);
        Assert.True(describe.IndexOf("status RequiresAction") > describe.LastIndexOf("tool.started Function meet #1"));
        Assert.True(describe.IndexOf("status RequiresAction") < events.IndexOf(completed[0]));
        Assert.Equal(["status Queued", "status InProgress", "status RequiresAction", "status Queued", "status InProgress", "status Completed"], describe.Where(d => d.StartsWith("status ", StringComparison.Ordinal)));

        // One submit, streamed, carrying both call IDs exactly once.
        var submit = Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs"));
        var body = submit.BodyAsJson()!;
        Assert.True(body["stream"]!.GetValue<bool>());
        Assert.Equal(
            completed.Select(c => c.ToolCallId).Order(StringComparer.Ordinal),
            body["tool_outputs"]!.AsArray().Select(o => o!["tool_call_id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        Assert.Equal(0, h.Requests.Count("GET", "/threads/*/runs/*"));
    }

    [Fact]
    public async Task TwoToolRounds_TheSecondRequiresActionArrivesInTheSubmitStream()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default()
            .CallTools(("get_weather", """{"city":"Oslo"}"""))
            .CallTools(("get_time", """{"zone":"CET"}"""))
            .Reply(ctx => $"{ctx.ToolOutputs["get_weather"]}, {ctx.ToolOutputs["get_time"]}");

        var events = await h.StreamAsync("rounds", "weather and time?");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal("sunny in Oslo, 12:00 in CET", finished.Result!.Text);
        Assert.Equal(
            [
                "tool.started Function get_weather #0",
                """tool.completed Function get_weather {"city":"Oslo"} -> sunny in Oslo""",
                "step ToolCalls Completed",
                "tool.started Function get_time #0",
                """tool.completed Function get_time {"zone":"CET"} -> 12:00 in CET""",
                "step ToolCalls Completed",
                "step MessageCreation Completed",
            ],
            StreamHarness.Describe(events).Where(d => d.StartsWith("tool.started", StringComparison.Ordinal) || d.StartsWith("tool.completed", StringComparison.Ordinal) || d.StartsWith("step ", StringComparison.Ordinal)));
        Assert.Equal(2, events.Count(e => e is RunStatusChangedEvent { Status: RunStatus.RequiresAction }));
        Assert.Equal(3, finished.Result.Steps.Count);
        Assert.Equal(2, finished.Result.ToolCalls.Count);

        var submits = h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs");
        Assert.Equal(2, submits.Count);
        Assert.All(submits, s => Assert.True(s.BodyAsJson()!["stream"]!.GetValue<bool>()));
        Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        Assert.Equal(0, h.Requests.Count("GET", "/threads/*/runs/*"));
    }

    [Fact]
    public async Task CutBeforeTheFirstEvent_FindsTheRunByItsOperationId_AndFollowsIt()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply(Reply).CutStreamAfter(0);

        var events = await h.StreamAsync("cut-0", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal(Reply, StreamHarness.StreamedText(events));
        Assert.Equal(Reply, finished.Result!.Text);
        Assert.Single(finished.Result.Steps);
        Assert.Single(events.OfType<RunStepCompletedEvent>());

        var create = Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        Assert.True(create.ConnectionDropped);
        Assert.True(h.Requests.Count("GET", "/threads/*/runs") >= 1); // the run was found by listing the thread's runs
        var run = Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId));
        Assert.Equal(finished.RunId, run.Id);
        Assert.StartsWith("op_", run.Metadata["kit_op"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateDroppedBeforeItLanded_IsSentAgain_AndOneRunExists()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply(Reply);
        h.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).DropConnection();

        var events = await h.StreamAsync("drop", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(Reply, StreamHarness.StreamedText(events));
        var creates = h.Requests.Where("POST", "/threads/*/runs");
        Assert.Equal(2, creates.Count);
        Assert.True(creates[0].ConnectionDropped);
        Assert.Equal(0, creates[0].StatusCode);
        Assert.False(creates[1].ConnectionDropped);
        Assert.Equal(creates[0].BodyAsJson()!["metadata"]!["kit_op"]!.GetValue<string>(), creates[1].BodyAsJson()!["metadata"]!["kit_op"]!.GetValue<string>());
        Assert.Equal(finished.RunId, Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId)).Id);
    }

    [Fact]
    public async Task CreateDroppedAfterItLanded_IsAdopted_NotSentAgain()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply(Reply);
        h.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).CommitThenDrop();

        var events = await h.StreamAsync("commit-drop", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal(Reply, StreamHarness.StreamedText(events));
        Assert.Equal(Reply, finished.Result!.Text);
        Assert.Contains(events, e => e is RunStatusChangedEvent { Status: RunStatus.Completed });
        Assert.Single(events.OfType<RunStepCompletedEvent>());

        var create = Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        Assert.True(create.ConnectionDropped);
        Assert.Equal(200, create.StatusCode);
        var search = Assert.Single(h.Requests.Where("GET", "/threads/*/runs")); // found by its kit_op, not created again
        Assert.True(h.Requests.All.ToList().IndexOf(search) > h.Requests.All.ToList().IndexOf(create));
        Assert.Equal(finished.RunId, Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId)).Id);
    }

    [Fact]
    public async Task CutMidText_TextBeforeTheCutPlusTextAfterIsTheMessage()
    {
        await using var h = await StreamHarness.StartAsync();

        // run.created, run.queued, run.in_progress, step.created, step.in_progress, message.created, message.in_progress,
        // then the words: the cut falls after "Hello there,".
        h.Script.Default().Reply(Reply).CutStreamAfter(9);

        var events = await h.StreamAsync("cut-text", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        var texts = events.OfType<TextDeltaEvent>().Select(t => t.Text).ToList();
        Assert.Equal(["Hello", " there,", " how can I help you today?"], texts);
        Assert.Equal(Reply, finished.Result!.Text);
        Assert.Equal(
            ["status Queued", "status InProgress", "message.created", "text Hello", "text  there,", "text  how can I help you today?", $"message.completed {Reply}", "step MessageCreation Completed", "status Completed", "finished Completed"],
            StreamHarness.Describe(events));
        Assert.Equal(finished.Usage, finished.Result.Usage);
        Assert.NotNull(finished.Usage);

        Assert.True(Assert.Single(h.Requests.Where("POST", "/threads/*/runs")).ConnectionDropped);
        Assert.True(h.Requests.Count("GET", "/threads/*/runs/*") >= 1);
        Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId));
    }

    [Fact]
    public async Task CutMidArguments_IsRecoveredByPolling_ToolsRun_AndTheRunCompletes()
    {
        await using var h = await StreamHarness.StartAsync();

        // run.created, run.queued, run.in_progress, step.created, step.in_progress, delta (call 0 announced), then the
        // first 16-character piece of its arguments: the cut falls there.
        h.Script.Default()
            .CallTools(("get_weather", """{"city":"Oslo, Norway"}"""), ("get_time", """{"zone":"Europe/Oslo"}"""))
            .Reply(ctx => $"{ctx.ToolOutputs["get_weather"]}; {ctx.ToolOutputs["get_time"]}")
            .CutStreamAfter(7);

        var events = await h.StreamAsync("cut-args", "weather?");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal("sunny in Oslo, Norway; 12:00 in Europe/Oslo", finished.Result!.Text);
        Assert.Equal(finished.Result.Text, StreamHarness.StreamedText(events));

        // The arguments streamed before the cut, then the rest read from the run; the call the stream never announced
        // is started and given its arguments after the run was read.
        Assert.Equal(
            [
                "tool.started Function get_weather #0", """tool.args {"city":"Oslo, N""", "status RequiresAction", """tool.args orway"}""",
                "tool.started Function get_time #1", """tool.args {"zone":"Europe/Oslo"}""",
            ],
            StreamHarness.Describe(events).SkipWhile(d => !d.StartsWith("tool.", StringComparison.Ordinal)).TakeWhile(d => !d.StartsWith("tool.completed", StringComparison.Ordinal)));
        Assert.Equal(
            ["""get_weather {"city":"Oslo, Norway"}""", """get_time {"zone":"Europe/Oslo"}"""],
            events.OfType<ToolCallCompletedEvent>().Select(c => $"{c.Record!.Name} {c.Record.ArgumentsJson}").Order(StringComparer.Ordinal).Reverse());
        Assert.Equal(2, finished.Result.Steps.Count);

        // Exactly one run; its outputs were submitted once, by the polled submit (the stream was gone).
        Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        var submit = Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.Null(submit.BodyAsJson()!["stream"]);
        Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId));
    }

    [Fact]
    public async Task CutInTheSubmitStream_MidText_IsRecovered()
    {
        await using var h = await StreamHarness.StartAsync();

        // The first stream has 8 events up to requires_action; the submit stream is cut after step.completed, queued,
        // in_progress, step.created, step.in_progress, message.created, message.in_progress and "Oslo".
        h.Script.Default()
            .CallTools(("get_weather", """{"city":"Oslo"}"""))
            .Reply("Oslo is sunny today.")
            .CutStreamAfter(8);

        var events = await h.StreamAsync("cut-submit", "weather?");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(["Oslo", " is sunny today."], events.OfType<TextDeltaEvent>().Select(t => t.Text));
        Assert.Equal("Oslo is sunny today.", finished.Result!.Text);
        Assert.Equal(["ToolCalls", "MessageCreation"], finished.Result.Steps.Select(s => s.Type.ToString()));
        Assert.Equal(2, events.OfType<RunStepCompletedEvent>().Count());
        Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        Assert.True(Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs")).ConnectionDropped);
    }

    [Fact]
    public async Task ErrorEvent_BecomesARunErrorEventWithItsCode_ThenTheRunIsFollowedToItsEnd()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply(Reply).FailStreamAfter(9, "server_error", "Something broke mid-stream.");

        var events = await h.StreamAsync("error-event", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Completed, finished.Status);
        var error = Assert.Single(events.OfType<RunErrorEvent>());
        Assert.Equal("server_error", error.Code);
        Assert.Contains("Something broke mid-stream.", error.Message, StringComparison.Ordinal);
        Assert.Equal(finished.RunId, error.RunId);
        var describe = StreamHarness.Describe(events);
        Assert.Equal(describe.IndexOf("text  there,") + 1, describe.IndexOf("error server_error"));
        Assert.Equal(Reply, StreamHarness.StreamedText(events));
        Assert.Equal(Reply, finished.Result!.Text);
        Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId));
    }

    [Fact]
    public async Task ErrorEvent_CodeAndTypeDiffer_TheEventCarriesTheCodeAndTheServerMessage()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply(Reply).FailStreamAfter(9, "rate_limit_exceeded", "Slow down mid-stream."); // type: server_error

        var events = await h.StreamAsync("error-code", "hi");

        var error = Assert.Single(events.OfType<RunErrorEvent>());
        Assert.Equal("rate_limit_exceeded", error.Code);
        Assert.Equal("Slow down mid-stream.", error.Message);
        Assert.Equal(RunStatus.Completed, StreamHarness.AssertWellFormed(events).Status);
    }

    [Fact]
    public async Task ErrorEventBeforeTheRunWasAnnounced_IsRecoveredByTheOperationId()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply(Reply).FailStreamAfter(0, "server_error", "Nothing sent.");

        var events = await h.StreamAsync("error-first", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        var error = Assert.IsType<RunErrorEvent>(events[0]);
        Assert.Equal("server_error", error.Code);
        Assert.Null(error.RunId);
        Assert.Equal(Reply, StreamHarness.StreamedText(events));
        Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId));
    }

    [Fact]
    public async Task SubmitLandedButTheConnectionDropped_IsNotSubmittedAgain()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().CallTools(("get_weather", """{"city":"Oslo"}""")).Reply(ctx => ctx.ToolOutputs["get_weather"]);
        h.Emulator.Faults.On("POST", "/threads/*/runs/*/submit_tool_outputs").OnNth(1).CommitThenDrop();

        var events = await h.StreamAsync("submit-commit-drop", "weather?");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal("sunny in Oslo", finished.Result!.Text);
        Assert.Equal("sunny in Oslo", StreamHarness.StreamedText(events));
        var submit = Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.True(submit.ConnectionDropped);
    }

    [Fact]
    public async Task SubmitDroppedBeforeItLanded_IsSubmittedAgain_Once()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().CallTools(("get_weather", """{"city":"Oslo"}""")).Reply(ctx => ctx.ToolOutputs["get_weather"]);
        h.Emulator.Faults.On("POST", "/threads/*/runs/*/submit_tool_outputs").OnNth(1).DropConnection();

        var events = await h.StreamAsync("submit-drop", "weather?");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal("sunny in Oslo", finished.Result!.Text);
        Assert.Single(events.OfType<ToolCallCompletedEvent>());
        var submits = h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs");
        Assert.Equal(2, submits.Count);
        Assert.Equal(0, submits[0].StatusCode);
        Assert.Equal(200, submits[1].StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MessageCompleted_CarriesAnnotationsAndImageFiles_StreamedOrRecovered(bool cut)
    {
        await using var h = await StreamHarness.StartAsync();
        var script = h.Script.Default()
            .Reply("See the notes【4:0†notes.txt】 and the chart.")
            .WithAnnotation("【4:0†notes.txt】", "file-notes")
            .WithImageFile("file-chart");
        if (cut)
        {
            script.CutStreamAfter(9); // mid-text: the completed message then comes from the server's copy
        }

        var events = await h.StreamAsync(cut ? "annotations-cut" : "annotations", "notes?");

        var finished = StreamHarness.AssertWellFormed(events);
        var message = Assert.Single(events.OfType<MessageCompletedEvent>()).Message;
        Assert.Equal("See the notes【4:0†notes.txt】 and the chart.", message.Text);
        var annotation = Assert.Single(message.Annotations);
        // The file name comes from the marker; no quote (no file search results in this run to take it from).
        Assert.Equal(new MessageAnnotation("file_citation", "【4:0†notes.txt】", "file-notes", 13, 28, FileName: "notes.txt"), annotation);
        Assert.Equal(["file-chart"], message.ImageFileIds);
        var kept = Assert.Single(finished.Result!.Messages);
        Assert.Equal((message.Id, message.Text), (kept.Id, kept.Text));
        Assert.Equal(message.Annotations, kept.Annotations);
        Assert.Equal(message.ImageFileIds, kept.ImageFileIds);
        Assert.Equal(cut, Assert.Single(h.Requests.Where("POST", "/threads/*/runs")).ConnectionDropped);
    }
}
