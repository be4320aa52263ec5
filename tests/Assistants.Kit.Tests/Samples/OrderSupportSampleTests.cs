using System.Globalization;
using System.Text.RegularExpressions;
using Assistants.Kit.Testing;
using OrderSupport;

namespace Assistants.Kit.Tests.Samples;

/// <summary>
/// The Order Support sample in-process (<see cref="OrderSupportApp.RunAsync"/>), against its contract: stdout lines, stderr
/// diagnostics, exit codes. Without <c>OPENAI_*</c> in its environment it starts its built-in emulator; the failure cases
/// start their own emulator and pass <c>OPENAI_BASE_URL</c>/<c>OPENAI_API_KEY</c>.
/// </summary>
public sealed partial class OrderSupportSampleTests : IDisposable
{
    private const string WhereIsMyOrder = "Where is my order ORD-12345?";

    private readonly List<string> _directories = [];

    [Fact]
    public async Task OrderQuestion_ToolLineReplyAndUsageLine_Exit0()
    {
        var run = await RunAsync(["Where", "is", "my", "order", "ORD-12345?"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, run.Lines.Count);
        var tool = ToolLine().Match(run.Lines[0]);
        Assert.True(tool.Success, run.Lines[0]);
        Assert.Equal("get_order_status", tool.Groups["name"].Value);
        Assert.Equal("""{"order_id":"ORD-12345"}""", tool.Groups["args"].Value);
        var output = tool.Groups["output"].Value;
        Assert.Equal("""{"order_id":"ORD-12345","found":true,"status":"shipped","tracking_number":"1Z999AA10123"}""", output);

        const string Reply = "Order ORD-12345 is shipped; the tracking number is 1Z999AA10123.";
        Assert.Equal($"assistant: {Reply}", run.Lines[1]);

        // The emulator's usage formula: the tool step, then the reply step (whose prompt holds the tool output).
        var instructions = OrderSupportScript.Instructions.Length;
        long input = Tokens(instructions + WhereIsMyOrder.Length) + Tokens(instructions + WhereIsMyOrder.Length + output.Length);
        long completion = Tokens("""{"order_id":"ORD-12345"}""".Length) + Tokens(Reply.Length);
        var cost = ((input * 0.40m) + (completion * 1.60m)) / 1_000_000m;
        var usage = UsageLine().Match(run.Lines[2]);
        Assert.True(usage.Success, run.Lines[2]);
        Assert.Equal(input, long.Parse(usage.Groups["input"].Value, CultureInfo.InvariantCulture));
        Assert.Equal("0", usage.Groups["cached"].Value);
        Assert.Equal(completion, long.Parse(usage.Groups["output"].Value, CultureInfo.InvariantCulture));
        Assert.Equal("0", usage.Groups["reasoning"].Value);
        Assert.Equal(input + completion, long.Parse(usage.Groups["total"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(cost, decimal.Parse(usage.Groups["cost"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(cost, decimal.Parse(usage.Groups["conversation"].Value, CultureInfo.InvariantCulture));

        Assert.Contains("built-in emulator", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(OrderSupportApp.StateFolder, run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RefundRequest_WithApprove_LookupThenApprovalThenRefund_Exit0(bool poll)
    {
        string[] args = ["--approve", "Please", "refund", "order", "ORD-67890"];
        var run = await RunAsync(poll ? ["--poll", .. args] : args);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            [
                """tool get_order_status {"order_id":"ORD-67890"} -> {"order_id":"ORD-67890","found":true,"status":"processing","tracking_number":null}""",
                """approval process_refund {"order_id":"ORD-67890","reason":"Requested by the customer"} -> approved""",
                """tool process_refund {"order_id":"ORD-67890","reason":"Requested by the customer"} -> {"order_id":"ORD-67890","refunded":true,"amount":249.00,"reason":"Requested by the customer"}""",
                "assistant: Order ORD-67890 is processing. I refunded 249.00 for order ORD-67890.",
            ],
            run.Lines.Take(4));
        Assert.Equal(5, run.Lines.Count);
        Assert.Matches(UsageLine(), run.Lines[4]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RefundRequest_WithoutTerminalOrApprove_IsRejected_AndTheRunStillCompletes(bool poll)
    {
        string[] args = ["Please", "refund", "order", "ORD-67890"];
        var run = await RunAsync(poll ? ["--poll", .. args] : args);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("""approval process_refund {"order_id":"ORD-67890","reason":"Requested by the customer"} -> rejected""", run.Lines[1]);
        Assert.StartsWith("""tool process_refund {"order_id":"ORD-67890","reason":"Requested by the customer"} -> {"error":{"type":"rejected",""", run.Lines[2], StringComparison.Ordinal);
        Assert.StartsWith("assistant: I could not refund the order: A person rejected the call to 'process_refund'", run.Lines[3], StringComparison.Ordinal);
        Assert.Matches(UsageLine(), run.Lines[4]);
    }

    [Theory]
    [InlineData("Y", true)]
    [InlineData(" yes ", true)]
    [InlineData("YES", true)]
    [InlineData("n", false)]
    [InlineData("yeah", false)]
    [InlineData(null, false)] // end of input
    public async Task RefundRequest_OnATerminal_PromptsOnStderr_AndTheAnswerDecides(string? answer, bool approved)
    {
        using var terminal = new StringReader(answer is null ? string.Empty : answer + "\n");
        var run = await RunAsync(["--poll", "Please", "refund", "order", "ORD-67890"], terminal: terminal);

        Assert.Equal(0, run.ExitCode);
        const string Arguments = """{"order_id":"ORD-67890","reason":"Requested by the customer"}""";
        Assert.Contains($"Approve process_refund {Arguments}? [y/N] ", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Approve process_refund", run.Stdout, StringComparison.Ordinal);
        Assert.Equal($"approval process_refund {Arguments} -> {(approved ? "approved" : "rejected")}", run.Lines[1]);
        if (approved)
        {
            Assert.Equal($$"""tool process_refund {{Arguments}} -> {"order_id":"ORD-67890","refunded":true,"amount":249.00,"reason":"Requested by the customer"}""", run.Lines[2]);
            Assert.Equal("assistant: Order ORD-67890 is processing. I refunded 249.00 for order ORD-67890.", run.Lines[3]);
        }
        else
        {
            Assert.StartsWith($$"""tool process_refund {{Arguments}} -> {"error":{"type":"rejected",""", run.Lines[2], StringComparison.Ordinal);
            Assert.StartsWith("assistant: I could not refund the order: A person rejected the call to 'process_refund'", run.Lines[3], StringComparison.Ordinal);
        }

        Assert.Matches(UsageLine(), run.Lines[4]);
    }

    [Theory]
    [InlineData(WhereIsMyOrder)]
    [InlineData("Hello, who are you?")]
    public async Task Poll_SameStdoutAsStreamedDefault(string message)
    {
        var streamed = await RunAsync([message]);
        var polled = await RunAsync(["--poll", message]);

        Assert.Equal(0, streamed.ExitCode);
        Assert.Equal(0, polled.ExitCode);
        Assert.Equal(streamed.Stdout, polled.Stdout);
        Assert.StartsWith("usage input=", streamed.Lines[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "no message")]
    [InlineData(new[] { "--poll" }, "no message")]
    [InlineData(new[] { "--verbose", "Hello" }, "unknown flag --verbose")]
    [InlineData(new[] { "Hello", "--conversation" }, "--conversation needs a KEY")]
    public async Task BadCommandLine_UsageOnStderr_Exit2(string[] args, string error)
    {
        var run = await RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains($"error: {error}", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("usage: dotnet run --project samples/OrderSupport --", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AssistantsKit__Polling__Timeout", "abc", "'AssistantsKit:Polling:Timeout'")]            // the binder cannot convert it
    [InlineData("AssistantsKit__Polling__Timeout", "00:00:00", "Polling")]                            // converts, fails validation
    [InlineData("AssistantsKit__RunDefaults__MaxCompletionTokens", "many", "'AssistantsKit:RunDefaults:MaxCompletionTokens'")]
    public async Task BadConfigurationValue_ErrorLineOnStderr_Exit2_NoStackTrace(string name, string value, string mentioned)
    {
        var run = await RunAsync([WhereIsMyOrder], new() { [name] = value });

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains("error: ", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(mentioned, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeyWithoutBaseUrl_AssistantsProtocol_SunsetMessage_Exit2()
    {
        var run = await RunAsync([WhereIsMyOrder], new() { ["OPENAI_API_KEY"] = "sk-proj-abcdefghijklmnopqrstuvwxyz0123" });

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains("switched its hosted Assistants API off on 2026-08-26", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-proj-abcdefghijklmnopqrstuvwxyz0123", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FailedRun_Exit1_StderrNamesTheCode(bool poll)
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new() { PollAfter = TimeSpan.Zero });
        emulator.Script.Default().Fail("rate_limit_exceeded");

        var run = await RunAsync(poll ? ["--poll", "Hello"] : ["Hello"], Server(emulator));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(
            "run failed: rate_limit_exceeded: You exceeded your current quota, please check your plan and billing details.",
            run.StderrLines);
        Assert.DoesNotContain(run.Lines, l => l.StartsWith("usage ", StringComparison.Ordinal));
        Assert.DoesNotContain(run.Lines, l => l.StartsWith("assistant:", StringComparison.Ordinal)); // no reply, on either path
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RefundAfterApproval_ContinuesTheWayTheRunStarted_StreamedOrPolled(bool poll)
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new() { PollAfter = TimeSpan.Zero });
        OrderSupportScript.Apply(emulator.Script);
        string[] args = ["--approve", "Please", "refund", "order", "ORD-67890"];

        var run = await RunAsync(poll ? ["--poll", .. args] : args, Server(emulator));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("assistant: Order ORD-67890 is processing. I refunded 249.00 for order ORD-67890.", run.Lines[3]);
        // One round with both calls in parallel: the lookup ran at once, the refund after the approval; one submit with
        // both outputs, streamed or not like the run.
        var submit = Assert.Single(emulator.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs")).BodyAsJson()!;
        Assert.Equal(2, submit["tool_outputs"]!.AsArray().Count);
        Assert.Equal(!poll, (bool?)submit["stream"] ?? false);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task IncompleteRun_Exit1_StderrNamesTheReason(bool poll)
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new() { PollAfter = TimeSpan.Zero });
        const string Reply = "A reply that the token limit cuts in half.";
        emulator.Script.Default().Reply(Reply).EndIncomplete();

        var run = await RunAsync(poll ? ["--poll", "Hello"] : ["Hello"], Server(emulator));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("run incomplete: max_completion_tokens", run.StderrLines);
        Assert.Equal($"assistant: {Reply[..(Reply.Length / 2)]}", run.Lines[0]);
        Assert.StartsWith("usage input=", run.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongApiKey_Exit3_StatusAndServerMessageWithoutTheKey()
    {
        const string WrongKey = "sk-wrong-0123456789abcdefghijklmnopqrstuv";
        await using var emulator = await AssistantsEmulator.StartAsync(new() { ApiKey = "sk-right-key", PollAfter = TimeSpan.Zero });

        var run = await RunAsync(["Hello"], Server(emulator, WrongKey));

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("401", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("Incorrect API key provided", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, run.Stdout, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task BudgetFromEnvironment_RefusedBeforeAnythingIsSent_Exit4()
    {
        await using var emulator = await AssistantsEmulator.StartAsync(new() { PollAfter = TimeSpan.Zero });
        var environment = Server(emulator);
        foreach (var (key, value) in RefusingBudget)
        {
            environment[key] = value;
        }

        var run = await RunAsync([WhereIsMyOrder], environment);

        Assert.Equal(4, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains("Budget 'daily'", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(emulator.Requests.All);
    }

    [Fact]
    public async Task BudgetFromEnvironment_BuiltInEmulator_Exit4()
    {
        var run = await RunAsync([WhereIsMyOrder], new(RefusingBudget));

        Assert.Equal(4, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains("Budget 'daily'", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnpricedModel_CostUnknown()
    {
        var run = await RunAsync([WhereIsMyOrder], new() { ["OPENAI_MODEL"] = "acme-llm-1" });

        Assert.Equal(0, run.ExitCode);
        var usage = UsageLine().Match(run.Lines[^1]);
        Assert.True(usage.Success, run.Lines[^1]);
        Assert.Equal("unknown", usage.Groups["cost"].Value);
        Assert.Equal("unknown", usage.Groups["conversation"].Value);
        Assert.NotEqual("0", usage.Groups["total"].Value);
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a temp directory left behind is harmless.
            }
        }
    }

    /// <summary>$0.0001 a day, refusing a run whose worst case (1,000 completion tokens, $0.0016) does not fit.</summary>
    private static Dictionary<string, string?> RefusingBudget => new()
    {
        ["AssistantsKit__Accounting__Budgets__daily__Limit"] = "0.0001",
        ["AssistantsKit__Accounting__RefuseOnWorstCase"] = "true",
        ["AssistantsKit__RunDefaults__MaxCompletionTokens"] = "1000",
    };

    private static long Tokens(int characters) => (characters + 3) / 4;

    [Fact]
    public async Task ASessionKilledAtTheApprovalPrompt_TheNextRunClosesTheLeftoverApproval_AndRunsItsMessage()
    {
        var directory = NewDirectory();

        // The process dies while the prompt waits for an answer: the run stays paused in the stored conversation.
        await Assert.ThrowsAsync<SessionKilledException>(() => RunAsync(["Please", "refund", "order", "ORD-67890"], directory: directory, terminal: new DyingTerminal()));

        var next = await RunAsync(["Where", "is", "my", "order", "ORD-12345?"], directory: directory);

        Assert.Equal(0, next.ExitCode);
        Assert.Contains(next.StderrLines, l => l.StartsWith("closed an undecided approval from an earlier session: process_refund ", StringComparison.Ordinal));
        Assert.DoesNotContain(next.Lines, l => l.StartsWith("approval ", StringComparison.Ordinal)); // nobody was asked this time
        Assert.Equal("assistant: Order ORD-12345 is shipped; the tracking number is 1Z999AA10123.", next.Lines[1]);
        Assert.Equal(3, next.Lines.Count);
    }

    private sealed class SessionKilledException : Exception;

    /// <summary>A terminal whose session ends (the process is killed) while the prompt waits.</summary>
    private sealed class DyingTerminal : TextReader
    {
        public override string? ReadLine() => throw new SessionKilledException();
    }

    [Fact]
    public async Task TelemetryConsole_PrintsSpansAndMetricsOnStderr_StdoutKeepsOnlyTheContractLines()
    {
        var run = await RunAsync(["Where", "is", "my", "order", "ORD-12345?"], new() { ["ASSISTANTS_KIT_TELEMETRY"] = "console" });

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, run.Lines.Count); // tool, assistant, usage: nothing else on stdout
        Assert.Contains(run.StderrLines, l => l.StartsWith("span invoke_agent order-support ", StringComparison.Ordinal) && l.Contains("gen_ai.agent.name=order-support", StringComparison.Ordinal));
        Assert.Contains(run.StderrLines, l => l.StartsWith("span execute_tool get_order_status ", StringComparison.Ordinal));
        Assert.Contains(run.StderrLines, l => l.StartsWith("metric gen_ai.client.token.usage ", StringComparison.Ordinal));
        Assert.DoesNotContain(run.StderrLines.Concat(run.Lines), l => l.Contains("sk-", StringComparison.Ordinal));
    }

    private static Dictionary<string, string?> Server(AssistantsEmulator emulator, string apiKey = "sk-test-key") => new()
    {
        ["OPENAI_BASE_URL"] = emulator.BaseUri.ToString(),
        ["OPENAI_API_KEY"] = apiKey,
    };

    private string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "order-support-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        _directories.Add(directory);
        return directory;
    }

    private async Task<SampleRun> RunAsync(string[] args, Dictionary<string, string?>? environment = null, string? directory = null, TextReader? terminal = null)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var exitCode = await OrderSupportApp.RunAsync(
            args,
            environment ?? [],
            stdout,
            stderr,
            directory ?? NewDirectory(),
            isTerminal: terminal is not null,
            terminal ?? TextReader.Null,
            timeout.Token);
        return new SampleRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    [GeneratedRegex("^tool (?<name>[a-z_]+) (?<args>\\{.*?\\}) -> (?<output>.*)$")]
    private static partial Regex ToolLine();

    [GeneratedRegex("^usage input=(?<input>\\d+) cached=(?<cached>\\d+) output=(?<output>\\d+) reasoning=(?<reasoning>\\d+) total=(?<total>\\d+) cost=\\$?(?<cost>[0-9.]+|unknown) conversation_cost=\\$?(?<conversation>[0-9.]+|unknown)$")]
    private static partial Regex UsageLine();

    private sealed record SampleRun(int ExitCode, string Stdout, string Stderr)
    {
        public IReadOnlyList<string> Lines { get; } = Split(Stdout);

        public IReadOnlyList<string> StderrLines { get; } = Split(Stderr);

        private static string[] Split(string text) =>
            text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
    }
}
