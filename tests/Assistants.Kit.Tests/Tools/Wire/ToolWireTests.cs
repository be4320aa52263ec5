using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Tools.Wire;

/// <summary>
/// Typed tools end to end: <see cref="AssistantRunner.RunAsync"/> against the emulator, asserting on what went over the
/// wire (the emulator's request log: create-assistant, create-run and submit_tool_outputs bodies, cancels).
/// </summary>
public sealed class ToolWireTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RunAsync_ParallelCallsThenSecondRound_OneSubmitPerRoundCarryingEveryCallOnce()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1)
            .CallTools(("get_weather", """{"city":"Paris"}"""), ("get_weather", """{"city":"Oslo"}"""))
            .CallTools(("add", """{"a":2,"b":3}"""))
            .Reply(ctx => $"Paris and Oslo are sunny; 2+3={ctx.ToolOutputs["add"]}.");

        var result = await h.Runner.RunAsync("parallel", "Weather in Paris and Oslo, and 2+3?");

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("Paris and Oslo are sunny; 2+3=5.", result.Text);
        var rounds = h.RequiredRounds();
        Assert.Equal(2, rounds.Count);
        Assert.Equal(2, rounds[0].Count);
        Assert.Single(rounds[1]);

        var submits = h.SubmitBodies();
        Assert.Equal(2, submits.Count);
        for (var i = 0; i < 2; i++)
        {
            var ids = WireHarness.Outputs(submits[i]).Select(o => o.Id).ToList();
            Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(rounds[i].Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        }

        var first = WireHarness.Outputs(submits[0]).ToDictionary(o => o.Id, o => o.Output, StringComparer.Ordinal);
        Assert.Equal("Paris: sunny, 21 C", first[rounds[0][0]]);
        Assert.Equal("Oslo: sunny, 21 C", first[rounds[0][1]]);
        Assert.Equal("5", Assert.Single(WireHarness.Outputs(submits[1])).Output);

        Assert.Equal(3, result.ToolCalls.Count);
        Assert.All(result.ToolCalls, c => Assert.Equal(ToolCallStatus.Succeeded, c.Status));
        Assert.Equal(1, h.Requests.Count("POST", "/threads/*/runs"));
        Assert.Equal(0, h.Requests.Count("POST", "/threads/*/runs/*/cancel"));
    }

    [Fact]
    public async Task RunAsync_ScopedToolClassWithScopedDependency_OneInstancePerRun()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("whoami", "{}"), ("whoami", """{"x":1}""")).CallTools(("whoami", """{"x":2}""")).Reply("ok");
        h.Script.OnRun(2).CallTools(("whoami", "{}")).Reply("ok");

        await h.Runner.RunAsync("scoped", "Who answers?");
        await h.Runner.RunAsync("scoped", "Who answers now?");

        var outputs = h.SubmitBodies().SelectMany(WireHarness.Outputs).Select(o => o.Output).ToList();
        Assert.Equal(4, outputs.Count);
        Assert.Single(outputs.Take(3).Distinct(StringComparer.Ordinal));
        Assert.NotEqual(outputs[0], outputs[3]);
        Assert.Matches("^instance=\\d+ scope=\\d+$", outputs[0]);

        // The tool class and its scoped dependency both changed between the runs.
        var probe = h.Services.GetRequiredService<WireProbe>();
        var instances = probe.Instances.ToArray();
        var scopes = probe.Scopes.ToArray();
        Assert.Single(instances.Take(3).Distinct());
        Assert.Single(scopes.Take(3).Distinct());
        Assert.NotEqual(instances[0], instances[3]);
        Assert.NotEqual(scopes[0], scopes[3]);
    }

    [Theory]
    [InlineData("get_weather", """{"city": "Paris" """, """{"error":{"type":"invalid_arguments","message":"The arguments are not valid JSON: """, false)]
    [InlineData("get_weather", "{}", """{"error":{"type":"invalid_arguments","message":"Missing required argument 'city'."}}""", true)]
    [InlineData("add", """{"a":true,"b":3}""", """{"error":{"type":"invalid_arguments","message":"Argument 'a' is invalid: """, false)]
    [InlineData("add", """{"a":"two","b":3}""", """{"error":{"type":"invalid_arguments","message":"Argument 'a' is invalid: """, false)]
    [InlineData("refund_everything", "{}", """{"error":{"type":"unknown_tool","message":"No tool named 'refund_everything' is available. Available tools: """, false)]
    public async Task RunAsync_BadInput_ErrorOutputSubmittedAndRunCompletes(string tool, string arguments, string expectedOutput, bool exact)
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools((tool, arguments)).Reply(ctx => $"The tool said: {ctx.ToolOutputs[tool]}");

        var result = await h.Runner.RunAsync("bad-input", "Try it.");

        var output = h.SingleOutput();
        if (exact)
        {
            Assert.Equal(expectedOutput, output);
        }
        else
        {
            Assert.StartsWith(expectedOutput, output, StringComparison.Ordinal);
            Assert.NotNull(JsonNode.Parse(output)!["error"]!["message"]);
        }

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal($"The tool said: {output}", result.Text);
        Assert.Equal(output, Assert.Single(result.ToolCalls).Output);
        Assert.Empty(h.Services.GetRequiredService<WireProbe>().Calls); // the handler never ran
    }

    [Fact]
    public async Task RunAsync_UnknownTool_OutputListsTheRegisteredTools()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("refund_everything", "{}")).Reply("ok");

        var result = await h.Runner.RunAsync("unknown-tool", "Refund everything.");

        Assert.Equal(
            """{"error":{"type":"unknown_tool","message":"No tool named 'refund_everything' is available. Available tools: """
            + string.Join(", ", ToolNamesOnTheAssistant(h)) + ".\"}}",
            h.SingleOutput());
        Assert.Equal(ToolCallStatus.UnknownTool, Assert.Single(result.ToolCalls).Status);
    }

    [Theory]
    [InlineData(false, """{"error":{"type":"handler_exception","message":"The tool failed while handling the call."}}""")]
    [InlineData(true, """{"error":{"type":"handler_exception","message":"The inventory database at db.internal:5432 refused the connection.","exception_type":"System.InvalidOperationException"}}""")]
    public async Task RunAsync_HandlerThrows_ErrorOutputWithDetailsOnlyWhenAsked(bool includeDetails, string expectedOutput)
    {
        await using var h = await StartAsync(tools: o => o.IncludeExceptionDetails = includeDetails);
        h.Script.OnRun(1).CallTools(("explode", "{}")).Reply("Sorry, the tool failed.");

        var result = await h.Runner.RunAsync("explode", "Blow up.");

        Assert.Equal(expectedOutput, h.SingleOutput());
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(ToolCallStatus.HandlerException, Assert.Single(result.ToolCalls).Status);
    }

    [Fact]
    public async Task RunAsync_HandlerOutlivesPerCallTimeout_TimeoutOutputAndHandlerTokenCancelled()
    {
        var time = new FakeTimeProvider(WireHarness.Start);
        await using var h = await StartAsync(time: time, tools: o => o.PerCallTimeout = TimeSpan.FromSeconds(5));
        h.Script.OnRun(1).CallTools(("wait_forever", "{}")).Reply("It timed out.");
        var probe = h.Services.GetRequiredService<WireProbe>();

        var run = h.Runner.RunAsync("timeout", "Wait.");
        await probe.Started.Task.WaitAsync(Deadline);
        Assert.Empty(h.SubmitBodies());
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await run.WaitAsync(Deadline);

        await probe.HandlerCancelled.Task.WaitAsync(Deadline);
        Assert.Equal("""{"error":{"type":"timeout","message":"The tool did not complete within 5 seconds."}}""", h.SingleOutput());
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(ToolCallStatus.TimedOut, Assert.Single(result.ToolCalls).Status);
    }

    [Fact]
    public async Task RunAsync_HandlerIgnoresItsToken_AbandonedAfterTheTimeoutAndRunCompletes()
    {
        var time = new FakeTimeProvider(WireHarness.Start);
        await using var h = await StartAsync(time: time, tools: o => o.PerCallTimeout = TimeSpan.FromSeconds(5));
        h.Script.OnRun(1).CallTools(("wait_for_release", "{}")).Reply("It timed out.");
        var probe = h.Services.GetRequiredService<WireProbe>();

        var run = h.Runner.RunAsync("abandoned", "Wait.");
        await probe.Started.Task.WaitAsync(Deadline);
        time.Advance(TimeSpan.FromSeconds(5));
        var result = await run.WaitAsync(Deadline);
        probe.Release.SetResult();

        Assert.Equal("""{"error":{"type":"timeout","message":"The tool did not complete within 5 seconds."}}""", h.SingleOutput());
        Assert.Equal(RunStatus.Completed, result.Status);
    }

    [Fact]
    public async Task RunAsync_ToolCallContext_MatchesTheCallOnTheWire()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("context", """{ "ignored": true }""")).Reply("ok");

        var result = await h.Runner.RunAsync("ctx-key", "Who is calling?");

        var (id, output) = Assert.Single(WireHarness.Outputs(Assert.Single(h.SubmitBodies())));
        Assert.Equal($"ctx-key|{result.ThreadId}|{result.RunId}|{id}|context|{{ \"ignored\": true }}", output);
        Assert.Single(h.Requests.Where("POST", $"/threads/{result.ThreadId}/runs/{result.RunId}/submit_tool_outputs"));
    }

    [Fact]
    public async Task RunAsync_RunExpiresWhileHandlerRuns_ExpiredResult()
    {
        var time = new FakeTimeProvider(WireHarness.Start);
        await using var h = await StartAsync(time: time, tools: o => o.PerCallTimeout = Timeout.InfiniteTimeSpan);
        h.Script.OnRun(1).CallTools(("wait_for_release", "{}")).Reply("never");
        var probe = h.Services.GetRequiredService<WireProbe>();

        var run = h.Runner.RunAsync("expired", "Take your time.");
        await probe.Started.Task.WaitAsync(Deadline);
        time.Advance(TimeSpan.FromMinutes(11)); // past the run's expires_at (10 minutes after its creation)
        probe.Release.SetResult();
        var result = await run.WaitAsync(Deadline);

        // The late submit was refused on the wire; the run's outcome is its status, not a server error.
        Assert.Equal(400, Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs")).StatusCode);
        Assert.Equal(RunStatus.Expired, result.Status);
        Assert.Equal("released", Assert.Single(result.ToolCalls).Output);
    }

    [Fact]
    public async Task RunAsync_OversizedOutput_TruncatedWithMarkerAndRunCompletes()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("big_report", "{}")).Reply("The report is long.");

        var result = await h.Runner.RunAsync("big", "Give me the report.");

        var output = h.SingleOutput();
        var match = System.Text.RegularExpressions.Regex.Match(output, "\n\\[output truncated: showing (\\d+) of 50000 characters\\]$");
        Assert.True(match.Success, output[^80..]);
        var shown = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(WireTools.Report()[..shown] + match.Value, output);
        Assert.True(output.Length <= 32_768, $"The output has {output.Length} characters.");
        Assert.True(output.Length > 32_700, $"The output has {output.Length} characters.");
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(ToolCallStatus.Succeeded, Assert.Single(result.ToolCalls).Status);
    }
    [Fact]
    public async Task RunAsync_SameCallWithCanonicallyIdenticalArgumentsThreeTimes_RunCancelledOnServer()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1)
            .CallTools(("add", """{"a":1,"b":2}"""))
            .CallTools(("add", """{ "b": 2, "a": 1 }"""))
            .CallTools(("add", """{"b":2,"a":1}"""))
            .Reply("never");

        var result = await h.Runner.RunAsync("loop", "Add forever.");

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.NotNull(result.StopReason);
        Assert.Contains("'add'", result.StopReason, StringComparison.Ordinal);
        Assert.Contains("same arguments 3 times", result.StopReason, StringComparison.Ordinal);
        Assert.Equal(2, h.SubmitBodies().Count); // the third identical request is not executed
        Assert.Equal(1, h.Requests.Count("POST", "/threads/*/runs/*/cancel"));
        Assert.Equal(2, result.ToolCalls.Count);
        Assert.Empty(result.Messages);
    }

    [Fact]
    public async Task RunAsync_MoreRoundsThanMaxToolRounds_RunCancelledOnServer()
    {
        await using var h = await StartAsync(tools: o => o.MaxToolRounds = 2);
        h.Script.OnRun(1)
            .CallTools(("add", """{"a":1,"b":1}"""))
            .CallTools(("add", """{"a":2,"b":2}"""))
            .CallTools(("add", """{"a":3,"b":3}"""))
            .Reply("never");

        var result = await h.Runner.RunAsync("rounds", "Keep adding.");

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.NotNull(result.StopReason);
        Assert.Contains("at most 2 tool rounds", result.StopReason, StringComparison.Ordinal);
        Assert.Equal(2, h.SubmitBodies().Count);
        Assert.Equal(1, h.Requests.Count("POST", "/threads/*/runs/*/cancel"));
        Assert.Equal(["2", "4"], h.SubmitBodies().Select(b => Assert.Single(WireHarness.Outputs(b)).Output));
    }

    [Fact]
    public async Task RunAsync_ToolNames_NarrowsTheRunsToolsAndRejectsOthers()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("get_weather", """{"city":"Rome"}"""), ("add", """{"a":1,"b":2}""")).Reply("ok");
        var options = new RunOptions { ToolNames = ["get_weather"] };

        var result = await h.Runner.RunAsync("narrow", "Weather in Rome?", options);

        var createRun = Assert.Single(h.Requests.Where("POST", "/threads/*/runs")).BodyAsJson()!;
        var tools = createRun["tools"]!.AsArray();
        var tool = Assert.Single(tools)!;
        Assert.Equal("function", (string?)tool["type"]);
        Assert.Equal("get_weather", (string?)tool["function"]!["name"]);
        Assert.Equal("Gets the weather of a city.", (string?)tool["function"]!["description"]);

        var outputs = WireHarness.Outputs(Assert.Single(h.SubmitBodies())).ToDictionary(o => o.Id, o => o.Output, StringComparer.Ordinal);
        var ids = h.RequiredRounds()[0];
        Assert.Equal("Rome: sunny, 21 C", outputs[ids[0]]);
        Assert.Equal(
            """{"error":{"type":"unknown_tool","message":"No tool named 'add' is available. Available tools: get_weather."}}""",
            outputs[ids[1]]);
        Assert.Equal(["get_weather"], h.Services.GetRequiredService<WireProbe>().Calls);
        Assert.Equal(RunStatus.Completed, result.Status);
    }

    [Fact]
    public async Task RunAsync_NoToolNames_RunCarriesNoToolsOverride()
    {
        await using var h = await StartAsync();

        await h.Runner.RunAsync("all-tools", "Hello.");

        var createRun = Assert.Single(h.Requests.Where("POST", "/threads/*/runs")).BodyAsJson()!.AsObject();
        Assert.False(createRun.ContainsKey("tools"), createRun.ToJsonString());
    }

    [Fact]
    public async Task RunAsync_ToolNamesNotOnTheAssistant_ArgumentExceptionBeforeTheRun()
    {
        await using var h = await StartAsync();

        var ex = await Assert.ThrowsAsync<ArgumentException>(
            () => h.Runner.RunAsync("narrow", "Hello.", new RunOptions { ToolNames = ["get_weather", "teleport"] }));

        Assert.Contains("teleport", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Requests.Count("POST", "/threads/*/runs"));
    }

    [Fact]
    public async Task RunAsync_ToolDefinitions_CreateAssistantBodyCarriesFunctionSchemas()
    {
        await using var h = await StartAsync();

        await h.Runner.RunAsync("definitions", "Hello.");

        var body = Assert.Single(h.Requests.Where("POST", "/assistants")).BodyAsJson()!;
        var functions = body["tools"]!.AsArray().Select(t => t!["function"]!).ToDictionary(f => (string)f["name"]!, StringComparer.Ordinal);
        Assert.All(body["tools"]!.AsArray(), t => Assert.Equal("function", (string?)t!["type"]));
        Assert.Equal(
            ["add", "big_report", "context", "explode", "get_weather", "wait_for_release", "wait_forever", "whoami"],
            functions.Keys.Order(StringComparer.Ordinal));

        var weather = functions["get_weather"];
        Assert.Equal("Gets the weather of a city.", (string?)weather["description"]);
        var parameters = weather["parameters"]!;
        Assert.Equal("object", (string?)parameters["type"]);
        Assert.Equal("string", (string?)parameters["properties"]!["city"]!["type"]);
        Assert.Equal("The city, e.g. Paris.", (string?)parameters["properties"]!["city"]!["description"]);
        Assert.Equal(["city"], parameters["required"]!.AsArray().Select(n => (string)n!));

        var add = functions["add"]["parameters"]!;
        Assert.Equal("integer", (string?)add["properties"]!["a"]!["type"]);
        Assert.Equal(["a", "b"], add["required"]!.AsArray().Select(n => (string)n!));

        // Injected parameters never reach the schema.
        Assert.Empty(functions["wait_forever"]["parameters"]!["properties"]?.AsObject() ?? []);
        Assert.Empty(functions["context"]["parameters"]!["properties"]?.AsObject() ?? []);
    }

    [Fact]
    public async Task ResolveRunner_InvalidToolName_FailsNamingTheMethodAndNothingIsSent()
    {
        await using var h = await StartAsync(kit: k => k.AddTools<BadlyNamedTools>());

        var ex = Assert.Throws<OptionsValidationException>(() => h.Services.GetRequiredService<AssistantRunner>());

        Assert.Contains("BadlyNamedTools.Look(String)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'look up'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("^[A-Za-z0-9_-]{1,64}$", ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.Requests.All);
    }

    [Fact]
    public async Task ResolveRunner_DuplicateToolName_FailsNamingBothMethodsAndNothingIsSent()
    {
        await using var h = await StartAsync(kit: k => k.AddTools<DuplicateWeatherTools>());

        var ex = Assert.Throws<OptionsValidationException>(() => h.Services.GetRequiredService<AssistantRunner>());

        Assert.Contains("'get_weather' is already used", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DuplicateWeatherTools.Forecast(String)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("WireTools.GetWeather(String)", ex.Message, StringComparison.Ordinal);
        Assert.Empty(h.Requests.All);
    }

    [Fact]
    public async Task RunAsync_CallerCancelsWhileHandlerRuns_HandlerTokenCancelledAndRunCancelledOnServer()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("wait_forever", "{}")).Reply("never");
        var probe = h.Services.GetRequiredService<WireProbe>();
        using var cts = new CancellationTokenSource();

        var run = h.Runner.RunAsync("cancel", "Wait.", cancellationToken: cts.Token);
        await probe.Started.Task.WaitAsync(Deadline);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
        await probe.HandlerCancelled.Task.WaitAsync(Deadline);
        var cancel = Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/cancel"));
        Assert.Equal(200, cancel.StatusCode);
        Assert.Empty(h.SubmitBodies());
    }

    private static Task<WireHarness> StartAsync(
        Action<IAssistantsKitBuilder>? kit = null,
        Action<ToolOptions>? tools = null,
        FakeTimeProvider? time = null) =>
        WireHarness.StartAsync(
            kit: k =>
            {
                k.AddTools<WireTools>();
                if (tools is not null)
                {
                    k.ConfigureTools(tools);
                }

                kit?.Invoke(k);
            },
            time: time,
            services: s => s.AddScoped<RunScopedNotes>().AddSingleton<WireProbe>());

    private static IEnumerable<string> ToolNamesOnTheAssistant(WireHarness h) =>
        Assert.Single(h.Requests.Where("POST", "/assistants")).BodyAsJson()!["tools"]!.AsArray()
            .Select(t => (string)t!["function"]!["name"]!);

    public sealed class BadlyNamedTools
    {
        [AssistantTool("look up")]
        public static string Look(string what) => what;
    }

    public sealed class DuplicateWeatherTools
    {
        [AssistantTool("get_weather")]
        public static string Forecast(string city) => city;
    }
}
