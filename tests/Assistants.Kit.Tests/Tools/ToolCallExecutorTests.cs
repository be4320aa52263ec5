using System.Collections.Concurrent;
using Assistants.Kit.Tools.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Tools;

/// <summary>Bad input never crashes the run: every failure becomes a documented error output.</summary>
public sealed class ToolCallExecutorTests
{
    // Only ever waited on when a test is about to fail (a handler that should have started did not).
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("""{"text": "unterminated""", "The arguments are not valid JSON:")]
    [InlineData("""[1,2]""", "The arguments must be a JSON object, not array.")]
    [InlineData("""{}""", "Missing required argument 'text'.")]
    [InlineData("""{"text": null}""", "Argument 'text' must not be null.")]
    public async Task Execute_InvalidArguments_ErrorOutput(string arguments, string expectedMessage)
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        ToolCallRecord record = await harness.CallAsync("echo_string", arguments);

        Assert.Equal(ToolCallStatus.InvalidArguments, record.Status);
        (string type, string message, string? exceptionType) = ToolHarness.ReadError(record.Output);
        Assert.Equal(ToolErrorTypes.InvalidArguments, type);
        Assert.StartsWith(expectedMessage, message, StringComparison.Ordinal);
        Assert.Null(exceptionType);
    }

    [Theory]
    [InlineData("numbers", """{"count":"many","big":1,"ratio":1,"price":1}""", "Argument 'count' is invalid:")]
    [InlineData("numbers", """{"count":1.5,"big":1,"ratio":1,"price":1}""", "Argument 'count' is invalid:")]
    [InlineData("numbers", """{"count":3000000000,"big":1,"ratio":1,"price":1}""", "Argument 'count' is invalid:")]
    [InlineData("numbers", """{"count":null,"big":1,"ratio":1,"price":1}""", "Argument 'count' must not be null.")]
    [InlineData("flag", """{"enabled":"yes"}""", "Argument 'enabled' is invalid:")]
    [InlineData("convert", """{"unit":"Kelvin"}""", "Argument 'unit' is invalid:")]
    [InlineData("schedule", """{"at":"next tuesday","id":"6f1c2b1e-8a7d-4a57-9a43-8d1f1f0b3c11"}""", "Argument 'at' is invalid:")]
    [InlineData("schedule", """{"at":"2026-03-01T09:30:00Z","id":"not-a-guid"}""", "Argument 'id' is invalid:")]
    [InlineData("place_order", """{"order":{"customerId":"c","shipTo":"nowhere","items":[]}}""", "Argument 'order' is invalid:")]
    [InlineData("collections", """{"values":"1,2","tags":[],"items":[]}""", "Argument 'values' is invalid:")]
    public async Task Execute_WrongType_InvalidArgumentsNamingTheArgument(string tool, string arguments, string expectedMessage)
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        ToolCallRecord record = await harness.CallAsync(tool, arguments);

        Assert.Equal(ToolCallStatus.InvalidArguments, record.Status);
        Assert.StartsWith(expectedMessage, ToolHarness.ReadError(record.Output).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_ConverterThrowsAnyException_InvalidArguments()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTool("pick", (Picky value) => value.ToString()));

        ToolCallRecord record = await harness.CallAsync("pick", """{"value":"anything"}""");

        Assert.Equal(ToolCallStatus.InvalidArguments, record.Status);
        Assert.Equal("Argument 'value' is invalid: Picky refuses.", ToolHarness.ReadError(record.Output).Message);
    }

    [Fact]
    public async Task Execute_SeveralProblems_AllInOneMessage()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTools<ShapeTools>());

        ToolCallRecord record = await harness.CallAsync("numbers", """{"count":"x","ratio":1}""");

        Assert.Equal(
            "Argument 'count' is invalid: The JSON value could not be converted to System.Int32. Path: $ | LineNumber: 0 | BytePositionInLine: 3. Missing required argument 'big'. Missing required argument 'price'.",
            ToolHarness.ReadError(record.Output).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    public async Task Execute_EmptyArgumentsForParameterlessTool_Succeeds(string arguments)
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTool("ping", () => "pong"));

        Assert.Equal("pong", (await harness.CallAsync("ping", arguments)).Output);
    }

    [Fact]
    public async Task Execute_UnknownTool_ErrorOutputListsAvailableTools()
    {
        var logs = new FakeLogCollector();
        await using var harness = ToolHarness.Create(
            kit => kit.AddTool("ping", () => "pong").AddTool("echo", (string text) => text),
            services => services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs))));

        ToolCallRecord record = await harness.CallAsync("get_weather", "{}");

        Assert.Equal(ToolCallStatus.UnknownTool, record.Status);
        Assert.Equal("""{"error":{"type":"unknown_tool","message":"No tool named 'get_weather' is available. Available tools: ping, echo."}}""", record.Output);
        FakeLogRecord log = Assert.Single(logs.GetSnapshot(), l => l.Id.Id == 2002);
        Assert.Equal(LogLevel.Warning, log.Level);
        Assert.Contains("get_weather", log.Message, StringComparison.Ordinal);
        Assert.Contains(record.ToolCallId, log.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_ToolOutsideTheRunsEnabledTools_IsUnknown()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTool("ping", () => "pong").AddTool("echo", (string text) => text));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();
        ToolExecutionScope scope = ToolHarness.ScopeFor(run.ServiceProvider) with { EnabledTools = new HashSet<string> { "echo" } };

        IReadOnlyList<ToolCallRecord> records = await harness.Executor.ExecuteAsync(
            [harness.Request("ping", "{}"), harness.Request("echo", """{"text":"hi"}""")], scope, CancellationToken.None);

        ToolCallRecord ping = Assert.Single(records, r => r.Name == "ping");
        Assert.Equal(ToolCallStatus.UnknownTool, ping.Status);
        Assert.Equal("No tool named 'ping' is available. Available tools: echo.", ToolHarness.ReadError(ping.Output).Message);
        Assert.Equal("hi", Assert.Single(records, r => r.Name == "echo").Output);
    }

    [Fact]
    public async Task Execute_HandlerThrows_GenericErrorWithoutDetails_LoggedWithNameAndCallId()
    {
        var logs = new FakeLogCollector();
        await using var harness = ToolHarness.Create(
            kit => kit.AddTool("fail", string () => throw new InvalidOperationException("Server=db;Password=secret")),
            services => services.AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs))));

        ToolCallRecord record = await harness.CallAsync("fail", "{}");

        Assert.Equal(ToolCallStatus.HandlerException, record.Status);
        Assert.Equal("""{"error":{"type":"handler_exception","message":"The tool failed while handling the call."}}""", record.Output);
        Assert.DoesNotContain("secret", record.Output, StringComparison.Ordinal);
        FakeLogRecord log = Assert.Single(logs.GetSnapshot(), l => l.Id.Id == 2004);
        Assert.Equal(LogLevel.Error, log.Level);
        Assert.Contains("fail", log.Message, StringComparison.Ordinal);
        Assert.Contains(record.ToolCallId, log.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(log.Exception);
    }

    [Fact]
    public async Task Execute_HandlerThrows_DetailsWhenOptedIn()
    {
        await using var harness = ToolHarness.Create(kit => kit
            .AddTool("fail", async Task<string> () =>
            {
                await Task.Yield();
                throw new KeyNotFoundException("Order A-1 does not exist.");
            })
            .ConfigureTools(o => o.IncludeExceptionDetails = true));

        ToolCallRecord record = await harness.CallAsync("fail", "{}");

        Assert.Equal(ToolCallStatus.HandlerException, record.Status);
        Assert.Equal(
            """{"error":{"type":"handler_exception","message":"Order A-1 does not exist.","exception_type":"System.Collections.Generic.KeyNotFoundException"}}""",
            record.Output);
    }

    [Fact]
    public async Task Execute_HandlerThrowsArgumentException_IsHandlerExceptionNotInvalidArguments()
    {
        // Binding happens before the handler runs, so the handler's own exceptions are never mistaken for bad input.
        await using var harness = ToolHarness.Create(kit => kit.AddTool("fail", string (string text) => throw new ArgumentException("no", nameof(text))));

        Assert.Equal(ToolCallStatus.HandlerException, (await harness.CallAsync("fail", """{"text":"x"}""")).Status);
    }

    [Fact]
    public async Task Execute_Timeout_ErrorOutputAfterPerCallTimeout()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = ToolHarness.Create(
            kit => kit
                .AddTool("slow", async (CancellationToken ct) =>
                {
                    using CancellationTokenRegistration _ = ct.Register(() => handlerCancelled.TrySetResult());
                    started.SetResult();
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                })
                .ConfigureTools(o => o.PerCallTimeout = TimeSpan.FromSeconds(5)),
            time: time);

        Task<ToolCallRecord> call = harness.CallAsync("slow", "{}");
        await started.Task.WaitAsync(Deadline);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        ToolCallRecord record = await call.WaitAsync(Deadline);

        Assert.Equal(ToolCallStatus.TimedOut, record.Status);
        Assert.Equal("""{"error":{"type":"timeout","message":"The tool did not complete within 5 seconds."}}""", record.Output);
        Assert.Equal(TimeSpan.FromSeconds(5), record.Duration);
        await handlerCancelled.Task.WaitAsync(Deadline); // the handler's token was cancelled
    }

    [Fact]
    public async Task Execute_HandlerIgnoringItsToken_StillTimesOut()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = ToolHarness.Create(
            kit => kit.AddTool("stuck", () =>
            {
                started.SetResult();
                return never.Task;
            }),
            time: time);

        Task<ToolCallRecord> call = harness.CallAsync("stuck", "{}");
        await started.Task.WaitAsync(Deadline);
        time.Advance(new ToolOptions().PerCallTimeout);
        ToolCallRecord record = await call.WaitAsync(Deadline);

        Assert.Equal(ToolCallStatus.TimedOut, record.Status);
        Assert.Equal("The tool did not complete within 60 seconds.", ToolHarness.ReadError(record.Output).Message);
    }

    [Fact]
    public async Task Execute_InfiniteTimeout_Allowed()
    {
        await using var harness = ToolHarness.Create(kit => kit
            .AddTool("ping", () => "pong")
            .ConfigureTools(o => o.PerCallTimeout = Timeout.InfiniteTimeSpan));

        Assert.Equal("pong", (await harness.CallAsync("ping", "{}")).Output);
    }

    [Fact]
    public async Task Execute_LongOutput_TruncatedWithMarker()
    {
        await using var harness = ToolHarness.Create(kit => kit
            .AddTool("dump", () => new string('x', 5000))
            .ConfigureTools(o => o.MaxOutputLength = 1024));

        ToolCallRecord record = await harness.CallAsync("dump", "{}");

        Assert.Equal(ToolCallStatus.Succeeded, record.Status);
        Assert.Equal(1024, record.Output.Length);
        Assert.EndsWith("\n[output truncated: showing 973 of 5000 characters]", record.Output, StringComparison.Ordinal);
        Assert.StartsWith(new string('x', 973) + "\n" + ToolOutputs.TruncationMarkerPrefix, record.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncate_NeverSplitsASurrogatePair()
    {
        string output = new string('x', 978) + "😀" + new string('y', 100);

        string truncated = ToolOutput.Truncate(output, 1024);

        Assert.True(truncated.Length <= 1024);
        Assert.False(char.IsHighSurrogate(truncated[truncated.IndexOf('\n', StringComparison.Ordinal) - 1]));
    }

    [Fact]
    public async Task Execute_LongExceptionMessage_ErrorStaysValidJsonWithinLimit()
    {
        await using var harness = ToolHarness.Create(kit => kit
            .AddTool("fail", string () => throw new InvalidOperationException(new string('m', 10_000)))
            .ConfigureTools(o =>
            {
                o.MaxOutputLength = 1024;
                o.IncludeExceptionDetails = true;
            }));

        ToolCallRecord record = await harness.CallAsync("fail", "{}");

        Assert.True(record.Output.Length <= 1024);
        Assert.Equal(ToolErrorTypes.HandlerException, ToolHarness.ReadError(record.Output).Type);
    }

    [Fact]
    public async Task Execute_CallsOverlap_UpToTheBound_AndTheBoundHolds()
    {
        const int Bound = 3;
        const int Calls = 7;
        int current = 0;
        int peak = 0;
        var entered = new ConcurrentQueue<string>();
        var threeInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = ToolHarness.Create(kit => kit
            .AddTool("work", async (ToolCallContext context) =>
            {
                int now = Interlocked.Increment(ref current);
                InterlockedMax(ref peak, now);
                entered.Enqueue(context.ToolCallId);
                if (now == Bound)
                {
                    threeInside.TrySetResult();
                }

                await release.Task;
                Interlocked.Decrement(ref current);
                return context.ToolCallId;
            })
            .ConfigureTools(o => o.MaxConcurrentCalls = Bound));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();
        ToolCallRequest[] requests = [.. Enumerable.Range(0, Calls).Select(_ => harness.Request("work", "{}"))];

        Task<IReadOnlyList<ToolCallRecord>> execution = harness.Executor.ExecuteAsync(requests, ToolHarness.ScopeFor(run.ServiceProvider), CancellationToken.None);
        await threeInside.Task.WaitAsync(Deadline); // three handlers are inside at once: the calls overlap
        Assert.Equal(Bound, Volatile.Read(ref current));
        release.SetResult();
        IReadOnlyList<ToolCallRecord> records = await execution.WaitAsync(Deadline);

        Assert.Equal(Bound, peak); // never more than the bound at once
        Assert.Equal(Calls, entered.Count);
        Assert.Equal(requests.Select(r => r.ToolCallId).Order(), records.Select(r => r.ToolCallId).Order()); // each call exactly once
        Assert.All(records, r => Assert.Equal(r.ToolCallId, r.Output));
    }

    [Fact]
    public async Task Execute_DefaultBound_AllCallsOfARoundRunTogether()
    {
        // A barrier every handler must reach before any may leave: it only opens if all of them run at the same time.
        const int Calls = 8;
        int arrived = 0;
        var allInside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = ToolHarness.Create(kit => kit.AddTool("meet", async () =>
        {
            if (Interlocked.Increment(ref arrived) == Calls)
            {
                allInside.SetResult();
            }

            await allInside.Task;
            return "met";
        }));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();

        IReadOnlyList<ToolCallRecord> records = await harness.Executor
            .ExecuteAsync([.. Enumerable.Range(0, Calls).Select(_ => harness.Request("meet", "{}"))], ToolHarness.ScopeFor(run.ServiceProvider), CancellationToken.None)
            .WaitAsync(Deadline);

        Assert.Equal(Calls, records.Count);
        Assert.All(records, r => Assert.Equal("met", r.Output));
    }

    [Fact]
    public async Task Execute_SynchronousBlockingHandlers_DoNotSerialize()
    {
        using var barrier = new Barrier(2);
        await using var harness = ToolHarness.Create(kit => kit.AddTool("block", () => barrier.SignalAndWait(Deadline) ? "ok" : "alone"));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();

        IReadOnlyList<ToolCallRecord> records = await harness.Executor
            .ExecuteAsync([harness.Request("block", "{}"), harness.Request("block", "{}")], ToolHarness.ScopeFor(run.ServiceProvider), CancellationToken.None)
            .WaitAsync(Deadline);

        Assert.All(records, r => Assert.Equal("ok", r.Output));
    }

    [Fact]
    public async Task Execute_RecordsInCompletionOrder()
    {
        var releaseSlow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = ToolHarness.Create(kit => kit.AddTool("slow", async () =>
        {
            await releaseSlow.Task;
            return "slow";
        }));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();

        // The unknown tool and the invalid arguments are answered without running a handler, so before 'slow' is released.
        Task<IReadOnlyList<ToolCallRecord>> execution = harness.Executor.ExecuteAsync(
            [harness.Request("slow", "{}"), harness.Request("nope", "{}"), harness.Request("slow", "[]")],
            ToolHarness.ScopeFor(run.ServiceProvider),
            CancellationToken.None);
        releaseSlow.SetResult();
        IReadOnlyList<ToolCallRecord> records = await execution.WaitAsync(Deadline);

        Assert.Equal([ToolCallStatus.UnknownTool, ToolCallStatus.InvalidArguments, ToolCallStatus.Succeeded], records.Select(r => r.Status));
    }

    [Fact]
    public async Task Execute_CallerCancellation_ReachesHandlersAndThrows()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerSawCancellation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var harness = ToolHarness.Create(kit => kit.AddTool("wait", async (CancellationToken ct) =>
        {
            started.SetResult();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            catch (OperationCanceledException)
            {
                handlerSawCancellation.SetResult();
                throw;
            }
        }));
        using var cts = new CancellationTokenSource();

        Task<ToolCallRecord> call = harness.CallAsync("wait", "{}", cts.Token);
        await started.Task.WaitAsync(Deadline);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Deadline));
        await handlerSawCancellation.Task.WaitAsync(Deadline);
    }

    [Fact]
    public async Task Execute_AlreadyCancelled_Throws()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTool("ping", () => "pong"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => harness.CallAsync("ping", "{}", new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task Execute_DuplicateToolCallIds_Throws()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTool("ping", () => "pong"));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => harness.Executor.ExecuteAsync(
            [new ToolCallRequest("call_1", "ping", "{}"), new ToolCallRequest("call_1", "ping", "{}")],
            ToolHarness.ScopeFor(run.ServiceProvider),
            CancellationToken.None));
        Assert.Contains("call_1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_NoCalls_NoRecords()
    {
        await using var harness = ToolHarness.Create(kit => kit.AddTool("ping", () => "pong"));
        await using AsyncServiceScope run = harness.Provider.CreateAsyncScope();

        Assert.Empty(await harness.Executor.ExecuteAsync([], ToolHarness.ScopeFor(run.ServiceProvider), CancellationToken.None));
    }

    [Fact]
    public async Task Execute_Duration_MeasuredWithTheInjectedTimeProvider()
    {
        var time = new FakeTimeProvider();
        await using var harness = ToolHarness.Create(kit => kit.AddTool("tick", () => time.Advance(TimeSpan.FromMilliseconds(250))), time: time);

        ToolCallRecord record = await harness.CallAsync("tick", "{}");

        Assert.Equal(TimeSpan.FromMilliseconds(250), record.Duration);
        Assert.Equal(ToolOutputs.Acknowledgement, record.Output);
    }

    [System.Text.Json.Serialization.JsonConverter(typeof(PickyConverter))]
    public sealed class Picky;

    private sealed class PickyConverter : System.Text.Json.Serialization.JsonConverter<Picky>
    {
        public override Picky Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
            throw new InvalidOperationException("Picky refuses.");

        public override void Write(System.Text.Json.Utf8JsonWriter writer, Picky value, System.Text.Json.JsonSerializerOptions options) =>
            writer.WriteStringValue("picky");
    }

    private static void InterlockedMax(ref int location, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref location)) < value && Interlocked.CompareExchange(ref location, value, seen) != seen)
        {
        }
    }
}
