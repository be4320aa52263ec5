using System.Text.Json.Nodes;
using Assistants.Kit.Tests.Protocols;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Streaming;

/// <summary>
/// Edges of the streamed path (one engine loop over the protocol seam's run stream) where the protocols differ: a re-run
/// followed by polling, a run the kit stops, a create that fails twice, a cancellation while a new response is recorded.
/// </summary>
public sealed class StreamedPathEdgeTests
{
    private const string ParisArguments = """{"city":"Paris"}""";

    /// <summary>
    /// A streamed Responses run re-run after a failure and followed by polling: the reply's message events name the
    /// response that wrote the message (the one the run finished on), not the failed one.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Responses_StreamedRerun_MessageEventsCarryTheResponseThatWroteTheMessage(bool withToolRound)
    {
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Responses, configure: o =>
        {
            o.FailedRunRetry.MaxAttempts = 1;
            o.FailedRunRetry.Delay = TimeSpan.Zero;
        });
        k.Script.OnRun(1).Fail("server_error", "Oops.");
        var second = k.Script.OnRun(2);
        if (withToolRound)
        {
            second.CallTools(("get_weather", ParisArguments));
        }

        second.Reply("Second try.");

        var events = await CollectAsync(k.Runner.StreamAsync("rerun-ids", "Hello?"));

        var finished = Assert.IsType<RunFinishedEvent>(events[^1]);
        Assert.Equal(RunStatus.Completed, finished.Status);
        var completed = Assert.Single(events.OfType<MessageCompletedEvent>());
        Assert.Equal(finished.RunId, completed.Message.RunId); // the message belongs to the final response
        Assert.All(
            events.Where(e => e is MessageCreatedEvent or TextDeltaEvent or MessageCompletedEvent),
            e => Assert.Equal(finished.RunId, e.RunId));
    }

    /// <summary>
    /// A Responses run the loop guard stops: every step event agrees with the result's step of the same ID (the response
    /// that asked for the tools is reported once, cancelled, as the polled path has it), and every step is reported.
    /// </summary>
    [Fact]
    public async Task Responses_StreamedLoopGuardStop_StepEventAndResultStepAgree()
    {
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Responses);
        k.Script.OnRun(1)
            .CallTools(("add", """{"a":1,"b":2}"""))
            .CallTools(("add", """{"a":1,"b":2}"""))
            .CallTools(("add", """{"a":1,"b":2}"""))
            .Reply("never");

        var events = await CollectAsync(k.Runner.StreamAsync("loop-steps", "Add forever."));

        var result = Assert.IsType<RunFinishedEvent>(events[^1]).Result!;
        Assert.Equal(RunStatus.Cancelled, result.Status);
        var reported = events.OfType<RunStepCompletedEvent>().ToList();
        Assert.Equal(result.Steps.Select(s => (s.StepId, s.Status)), reported.Select(e => (e.Step.StepId, e.Step.Status)));
        Assert.Equal(RunStepState.Cancelled, reported[^1].Step.Status);
    }

    /// <summary>
    /// Assistants: the streaming create fails ambiguously (connection dropped), no run is found, and the second create
    /// times out on the OpenAI client's network timeout (a cancellation the caller did not ask for): the stream fails with
    /// the kit's <see cref="AssistantsServerException"/>, not a cancellation.
    /// </summary>
    [Fact]
    public async Task Assistants_SecondStreamingCreateTimesOut_SurfacesAsAssistantsServerException()
    {
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Assistants, configure: o =>
        {
            o.Http.NetworkTimeout = TimeSpan.FromSeconds(1);
        });
        k.Script.OnRun(1).Reply("never");
        k.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).DropConnection();
        k.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(2).Delay(TimeSpan.FromSeconds(4));

        var ex = await Record.ExceptionAsync(() => CollectAsync(k.Runner.StreamAsync("timeout", "Hello?")));

        Assert.NotNull(ex);
        Assert.IsType<AssistantsServerException>(ex);
    }

    /// <summary>
    /// Responses, streamed: the caller cancels while the kit records the run's next response in the binding (the store
    /// honours the caller's token, as a real store does): the response that is running is the one cancelled on the server.
    /// </summary>
    [Fact]
    public async Task Responses_StreamedCallerCancellationWhileTheNextResponseIsRecorded_TheRunningResponseIsCancelled()
    {
        var time = new FakeTimeProvider(ProtocolKit.Start);
        using var cts = new CancellationTokenSource();
        var store = new CancelOnNextRunStore(cts);
        await using var k = await ProtocolKit.StartAsync(
            AssistantsProtocol.Responses,
            configure: ProtocolKit.DefaultPolling,
            time: time,
            emulator: e => e.InProgressDuration = TimeSpan.FromSeconds(30),
            services: s => s.AddSingleton<IConversationStore>(sp => store.With(new InMemoryConversationStore(sp.GetRequiredService<TimeProvider>()))));
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply("late");

        var run = Task.Run(() => CollectAsync(k.Runner.StreamAsync("cancel-next", "Weather?", cancellationToken: cts.Token)));
        for (var i = 0; i < 3_000 && !run.IsCompleted; i++)
        {
            await Task.WhenAny(run, Task.Delay(2));
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotNull(store.NextRunId);
        Assert.Contains(k.Requests.Where("POST", "/responses/*/cancel"), r => r.Path == $"/responses/{store.NextRunId}/cancel");
    }

    /// <summary>
    /// Responses, streamed: the caller cancels while <c>POST /responses</c> is in flight. Responses cannot be listed, so a
    /// creation abandoned half-way could leave an unknown response running in the conversation: the kit sees the creation
    /// through (only the HTTP timeouts bound it), learns the response's ID from its first event, and cancels that response.
    /// </summary>
    [Theory]
    [InlineData(1)] // the run's first response
    [InlineData(2)] // the response that carries a tool round's outputs
    public async Task Responses_CallerCancelsWhileTheStreamedCreateIsInFlight_TheResponseIsSeenThroughAndCancelled(int nth)
    {
        var emulatorTime = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await StartOnEmulatorTimeAsync(emulatorTime);
        k.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply("late");
        k.Script.OnRun(2).Reply("Next one.");
        k.Emulator.Faults.On("POST", "/responses").OnNth(nth).Delay(TimeSpan.FromSeconds(2));
        using var cts = new CancellationTokenSource();

        var run = Task.Run(() => CollectAsync(k.Runner.StreamAsync("cancel-create", "Weather?", cancellationToken: cts.Token)));
        for (var i = 0; k.Requests.Count("POST", "/responses") < nth; i++)
        {
            // The first response takes a minute of emulator time before it asks for the tool.
            Assert.True(i < 2_000, "The kit never sent the create.");
            await Task.Delay(5);
            if (k.Requests.Count("POST", "/responses") < nth)
            {
                emulatorTime.Advance(TimeSpan.FromSeconds(1));
            }
        }

        await cts.CancelAsync();
        for (var i = 0; i < 2_000 && !run.IsCompleted; i++)
        {
            // Release the held create (its delay may start a moment after the request was logged); the response it
            // creates stays in progress for a minute of emulator time, far longer than the kit needs to cancel it.
            emulatorTime.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(run, Task.Delay(5));
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        var created = k.Requests.Where("POST", "/responses")[nth - 1];
        Assert.Equal(200, created.StatusCode); // not abandoned
        var responseId = Assert.Single(k.Requests.Where("POST", "/responses/*/cancel")).Path.Split('/')[2];
        var binding = await k.Store.GetAsync("cancel-create", AssistantsProtocol.Responses);
        Assert.Equal(responseId, binding!.ActiveRunId);

        var next = k.Runner.RunAsync("cancel-create", "Hello again.");
        for (var i = 0; i < 2_000 && !next.IsCompleted; i++)
        {
            emulatorTime.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(next, Task.Delay(5));
        }

        Assert.Equal("Next one.", (await next.WaitAsync(TimeSpan.FromSeconds(30))).Text);
    }

    /// <summary>
    /// Responses, streamed: the caller cancels while the tool round's completion is being handed out (before the outputs
    /// are sent). The token is already cancelled when the next POST /responses would go out: it must not be sent.
    /// </summary>
    [Fact]
    public async Task Responses_CallerCancelledBeforeTheToolRoundCreate_NoSecondResponseIsCreated()
    {
        await using var k = await ProtocolKit.StartAsync(AssistantsProtocol.Responses);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}""")).Reply("late");
        using var cts = new CancellationTokenSource();

        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var e in k.Runner.StreamAsync("cancel-before-submit", "Weather?", cancellationToken: cts.Token))
            {
                if (e is ToolCallCompletedEvent)
                {
                    cts.Cancel();
                }
            }
        });

        Assert.IsAssignableFrom<OperationCanceledException>(ex);
        Assert.Equal(1, k.Requests.Count("POST", "/responses"));
    }

    /// <summary>
    /// Responses, streamed: the consumer cancels and stops enumerating at the first event of the tool round's response
    /// (announced by the stream, not yet adopted by the engine): that running response must be the one cancelled.
    /// </summary>
    [Fact]
    public async Task Responses_CancelAndBreakAtTheNextResponsesFirstEvent_TheNextResponseIsCancelled()
    {
        var emulatorTime = new FakeTimeProvider(ProtocolKit.Start);
        await using var k = await StartOnEmulatorTimeAsync(emulatorTime);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}""")).Reply("late");
        using var cts = new CancellationTokenSource();
        string? firstId = null;
        string? nextId = null;

        var run = Task.Run(async () =>
        {
            var submitted = false;
            await foreach (var e in k.Runner.StreamAsync("cancel-break", "Weather?", cancellationToken: cts.Token))
            {
                firstId ??= e.RunId;
                submitted |= e is ToolCallCompletedEvent;
                if (submitted && e.RunId is { } id && id != firstId)
                {
                    nextId = id;
                    cts.Cancel();
                    break;
                }
            }
        });
        for (var i = 0; i < 3_000 && !run.IsCompleted; i++)
        {
            emulatorTime.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(run, Task.Delay(5));
        }

        await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(nextId);
        var cancels = k.Requests.Where("POST", "/responses/*/cancel").Select(r => r.Path).ToList();
        Assert.Contains($"/responses/{nextId}/cancel", cancels);
    }

    /// <summary>A store that, when the binding's active run moves to a second run ID, cancels the caller and honours it.</summary>
    private sealed class CancelOnNextRunStore(CancellationTokenSource caller) : IConversationStore
    {
        private IConversationStore _inner = null!;
        private string? _first;

        public string? NextRunId { get; private set; }

        public IConversationStore With(IConversationStore inner)
        {
            _inner = inner;
            return this;
        }

        public ValueTask<ConversationBinding?> GetAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default) =>
            _inner.GetAsync(conversationKey, protocol, cancellationToken);

        public ValueTask<ConversationBinding> SaveAsync(ConversationBinding binding, CancellationToken cancellationToken = default)
        {
            if (binding.ActiveRunId is { } id)
            {
                _first ??= id;
                if (NextRunId is null && id != _first)
                {
                    NextRunId = id;
                    caller.Cancel();
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            return _inner.SaveAsync(binding, cancellationToken);
        }

        public ValueTask<bool> DeleteAsync(string conversationKey, AssistantsProtocol protocol, CancellationToken cancellationToken = default) =>
            _inner.DeleteAsync(conversationKey, protocol, cancellationToken);

        public IAsyncEnumerable<ConversationBinding> ListAsync(AssistantsProtocol? protocol = null, CancellationToken cancellationToken = default) =>
            _inner.ListAsync(protocol, cancellationToken);

        public ValueTask<AssistantRecord?> GetAssistantAsync(string name, AssistantsProtocol protocol, CancellationToken cancellationToken = default) =>
            _inner.GetAssistantAsync(name, protocol, cancellationToken);

        public ValueTask SaveAssistantAsync(AssistantRecord record, CancellationToken cancellationToken = default) =>
            _inner.SaveAssistantAsync(record, cancellationToken);
    }

    /// <summary>
    /// Responses, with the emulator on <paramref name="emulatorTime"/> (each response in progress for a minute of it, faults
    /// held until it advances) and the kit on the real clock, so a test holds the server while the kit acts.
    /// </summary>
    private static Task<ProtocolKit> StartOnEmulatorTimeAsync(FakeTimeProvider emulatorTime) =>
        ProtocolKit.StartAsync(
            AssistantsProtocol.Responses,
            time: emulatorTime,
            kitTime: TimeProvider.System,
            emulator: e => e.InProgressDuration = TimeSpan.FromMinutes(1));

    private static async Task<List<RunStreamEvent>> CollectAsync(IAsyncEnumerable<RunStreamEvent> events)
    {
        var list = new List<RunStreamEvent>();
        await foreach (var e in events)
        {
            list.Add(e);
        }

        return list;
    }
}
