using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Streaming;

/// <summary>How streamed runs end: failed, incomplete, expired, stopped by the loop guard, cancelled by the caller; the handler class.</summary>
public sealed class StreamedRunOutcomeTests
{
    [Fact]
    public async Task FailedRun_FinishesWithTheRunsError_AndTheHandlerOverloadThrows()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Fail("server_error", "The model fell over.");

        var events = await h.StreamAsync("failed", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Failed, finished.Status);
        Assert.Null(finished.Result);
        Assert.Equal(new RunError("server_error", "The model fell over."), finished.Error);
        Assert.Equal(["status Queued", "status InProgress", "status Failed", "finished Failed"], StreamHarness.Describe(events));
        Assert.Empty(events.OfType<RunErrorEvent>()); // a failed run is an outcome, not a stream error

        var handler = new RecordingHandler();
        var thrown = await Assert.ThrowsAsync<RunFailedException>(() => h.Runner.StreamAsync("failed", "again", handler));
        Assert.Equal("server_error", thrown.Code);
        Assert.Equal("The model fell over.", thrown.Error.Message);
        var last = Assert.IsType<RunFinishedEvent>(handler.Events[^1]);
        Assert.Equal(last.RunId, thrown.RunId);
        Assert.Equal(last.ThreadId, thrown.ThreadId);
        Assert.Equal(finished.ThreadId, thrown.ThreadId); // the same conversation, the same thread
        Assert.Equal(2, h.Requests.Count("POST", "/threads/*/runs"));
    }

    [Fact]
    public async Task IncompleteRun_FinishesIncomplete_WithTheReasonAndTheCutMessage()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply("one two three four five six seven eight").EndIncomplete();

        var events = await h.StreamAsync("incomplete", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Incomplete, finished.Status);
        var result = Assert.IsType<RunResult>(finished.Result);
        Assert.Equal("max_completion_tokens", result.IncompleteReason);
        var message = Assert.Single(events.OfType<MessageCompletedEvent>());
        Assert.True(message.IsIncomplete);
        Assert.Equal("one two three four ", message.Message.Text);
        Assert.Equal(message.Message.Text, StreamHarness.StreamedText(events));
        Assert.Equal(result.Usage, finished.Usage);
        Assert.NotNull(finished.Usage);

        // The handler overload returns an incomplete result; it does not throw.
        var again = await h.Runner.StreamAsync("incomplete", "again", new RecordingHandler());
        Assert.Equal(RunStatus.Incomplete, again.Status);
    }

    [Fact]
    public async Task ExpiredRun_FinishesExpired()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Expire();

        var events = await h.StreamAsync("expired", "hi");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Expired, finished.Status);
        Assert.Equal(RunStatus.Expired, Assert.IsType<RunResult>(finished.Result).Status);
        Assert.Null(finished.Error);
    }

    [Fact]
    public async Task LoopGuard_InsideAStream_CancelsTheRun_AndTheFinishNamesTheStopReason()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default()
            .CallTools(("echo", """{"text":"again"}"""))
            .CallTools(("echo", """{ "text": "again" }"""))
            .CallTools(("echo", """{"text":"again"}"""))
            .Reply("never sent");

        var events = await h.StreamAsync("loop", "loop please");

        var finished = StreamHarness.AssertWellFormed(events);
        Assert.Equal(RunStatus.Cancelled, finished.Status);
        var result = Assert.IsType<RunResult>(finished.Result);
        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.NotNull(result.StopReason);
        Assert.Contains("'echo'", result.StopReason, StringComparison.Ordinal);
        Assert.Contains("3 times", result.StopReason, StringComparison.Ordinal);
        Assert.Equal(ToolLoopStopReason.RepeatedCall, result.ToolLoopStop);
        Assert.Empty(events.OfType<TextDeltaEvent>());

        // Two rounds executed and submitted by stream; the third was never executed: the run was cancelled instead.
        Assert.Equal(2, events.OfType<ToolCallCompletedEvent>().Count());
        Assert.Equal(2, result.ToolCalls.Count);
        Assert.Equal(3, events.Count(e => e is RunStatusChangedEvent { Status: RunStatus.RequiresAction }));
        Assert.Equal(2, h.Requests.Count("POST", "/threads/*/runs/*/submit_tool_outputs"));
        Assert.Equal(1, h.Requests.Count("POST", "/threads/*/runs/*/cancel"));
        Assert.Equal(OpenAI.Assistants.RunStatus.Cancelled, Assert.Single(await h.RunsOnThreadAsync(finished.ThreadId)).Status);
    }

    [Fact]
    public async Task CallerCancellationMidStream_CancelsTheRunOnTheServer_AndTheConversationGoesOn()
    {
        // The first run stays in_progress for a minute of emulated time (never advanced): the stream waits there.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var h = await StreamHarness.StartAsync(new AssistantsEmulatorOptions { TimeProvider = time });
        h.Script.OnRun(1).Reply("never finished").Taking(TimeSpan.FromMinutes(1));
        h.Script.OnRun(2).Reply("Second answer.");

        using var cts = new CancellationTokenSource();
        var seen = new List<RunStreamEvent>();
        var thrown = await Record.ExceptionAsync(async () =>
        {
            await foreach (var e in h.Runner.StreamAsync("cancel", "hi", cancellationToken: cts.Token))
            {
                seen.Add(e);
                if (e is RunStatusChangedEvent { Status: RunStatus.InProgress })
                {
                    await cts.CancelAsync();
                }
            }
        });

        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
        Assert.Equal(["status Queued", "status InProgress"], StreamHarness.Describe(seen));
        var cancel = Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/cancel"));
        Assert.Contains(seen[0].RunId!, cancel.Path, StringComparison.Ordinal);
        Assert.Equal(200, cancel.StatusCode);
        var run = Assert.Single(await h.RunsOnThreadAsync(seen[0].ThreadId));
        Assert.Equal(OpenAI.Assistants.RunStatus.Cancelled, run.Status);

        // The thread has no active run left: the next message on the conversation runs normally.
        var next = await h.StreamAsync("cancel", "still there?");
        var finished = StreamHarness.AssertWellFormed(next);
        Assert.Equal("Second answer.", finished.Result!.Text);
        Assert.Equal(seen[0].ThreadId, finished.ThreadId);
    }

    [Fact]
    public async Task Handler_ReceivesExactlyTheEnumerablesSequence_ThroughItsSpecificMethods()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default()
            .CallTools(("get_weather", """{"city":"Oslo"}"""), ("get_time", """{"zone":"CET"}"""))
            .Reply(ctx => $"It is {ctx.ToolOutputs["get_weather"]} at {ctx.ToolOutputs["get_time"]}.");

        var enumerated = await h.StreamAsync("enumerable", "weather and time?");
        var handler = new RecordingHandler();
        var result = await h.Runner.StreamAsync("handler", "weather and time?", handler);

        StreamHarness.AssertWellFormed(enumerated);
        StreamHarness.AssertWellFormed(handler.Events);

        // Tool execution order is nondeterministic (the calls run in parallel): compare with completions sorted.
        Assert.Equal(Normalize(enumerated), Normalize(handler.Events));
        Assert.Equal(handler.Events.Select(e => e.Kind), handler.Methods);
        Assert.Same(((RunFinishedEvent)handler.Events[^1]).Result, result);
        Assert.Equal("It is sunny in Oslo at 12:00 in CET.", result.Text);
        Assert.Equal(Enum.GetValues<RunStreamEventKind>().Except([RunStreamEventKind.Error]).Order(), handler.Methods.Distinct().Order());

        static List<string> Normalize(IEnumerable<RunStreamEvent> events)
        {
            var lines = StreamHarness.Describe(events);
            var first = lines.FindIndex(l => l.StartsWith("tool.completed", StringComparison.Ordinal));
            var count = lines.Count(l => l.StartsWith("tool.completed", StringComparison.Ordinal));
            lines.Sort(first, count, StringComparer.Ordinal);
            return lines;
        }
    }

    [Fact]
    public async Task Handler_SeesTheErrorEventAndTheRecovery_LikeTheEnumerable()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply("Recovered after the error.").FailStreamAfter(8, "server_error", "Broken.");

        var enumerated = await h.StreamAsync("enumerable", "hi");
        var handler = new RecordingHandler();
        var result = await h.Runner.StreamAsync("handler", "hi", handler);

        Assert.Equal(StreamHarness.Describe(enumerated), StreamHarness.Describe(handler.Events));
        Assert.Equal(handler.Events.Select(e => e.Kind), handler.Methods);
        Assert.Contains(RunStreamEventKind.Error, handler.Methods);
        Assert.Equal("Recovered after the error.", result.Text);
    }

    [Fact]
    public async Task CallerCancellationBeforeTheRunWasAnnounced_FindsTheRunAndCancelsIt()
    {
        // The stream is cut before its first event and the kit's first search for the run hangs (emulated time never
        // advances): the caller cancels there. The run exists although the kit never saw it; it must be cancelled.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var h = await StreamHarness.StartAsync(new AssistantsEmulatorOptions { TimeProvider = time });
        h.Script.Default().Reply("never finished").Taking(TimeSpan.FromMinutes(1)).CutStreamAfter(0);
        var hang = h.Emulator.Faults.On("GET", "/threads/*/runs").OnNth(1).Delay(TimeSpan.FromHours(1));

        using var cts = new CancellationTokenSource();
        var streaming = h.StreamAsync("cancel-early", "hi", cancellationToken: cts.Token);
        await Waiting.UntilAsync(() => hang.Triggered == 1);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => streaming);
        Assert.Single(h.Requests.Where("POST", "/threads/*/runs"));
        var cancel = Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/cancel"));
        Assert.Equal(200, cancel.StatusCode);
        var thread = h.Requests.Where("POST", "/threads/*/runs").Single().Path.Split('/')[2];
        Assert.Equal(OpenAI.Assistants.RunStatus.Cancelled, Assert.Single(await h.RunsOnThreadAsync(thread)).Status);
    }

    [Fact]
    public async Task ServerErrors_SurfaceAsTheKitsException_NotTheOpenAIClients()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.Default().Reply("fine");

        // Refused when the stream is opened.
        var refuse = h.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).RespondWith(400, message: "No such model.", code: "model_not_found");
        var open = await Assert.ThrowsAsync<AssistantsServerException>(() => h.StreamAsync("errors", "hi"));
        Assert.Equal(400, open.Status);
        Assert.Equal("model_not_found", open.ErrorCode);
        Assert.Equal(1, refuse.Triggered);

        // Refused later in the run: the tool outputs' stream.
        await using var tools = await StreamHarness.StartAsync();
        tools.Script.Default().CallTools(("get_weather", """{"city":"Oslo"}""")).Reply("done");
        tools.Emulator.Faults.On("POST", "/threads/*/runs/*/submit_tool_outputs").OnNth(1).RespondWith(400, message: "Bad outputs.", code: "invalid_tool_outputs");
        var later = await Assert.ThrowsAsync<AssistantsServerException>(() => tools.StreamAsync("errors-later", "hi"));
        Assert.Equal(400, later.Status);
        Assert.Equal("invalid_tool_outputs", later.ErrorCode);
        Assert.DoesNotContain(KitServices.TestApiKey, later.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedRunWithTheRerunPolicy_IsRunAgain_AndTheSequenceFinishesOnce()
    {
        await using var h = await StreamHarness.StartAsync(configure: o =>
        {
            o.FailedRunRetry.MaxAttempts = 1;
            o.FailedRunRetry.Delay = TimeSpan.Zero;
        });
        h.Script.OnRun(1).Fail("server_error");
        h.Script.OnRun(2).Reply("Second time lucky.");

        var events = await h.StreamAsync("rerun", "hi");

        var finished = Assert.IsType<RunFinishedEvent>(events[^1]);
        Assert.Single(events.OfType<RunFinishedEvent>());
        Assert.Equal(RunStatus.Completed, finished.Status);
        Assert.Equal("Second time lucky.", finished.Result!.Text);
        Assert.Equal("Second time lucky.", StreamHarness.StreamedText(events));
        var runs = await h.RunsOnThreadAsync(finished.ThreadId);
        Assert.Equal(2, runs.Count);
        var first = events.OfType<RunStatusChangedEvent>().First().RunId;
        Assert.NotEqual(first, finished.RunId);
        Assert.Equal(
            [$"{first} Queued", $"{first} InProgress", $"{first} Failed", $"{finished.RunId} Queued", $"{finished.RunId} Completed"],
            events.OfType<RunStatusChangedEvent>().Select(e => $"{e.RunId} {e.Status}"));
        Assert.All(events.SkipWhile(e => e.RunId == first), e => Assert.Equal(finished.RunId, e.RunId));

        // The result describes the run that produced it: its steps only, the usage summed over both.
        Assert.Equal(["MessageCreation"], finished.Result.Steps.Select(s => s.Type.ToString()));
        Assert.Equal(runs.Sum(r => r.Usage?.InputTokenCount ?? 0), finished.Usage!.Value.InputTokens);
        Assert.Equal(runs.Sum(r => r.Usage?.OutputTokenCount ?? 0), finished.Usage.Value.OutputTokens);
        Assert.Equal(finished.Usage, finished.Result.Usage);
    }

    [Fact]
    public async Task HandlerOnRunCompleted_IsReachedForACompletedRunOnly_ThroughTheDefaultOnRunFinished()
    {
        await using var h = await StreamHarness.StartAsync();
        h.Script.OnRun(1).Reply("Done.");
        h.Script.OnRun(2).EndIncomplete("max_completion_tokens");

        var completed = new CompletionHandler();
        var result = await h.Runner.StreamAsync("completion", "hi", completed);
        var incomplete = new CompletionHandler();
        var cut = await h.Runner.StreamAsync("completion", "again", incomplete);

        Assert.Equal((RunStatus.Completed, RunStatus.Incomplete), (result.Status, cut.Status));
        Assert.Equal("Done.", Assert.Single(completed.Completed).Result!.Text);
        Assert.Empty(incomplete.Completed);
    }

    private sealed class CompletionHandler : RunStreamHandler
    {
        public List<RunFinishedEvent> Completed { get; } = [];

        protected override ValueTask OnRunCompletedAsync(RunFinishedEvent e, CancellationToken cancellationToken)
        {
            Completed.Add(e);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Records every event, and which specific method received it.</summary>
    private sealed class RecordingHandler : RunStreamHandler
    {
        public List<RunStreamEvent> Events { get; } = [];

        public List<RunStreamEventKind> Methods { get; } = [];

        public override ValueTask OnEventAsync(RunStreamEvent streamEvent, CancellationToken cancellationToken)
        {
            Events.Add(streamEvent);
            return base.OnEventAsync(streamEvent, cancellationToken);
        }

        protected override ValueTask OnRunStatusChangedAsync(RunStatusChangedEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.RunStatusChanged);

        protected override ValueTask OnMessageCreatedAsync(MessageCreatedEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.MessageCreated);

        protected override ValueTask OnTextDeltaAsync(TextDeltaEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.TextDelta);

        protected override ValueTask OnMessageCompletedAsync(MessageCompletedEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.MessageCompleted);

        protected override ValueTask OnToolCallCreatedAsync(ToolCallStartedEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.ToolCallStarted);

        protected override ValueTask OnToolCallArgumentsDeltaAsync(ToolCallArgumentsDeltaEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.ToolCallArgumentsDelta);

        protected override ValueTask OnToolCallCompletedAsync(ToolCallCompletedEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.ToolCallCompleted);

        protected override ValueTask OnRunStepCompletedAsync(RunStepCompletedEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.RunStepCompleted);

        protected override ValueTask OnRunFinishedAsync(RunFinishedEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.RunFinished);

        protected override ValueTask OnErrorAsync(RunErrorEvent e, CancellationToken cancellationToken) => Saw(RunStreamEventKind.Error);

        private ValueTask Saw(RunStreamEventKind kind)
        {
            Methods.Add(kind);
            return ValueTask.CompletedTask;
        }
    }
}
