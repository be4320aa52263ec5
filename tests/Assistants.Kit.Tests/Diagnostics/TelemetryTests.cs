using System.Collections.Concurrent;
using System.Diagnostics;
using Assistants.Kit.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;

namespace Assistants.Kit.Tests.Diagnostics;

/// <summary>Spans and metrics per the GenAI conventions, captured with an ActivityListener and MetricCollector.</summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly ConcurrentBag<Activity> _activities = [];
    private readonly ActivityListener _listener;

    public TelemetryTests()
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

    private sealed class OrderTools
    {
        [AssistantTool("get_order_status", Description = "Looks up an order.")]
        public static string GetOrderStatus(string order_id) => $$"""{"order_id":"{{order_id}}","status":"shipped"}""";
    }

    private sealed class MixedTools
    {
        [AssistantTool("explode", Description = "Always fails.")]
        public static string Explode(string reason) => throw new InvalidOperationException(reason);

        [AssistantTool("slow_lookup", Description = "Takes a moment.")]
        public static async Task<string> SlowLookupAsync(string key)
        {
            await Task.Delay(60); // the tool's own work: its duration is what the histogram records
            return "value of " + key;
        }
    }

    private static IMeterFactory Meters(EmulatorKit kit) => kit.Services.GetRequiredService<IMeterFactory>();

    private List<Activity> Trace(ActivityTraceId traceId) => [.. _activities.Where(a => a.TraceId == traceId)];

    private static string? Tag(Activity activity, string name) => activity.GetTagItem(name)?.ToString();

    [Fact]
    public async Task ToolCallingRun_EmitsInvokeAgentWithToolAndHttpSpansBeneath_AndMetrics()
    {
        await using var kit = await EmulatorKit.StartAsync(kit: k => k.AddTools<OrderTools>(), services: s => s.AddMetrics());
        kit.Emulator.Script.OnRun(1).CallTools(("get_order_status", """{"order_id":"ORD-1"}"""), ("get_order_status", """{"order_id":"ORD-2"}""")).Reply("Both shipped.");
        var factory = kit.Services.GetRequiredService<IMeterFactory>();
        using var tokens = new MetricCollector<long>(factory, AssistantsKitTelemetry.MeterName, "gen_ai.client.token.usage");
        using var duration = new MetricCollector<double>(factory, AssistantsKitTelemetry.MeterName, "gen_ai.client.operation.duration");
        using var toolCalls = new MetricCollector<long>(factory, AssistantsKitTelemetry.MeterName, "assistants_kit.tool.calls");
        using var polls = new MetricCollector<long>(factory, AssistantsKitTelemetry.MeterName, "assistants_kit.run.polls");

        var result = await kit.Runner.RunAsync("telemetry-key", "Where are ORD-1 and ORD-2?");

        var run = _activities.Single(a => a.DisplayName == "invoke_agent assistant" && Tag(a, "gen_ai.conversation.id") == result.ThreadId);
        Assert.Equal(ActivityKind.Client, run.Kind);
        Assert.Equal("invoke_agent", Tag(run, "gen_ai.operation.name"));
        Assert.Equal("openai", Tag(run, "gen_ai.provider.name"));
        Assert.Equal(result.AssistantId, Tag(run, "gen_ai.agent.id"));
        Assert.Equal("assistant", Tag(run, "gen_ai.agent.name"));
        Assert.Equal("gpt-4.1-mini", Tag(run, "gen_ai.request.model"));
        Assert.Equal("gpt-4.1-mini", Tag(run, "gen_ai.response.model"));
        Assert.Equal(result.Usage!.Value.InputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), Tag(run, "gen_ai.usage.input_tokens"));
        Assert.Equal(result.Usage!.Value.OutputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), Tag(run, "gen_ai.usage.output_tokens"));
        Assert.Equal(result.RunId, Tag(run, "openai.assistants.run.id"));
        Assert.Equal(result.ThreadId, Tag(run, "openai.assistants.thread.id"));
        Assert.Null(Tag(run, "error.type"));
        Assert.Equal(ActivityStatusCode.Unset, run.Status);

        var trace = Trace(run.TraceId);
        var tools = trace.Where(a => a.DisplayName == "execute_tool get_order_status").ToList();
        Assert.Equal(2, tools.Count);
        Assert.All(tools, t =>
        {
            Assert.Equal(run.SpanId, t.ParentSpanId);
            Assert.Equal("execute_tool", Tag(t, "gen_ai.operation.name"));
            Assert.StartsWith("call_", Tag(t, "gen_ai.tool.call.id"), StringComparison.Ordinal);
            Assert.Null(Tag(t, "gen_ai.tool.call.arguments")); // no content by default
            Assert.Null(Tag(t, "gen_ai.tool.call.result"));
        });
        Assert.Contains(trace, a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == run.SpanId);
        Assert.Contains(trace, a => a.DisplayName == "create_agent assistant");
        Assert.DoesNotContain(run.Events, e => e.Name.StartsWith("gen_ai.", StringComparison.Ordinal)); // no content events

        Assert.Contains(tokens.GetMeasurementSnapshot(), m => m.Value == result.Usage.Value.InputTokens && Equals(m.Tags["gen_ai.token.type"], "input"));
        Assert.Contains(tokens.GetMeasurementSnapshot(), m => m.Value == result.Usage.Value.OutputTokens && Equals(m.Tags["gen_ai.token.type"], "output"));
        Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal(2, toolCalls.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(toolCalls.GetMeasurementSnapshot(), m => Assert.Equal("get_order_status", m.Tags["gen_ai.tool.name"]));
        Assert.True(polls.GetMeasurementSnapshot().Single().Value >= 2);
    }

    [Fact]
    public async Task ResponsesProtocol_InvokeAgentSpanWithToolSpans_NoCreateAgentSpan()
    {
        await using var k = await Protocols.ProtocolKit.StartAsync(AssistantsProtocol.Responses);
        k.Script.OnRun(1).CallTools(("get_weather", """{"city":"Paris"}""")).Reply("Sunny.");

        var result = await k.Runner.RunAsync("responses-telemetry", "Weather in Paris?");

        var run = _activities.Single(a => a.DisplayName.StartsWith("invoke_agent ", StringComparison.Ordinal) && Tag(a, "gen_ai.conversation.id") == result.ThreadId);
        Assert.StartsWith("conv_", result.ThreadId, StringComparison.Ordinal);
        Assert.Equal(result.AssistantId, Tag(run, "gen_ai.agent.id"));
        Assert.Equal(result.Usage!.Value.InputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), Tag(run, "gen_ai.usage.input_tokens"));
        var trace = Trace(run.TraceId);
        var tool = Assert.Single(trace, a => a.DisplayName == "execute_tool get_weather");
        Assert.Equal(run.SpanId, tool.ParentSpanId);
        Assert.Contains(trace, a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == run.SpanId);

        // The definition travels with every response: nothing is created on the server, so no create_agent span.
        Assert.DoesNotContain(trace, a => a.DisplayName.StartsWith("create_agent", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailedRun_SpanHasErrorTypeAndStatus()
    {
        await using var kit = await EmulatorKit.StartAsync(services: s => s.AddMetrics());
        kit.Emulator.Script.OnRun(1).Fail("server_error", "boom");
        using var duration = new MetricCollector<double>(kit.Services.GetRequiredService<IMeterFactory>(), AssistantsKitTelemetry.MeterName, "gen_ai.client.operation.duration");

        var ex = await Assert.ThrowsAsync<RunFailedException>(() => kit.Runner.RunAsync("failing-key", "x"));

        var run = _activities.Single(a => a.DisplayName == "invoke_agent assistant" && Tag(a, "gen_ai.conversation.id") == ex.ThreadId);
        Assert.Equal("server_error", Tag(run, "error.type"));
        Assert.Equal(ActivityStatusCode.Error, run.Status);
        Assert.Equal(ex.RunId, Tag(run, "openai.assistants.run.id"));
        Assert.Equal("server_error", duration.GetMeasurementSnapshot().Single().Tags["error.type"]);
    }

    [Fact]
    public async Task BudgetRefusal_SpanErrorAndRefusalCounter_NothingSent()
    {
        await using var kit = await EmulatorKit.StartAsync(
            kit: k => k.AddBudget("zero", b => { b.Scope = BudgetScope.ConversationKey; b.Value = "broke-key"; b.Unit = BudgetUnit.Tokens; b.Limit = 100; b.RefuseOnWorstCase = true; }),
            services: s => s.AddMetrics());
        using var refusals = new MetricCollector<long>(kit.Services.GetRequiredService<IMeterFactory>(), AssistantsKitTelemetry.MeterName, "assistants_kit.budget.refusals");

        await Assert.ThrowsAsync<BudgetExceededException>(() => kit.Runner.RunAsync("broke-key", "x"));

        Assert.Empty(kit.Emulator.Requests.All);
        Assert.Equal(1, refusals.GetMeasurementSnapshot().Single().Value);
        Assert.Contains(_activities, a => a.DisplayName == "invoke_agent assistant" && Tag(a, "error.type") == "budget_exceeded" && a.Status == ActivityStatusCode.Error);
    }

    [Fact]
    public async Task ContentOptIn_RecordsMessagesAndToolArguments()
    {
        await using var kit = await EmulatorKit.StartAsync(o => o.Telemetry.IncludeContent = true, kit: k => k.AddTools<OrderTools>());
        kit.Emulator.Script.OnRun(1).CallTools(("get_order_status", """{"order_id":"ORD-9"}""")).Reply("It shipped.");

        var result = await kit.Runner.RunAsync("content-key", "Where is ORD-9?");

        var run = _activities.Single(a => a.DisplayName == "invoke_agent assistant" && Tag(a, "gen_ai.conversation.id") == result.ThreadId);
        Assert.Contains(run.Events, e => e.Name == "gen_ai.user.message" && Equals(e.Tags.Single().Value, "Where is ORD-9?"));
        Assert.Contains(run.Events, e => e.Name == "gen_ai.assistant.message" && Equals(e.Tags.Single().Value, "It shipped."));
        var tool = Trace(run.TraceId).Single(a => a.DisplayName == "execute_tool get_order_status");
        Assert.Equal("""{"order_id":"ORD-9"}""", Tag(tool, "gen_ai.tool.call.arguments"));
        Assert.Contains("shipped", Tag(tool, "gen_ai.tool.call.result"), StringComparison.Ordinal);
        Assert.Contains(kit.Services.LogLines(), l => l.StartsWith("Trace", StringComparison.Ordinal) && l.Contains("Where is ORD-9?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoContentByDefault_InLogsEither()
    {
        await using var kit = await EmulatorKit.StartAsync(kit: k => k.AddTools<OrderTools>());
        kit.Emulator.Script.OnRun(1).CallTools(("get_order_status", """{"order_id":"ORD-SECRET-77"}""")).Reply("Reply text 77.");

        await kit.Runner.RunAsync("nocontent-key", "Private question 77");

        Assert.All(kit.Services.LogLines(), l =>
        {
            Assert.DoesNotContain("Private question 77", l, StringComparison.Ordinal);
            Assert.DoesNotContain("ORD-SECRET-77", l, StringComparison.Ordinal);
            Assert.DoesNotContain("Reply text 77", l, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task FailingTool_ToolErrorsAndDurationMetrics_AndExecuteToolSpansCarryTheNameAndError()
    {
        await using var kit = await EmulatorKit.StartAsync(kit: k => k.AddTools<MixedTools>(), services: s => s.AddMetrics());
        kit.Emulator.Script.OnRun(1).CallTools(("explode", """{"reason":"kaboom"}"""), ("slow_lookup", """{"key":"a"}""")).Reply("One failed.");
        using var errors = new MetricCollector<long>(Meters(kit), AssistantsKitTelemetry.MeterName, "assistants_kit.tool.errors");
        using var duration = new MetricCollector<double>(Meters(kit), AssistantsKitTelemetry.MeterName, "assistants_kit.tool.duration");

        var result = await kit.Runner.RunAsync("tool-errors-key", "Do both.");

        Assert.Equal(RunStatus.Completed, result.Status);
        var error = Assert.Single(errors.GetMeasurementSnapshot());
        Assert.Equal(1, error.Value);
        Assert.Equal("explode", error.Tags["gen_ai.tool.name"]);
        Assert.Equal(nameof(ToolCallStatus.HandlerException), error.Tags["assistants_kit.tool.status"]);

        var durations = duration.GetMeasurementSnapshot();
        Assert.Equal(2, durations.Count);
        var slow = Assert.Single(durations, m => Equals(m.Tags["gen_ai.tool.name"], "slow_lookup"));
        Assert.InRange(slow.Value, 0.05, 10); // seconds: the tool awaited 60 ms
        var failed = Assert.Single(durations, m => Equals(m.Tags["gen_ai.tool.name"], "explode"));
        Assert.InRange(failed.Value, 0, 10);

        var run = _activities.Single(a => a.DisplayName == "invoke_agent assistant" && Tag(a, "gen_ai.conversation.id") == result.ThreadId);
        var spans = Trace(run.TraceId);
        var explode = Assert.Single(spans, a => a.DisplayName == "execute_tool explode");
        Assert.Equal("explode", Tag(explode, "gen_ai.tool.name"));
        Assert.Equal("function", Tag(explode, "gen_ai.tool.type"));
        Assert.Equal(nameof(ToolCallStatus.HandlerException), Tag(explode, "error.type"));
        Assert.Equal(ActivityStatusCode.Error, explode.Status);
        var lookup = Assert.Single(spans, a => a.DisplayName == "execute_tool slow_lookup");
        Assert.Equal("slow_lookup", Tag(lookup, "gen_ai.tool.name"));
        Assert.Null(Tag(lookup, "error.type"));
        Assert.Equal(ActivityStatusCode.Unset, lookup.Status);
        Assert.Null(Tag(run, "error.type")); // a failing tool does not fail the run: the model got an error object
    }

    [Fact]
    public async Task CreateAgentSpan_CarriesOperationProviderAgentAndModel()
    {
        await using var kit = await EmulatorKit.StartAsync();

        var result = await kit.Runner.RunAsync("create-agent-key", "hi");

        var run = _activities.Single(a => a.DisplayName == "invoke_agent assistant" && Tag(a, "gen_ai.conversation.id") == result.ThreadId);
        var create = Assert.Single(Trace(run.TraceId), a => a.DisplayName == "create_agent assistant");
        Assert.Equal(ActivityKind.Client, create.Kind);
        Assert.Equal(run.SpanId, create.ParentSpanId);
        Assert.Equal("create_agent", Tag(create, "gen_ai.operation.name"));
        Assert.Equal("openai", Tag(create, "gen_ai.provider.name"));
        Assert.Equal(Tag(run, "gen_ai.provider.name"), Tag(create, "gen_ai.provider.name"));
        Assert.Equal("assistant", Tag(create, "gen_ai.agent.name"));
        Assert.Equal(result.AssistantId, Tag(create, "gen_ai.agent.id"));
        Assert.Equal("gpt-4.1-mini", Tag(create, "gen_ai.request.model"));
        Assert.Equal(result.DefinitionVersion, Tag(create, "gen_ai.agent.version"));
        Assert.Equal(ActivityStatusCode.Unset, create.Status);
        Assert.Contains(Trace(run.TraceId), a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == create.SpanId); // POST /assistants beneath it
    }

    [Fact]
    public async Task CostMetric_IsTheRunsPricedCost_WithTheRunTags()
    {
        await using var kit = await EmulatorKit.StartAsync(services: s => s.AddMetrics());
        using var cost = new MetricCollector<double>(Meters(kit), AssistantsKitTelemetry.MeterName, "assistants_kit.cost");

        var result = await kit.Runner.RunAsync("cost-key", "How much is this?");

        var expected = PriceTable.Default.CostOf("gpt-4.1-mini", result.Usage!.Value);
        Assert.NotNull(expected);
        Assert.True(expected > 0);
        Assert.Equal(expected, result.Cost!.Cost);
        var measurement = Assert.Single(cost.GetMeasurementSnapshot());
        Assert.Equal((double)expected!.Value, measurement.Value, 1e-12);
        Assert.Equal("invoke_agent", measurement.Tags["gen_ai.operation.name"]);
        Assert.Equal("openai", measurement.Tags["gen_ai.provider.name"]);
        Assert.Equal("gpt-4.1-mini", measurement.Tags["gen_ai.request.model"]);
        Assert.False(measurement.Tags.ContainsKey("error.type"));
    }

    [Fact]
    public async Task HttpRetriesMetric_CountsEachRetry_ByMethod()
    {
        await using var kit = await EmulatorKit.StartAsync(o => o.Http.RetryBaseDelay = TimeSpan.FromMilliseconds(1), services: s => s.AddMetrics());
        kit.Emulator.Faults.On("GET", "/threads/*/runs/*").OnNth(1).RespondWith(503);
        kit.Emulator.Faults.On("POST", "/threads/*/messages").OnNth(1).RespondWith(429, retryAfterMs: 1);
        using var retries = new MetricCollector<long>(Meters(kit), AssistantsKitTelemetry.MeterName, "assistants_kit.http.retries");

        var result = await kit.Runner.RunAsync("retries-key", "503 then OK");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal([503, 200], kit.Emulator.Requests.Where("GET", "/threads/*/runs/*").Take(2).Select(r => r.StatusCode));
        Assert.Equal([429, 200], kit.Emulator.Requests.Where("POST", "/threads/*/messages").Select(r => r.StatusCode));
        var measurements = retries.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.All(measurements, m => Assert.Equal(1, m.Value));
        Assert.Equal(["GET", "POST"], measurements.Select(m => (string)m.Tags["http.request.method"]!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReconciliationsMetric_CountsAdoptedAndResentWrites()
    {
        await using var kit = await EmulatorKit.StartAsync(services: s => s.AddMetrics());
        kit.Emulator.Faults.On("POST", "/threads/*/messages").OnNth(1).CommitThenDrop(); // landed: adopted
        kit.Emulator.Faults.On("POST", "/threads/*/runs").OnNth(1).DropConnection();     // did not land: resent
        using var reconciliations = new MetricCollector<long>(Meters(kit), AssistantsKitTelemetry.MeterName, "assistants_kit.reconciliations");

        var result = await kit.Runner.RunAsync("reconcile-key", "ambiguous writes");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(1, kit.Emulator.Requests.Count("POST", "/threads/*/messages"));
        Assert.Equal(2, kit.Emulator.Requests.Count("POST", "/threads/*/runs"));
        var measurements = reconciliations.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.All(measurements, m => Assert.Equal(1, m.Value));
        Assert.Equal(["adopted", "resent"], measurements.Select(m => (string)m.Tags["assistants_kit.reconciliation.outcome"]!));
    }

    [Fact]
    public async Task ActiveRunsMetric_GoesUpWhileARunIsWaitedFor_AndBackToZero()
    {
        await using var kit = await EmulatorKit.StartAsync(emulator: e => e.InProgressDuration = TimeSpan.FromSeconds(30), fakeTime: true, services: s => s.AddMetrics());
        kit.Emulator.Script.OnRun(2).Fail("invalid_prompt", "No.");
        using var active = new MetricCollector<long>(Meters(kit), AssistantsKitTelemetry.MeterName, "assistants_kit.runs.active");
        long Active() => active.GetMeasurementSnapshot().Sum(m => m.Value);

        var operation = await kit.Runner.StartRunAsync("active-key", "slow");
        Assert.Equal(1, Active());
        var first = await kit.DriveAsync(operation.WaitForCompletionAsync(), TimeSpan.FromMilliseconds(500));
        Assert.Equal(RunStatus.Completed, first.Status);
        Assert.Equal(0, Active());

        // A failed run is counted out too.
        var second = kit.Runner.RunAsync("active-key", "fails");
        await Assert.ThrowsAsync<RunFailedException>(() => kit.DriveAsync(second, TimeSpan.FromMilliseconds(500)));
        Assert.Equal(0, Active());
        Assert.Equal([1L, -1L, 1L, -1L], active.GetMeasurementSnapshot().Select(m => m.Value));
    }
}
