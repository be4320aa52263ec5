using Assistants.Kit.Accounting.Internal;
using Assistants.Kit.Testing;
using Assistants.Kit.Tests.Tools.Wire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Tests.Accounting.Wire;

/// <summary>
/// Cost and token accounting end to end against the emulator. Expected numbers come from the emulator's documented
/// usage formula: per model step, <c>prompt = ceil(chars / 4)</c> over the instructions, the thread's message texts and
/// the run's submitted tool outputs; <c>completion = ceil(chars / 4)</c> over the reply, or the round's argument strings.
/// Prices: gpt-4.1-mini, $0.40 input, $0.10 cached input, $1.60 output per million tokens (the shipped table).
/// </summary>
public sealed class AccountingWireTests
{
    private const string Hello = "Hello there.";          // 12 characters
    private const string HelloReply = "Hi! How can I help?";  // 19 characters
    private const string WeatherQuestion = "Weather in Paris?"; // 17 characters
    private const string ParisArguments = """{"city":"Paris"}"""; // 16 characters
    private const string ParisOutput = "Paris: sunny, 21 C";     // 18 characters
    private const string WeatherReply = "It is sunny in Paris."; // 21 characters

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly DateTimeOffset Day1 = new(WireHarness.Start.Date, TimeSpan.Zero);

    [Fact]
    public void Formula_ConstantsHaveTheLengthsTheExpectedNumbersAssume()
    {
        Assert.Equal(9, WireHarness.Instructions.Length);
        Assert.Equal([12, 19, 17, 16, 18, 21], new[] { Hello, HelloReply, WeatherQuestion, ParisArguments, ParisOutput, WeatherReply }.Select(s => s.Length));
    }

    [Fact]
    public async Task RunAsync_NoTools_ExactUsageAndCost()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).Reply(HelloReply);

        var result = await h.Runner.RunAsync("plain", Hello);

        // prompt = ceil((9 + 12) / 4) = 6; completion = ceil(19 / 4) = 5.
        Assert.Equal(new TokenUsage(6, 5), result.Usage);
        var cost = Assert.IsType<RunCostSummary>(result.Cost);
        Assert.Equal("gpt-4.1-mini", cost.Model);
        Assert.Equal(new TokenUsage(6, 5), cost.Usage);

        // (6 × 0.40 + 5 × 1.60) / 1e6 = 10.4 / 1e6.
        Assert.Equal(0.0000104m, cost.Cost);
        Assert.Equal(0.0000104m, cost.TokenCost);
        Assert.Equal(0m, cost.ToolCost);
        Assert.Equal(0.0000104m, cost.ConversationTotals.Cost);
        Assert.Equal(1, cost.ConversationTotals.Entries);
        Assert.False(cost.StoppedByBudget);
    }

    [Fact]
    public async Task RunAsync_ToolRoundWithCachedAndReasoning_ExactUsageCostAndSteps()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply).WithUsage(cached: 8, reasoning: 3);

        var result = await h.Runner.RunAsync("tools", WeatherQuestion);

        // Tool step: prompt = ceil((9 + 17) / 4) = 7, completion = ceil(16 / 4) = 4.
        // Message step: prompt = ceil((9 + 17 + 18) / 4) = 11, completion = ceil(21 / 4) = 6, plus 3 reasoning = 9; cached min(8, 11).
        // Run: prompt 7 + 11 = 18 (8 cached), completion 4 + 6 + 3 reasoning = 13.
        Assert.Equal(new TokenUsage(18, 13, CachedInputTokens: 8, ReasoningTokens: 3), result.Usage);

        // (10 uncached × 0.40 + 8 cached × 0.10 + 13 × 1.60) / 1e6 = (4 + 0.8 + 20.8) / 1e6.
        var cost = Assert.IsType<RunCostSummary>(result.Cost);
        Assert.Equal(0.0000256m, cost.Cost);
        Assert.Equal(new TokenUsage(18, 13, 8, 3), cost.ConversationTotals.Usage);

        Assert.Equal(2, result.Steps.Count);
        var toolStep = result.Steps[0];
        Assert.Equal(RunStepType.ToolCalls, toolStep.Type);
        Assert.Equal(RunStepState.Completed, toolStep.Status);
        var call = Assert.Single(toolStep.ToolCalls);
        Assert.Equal(RunStepToolCallKind.Function, call.Kind);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal(Assert.Single(result.ToolCalls).ToolCallId, call.Id);
        Assert.Equal(new TokenUsage(7, 4), toolStep.Usage);

        var messageStep = result.Steps[1];
        Assert.Equal(RunStepType.MessageCreation, messageStep.Type);
        Assert.Equal(RunStepState.Completed, messageStep.Status);
        Assert.Empty(messageStep.ToolCalls);
        Assert.Equal(new TokenUsage(11, 9, 8, 3), messageStep.Usage);
        Assert.Equal(result.Steps, cost.Steps);
    }

    [Fact]
    public async Task RunAsync_TwoRunsOnOneKey_ConversationTotalsAddUp()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply).WithUsage(cached: 8, reasoning: 3);
        h.Script.OnRun(2).Reply("You're welcome."); // 15 characters

        var first = await h.Runner.RunAsync("totals", WeatherQuestion);
        var second = await h.Runner.RunAsync("totals", "Thanks!"); // 7 characters
        await h.Runner.RunAsync("another-key", Hello);

        // The second run's prompt holds the whole thread: ceil((9 + 17 + 21 + 7) / 4) = 14; completion ceil(15 / 4) = 4.
        Assert.Equal(new TokenUsage(14, 4), second.Usage);
        Assert.Equal(0.0000256m, first.Cost!.Cost);
        Assert.Equal(0.000012m, second.Cost!.Cost); // (14 × 0.40 + 4 × 1.60) / 1e6

        var totals = second.Cost.ConversationTotals;
        Assert.Equal(2, totals.Entries);
        Assert.Equal(new TokenUsage(32, 17, 8, 3), totals.Usage);
        Assert.Equal(0.0000376m, totals.Cost);
        Assert.True(totals.CostIsComplete);

        var ledger = h.Services.GetRequiredService<IUsageLedger>();
        Assert.Equal(totals, await ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "totals" }));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RunAsync_UnpricedModel_UsageRecordedCostUnknown(bool modelOnRunOptions)
    {
        await using var h = await StartAsync(configure: o =>
        {
            if (!modelOnRunOptions)
            {
                o.Assistant.Model = "acme-llm-1";
            }
        });
        h.Script.OnRun(1).Reply(HelloReply);

        var result = await h.Runner.RunAsync("unpriced", Hello, modelOnRunOptions ? new RunOptions { Model = "acme-llm-1" } : null);

        var createRun = Assert.Single(h.Requests.Where("POST", "/threads/*/runs")).BodyAsJson()!;
        var createAssistant = Assert.Single(h.Requests.Where("POST", "/assistants")).BodyAsJson()!;
        Assert.Equal("acme-llm-1", (string?)(modelOnRunOptions ? createRun["model"] : createAssistant["model"]));

        Assert.Equal(new TokenUsage(6, 5), result.Usage);
        var cost = Assert.IsType<RunCostSummary>(result.Cost);
        Assert.Equal("acme-llm-1", cost.Model);
        Assert.Null(cost.TokenCost);
        Assert.Null(cost.Cost);
        Assert.Contains("cost=unknown", cost.ToString(), StringComparison.Ordinal);
        Assert.False(cost.ConversationTotals.CostIsComplete);

        var recorded = await h.Services.GetRequiredService<IUsageLedger>().GetTotalsAsync(new UsageQuery { ConversationKey = "unpriced" });
        Assert.Equal(new TokenUsage(6, 5), recorded.Usage);
        Assert.Equal(1, recorded.UnpricedEntries);
    }

    public static TheoryData<string> RefusalPaths => ["RunAsync", "StartRunAsync", "StreamAsync"];

    [Theory]
    [MemberData(nameof(RefusalPaths))]
    public async Task Run_BudgetAlreadySpent_RefusedAndNothingSent(string path)
    {
        var time = new FakeTimeProvider(WireHarness.Start);
        await using var h = await StartAsync(time: time, kit: k => k.AddBudget("daily", b => b.Limit = 0.01m));
        await SpendAsync(h, 0.01m);

        var ex = await Assert.ThrowsAsync<BudgetExceededException>(() => path switch
        {
            "RunAsync" => h.Runner.RunAsync("refused", Hello),
            "StartRunAsync" => h.Runner.StartRunAsync("refused", Hello),
            _ => DrainAsync(h.Runner.StreamAsync("refused", Hello)),
        });

        Assert.Empty(h.Requests.All);
        Assert.Equal("daily", ex.BudgetName);
        Assert.Equal(BudgetRefusalReason.LimitReached, ex.Reason);
        Assert.Equal(0.01m, ex.Spent);
        Assert.Equal(0.01m, ex.Limit);
        Assert.Equal(new UsageWindow(Day1, Day1.AddDays(1)), ex.Window);
    }

    [Fact]
    public async Task RunAsync_BudgetFromConfigurationAlreadySpent_RefusedAndNothingSent()
    {
        var time = new FakeTimeProvider(WireHarness.Start);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AssistantsKit:Accounting:Budgets:tenant-tokens:Scope"] = "ConversationKey",
            ["AssistantsKit:Accounting:Budgets:tenant-tokens:Unit"] = "Tokens",
            ["AssistantsKit:Accounting:Budgets:tenant-tokens:Limit"] = "11",
        }).Build();
        await using var h = await StartAsync(time: time, services: s => s.AddSingleton<IConfiguration>(configuration));
        h.Script.Default().Reply(HelloReply);

        var first = await h.Runner.RunAsync("tenant-a", Hello); // 11 tokens: the key's budget is now spent
        Assert.Equal(11, first.Usage!.Value.TotalTokens);
        h.Requests.Clear();

        var ex = await Assert.ThrowsAsync<BudgetExceededException>(() => h.Runner.RunAsync("tenant-a", "Again."));
        await h.Runner.RunAsync("tenant-b", Hello); // another key has its own budget

        Assert.Equal("tenant-tokens", ex.BudgetName);
        Assert.Equal(BudgetScope.ConversationKey, ex.Scope);
        Assert.Equal("tenant-a", ex.ScopeValue);
        Assert.Equal(11m, ex.Spent);
        Assert.DoesNotContain(h.Requests.All, r => r.Path.Contains(first.ThreadId, StringComparison.Ordinal));
        Assert.Equal(1, h.Requests.Count("POST", "/threads/*/runs"));
    }

    [Fact]
    public async Task RunAsync_TwoConcurrentRunsOnlyOneFits_SecondRefusedWhileFirstRunsThenReservationReleased()
    {
        // Worst case of one run: (1000 × 0.40 + 1000 × 1.60) / 1e6 = $0.002; the budget holds one, not two.
        await using var h = await StartAsync(kit: k => k.ConfigureAccounting(o => o.RefuseOnWorstCase = true).AddBudget("daily", b => b.Limit = 0.003m));
        h.Script.OnRun(1).CallTools(("wait_for_release", "{}")).Reply(HelloReply);
        h.Script.OnRun(2).Reply(HelloReply);
        var limits = new RunOptions { MaxPromptTokens = 1000, MaxCompletionTokens = 1000 };
        var probe = h.Services.GetRequiredService<WireProbe>();
        var budgets = ((RunAccounting)h.Services.GetRequiredService<IRunAccounting>()).Budgets;

        var running = h.Runner.RunAsync("first", Hello, limits);
        await probe.Started.Task.WaitAsync(Deadline);
        Assert.Equal(1, budgets.ActiveReservations);
        var sentBefore = h.Requests.All.Count;

        var ex = await Assert.ThrowsAsync<BudgetExceededException>(() => h.Runner.RunAsync("second", Hello, limits));

        Assert.Equal(sentBefore, h.Requests.All.Count);
        Assert.Equal(BudgetRefusalReason.WorstCaseExceedsLimit, ex.Reason);
        Assert.Equal(0m, ex.Spent);
        Assert.Equal(0.002m, ex.Reserved);
        Assert.Equal(0.002m, ex.Requested);

        probe.Release.SetResult();
        var first = await running.WaitAsync(Deadline);
        Assert.Equal(RunStatus.Completed, first.Status);
        Assert.Equal(0, budgets.ActiveReservations);

        // What the first run really cost is spent; the rest of its reservation is free again.
        var third = await h.Runner.RunAsync("third", Hello, limits);
        Assert.Equal(RunStatus.Completed, third.Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Run_StepExceedsStoppingBudget_CancelledAtTheNextToolBoundary(bool streamed)
    {
        await using var h = await StartAsync(kit: k => k.AddBudget("tokens", b =>
        {
            b.Unit = BudgetUnit.Tokens;
            b.Limit = 10;
        }));
        h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).CallTools(("get_weather", """{"city":"Rome"}""")).Reply(WeatherReply);

        var result = await RunAsync(h, "stop", WeatherQuestion, streamed);

        // The first (tool) step used 7 + 4 = 11 tokens. A step's usage is known once it completed, i.e. after its
        // outputs were submitted, so the run stops at the next tool boundary: the second round is never executed.
        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.Equal("budget exceeded", result.StopReason);
        Assert.True(result.Cost!.StoppedByBudget);
        Assert.Single(h.SubmitBodies());
        Assert.Equal(1, h.Requests.Count("POST", "/threads/*/runs/*/cancel"));
        Assert.Single(result.ToolCalls);

        // The cancelled run still used both model steps: (7 + 11) prompt, (4 + 4) completion.
        Assert.Equal(new TokenUsage(18, 8), result.Usage);
        Assert.Equal(new TokenUsage(18, 8), result.Cost.Usage);
    }

    [Fact]
    public async Task RunAsync_StepExceedsLetFinishBudget_RunCompletesAndTheNextRunIsRefused()
    {
        await using var h = await StartAsync(kit: k => k.AddBudget("tokens", b =>
        {
            b.Unit = BudgetUnit.Tokens;
            b.Limit = 10;
            b.OnExceeded = BudgetOverrunBehavior.LetFinish;
        }));
        h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).CallTools(("get_weather", """{"city":"Rome"}""")).Reply(WeatherReply);

        var result = await h.Runner.RunAsync("finish", WeatherQuestion);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Null(result.StopReason);

        // Steps: (7, 4), (ceil((9 + 17 + 18) / 4) = 11, ceil(15 / 4) = 4), (ceil((9 + 17 + 18 + 18) / 4) = 16, ceil(21 / 4) = 6).
        Assert.Equal(new TokenUsage(34, 14), result.Usage);
        Assert.False(result.Cost!.StoppedByBudget);
        Assert.Equal(2, h.SubmitBodies().Count);
        Assert.Equal(0, h.Requests.Count("POST", "/threads/*/runs/*/cancel"));

        var ex = await Assert.ThrowsAsync<BudgetExceededException>(() => h.Runner.RunAsync("finish", "More?"));
        Assert.Equal(48m, ex.Spent);
    }

    [Fact]
    public async Task StreamAsync_SameRunAsPolled_SameUsageCostAndSteps()
    {
        await using var polled = await StartAsync();
        await using var streamed = await StartAsync();
        foreach (var h in new[] { polled, streamed })
        {
            h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply).WithUsage(cached: 8, reasoning: 3);
        }

        var viaPolling = await RunAsync(polled, "same", WeatherQuestion, streamed: false);
        var viaStream = await RunAsync(streamed, "same", WeatherQuestion, streamed: true);

        Assert.Equal(new TokenUsage(18, 13, 8, 3), viaStream.Usage);
        Assert.Equal(viaPolling.Usage, viaStream.Usage);
        Assert.Equal(0.0000256m, viaStream.Cost!.Cost);
        Assert.Equal(viaPolling.Cost!.ConversationTotals, viaStream.Cost.ConversationTotals);
        Assert.Equal(Describe(viaPolling.Steps), Describe(viaStream.Steps));
        Assert.Equal(Describe(viaStream.Steps), Describe(viaStream.Cost.Steps));
        Assert.Equal(viaPolling.ToolCalls.Select(c => c.Output), viaStream.ToolCalls.Select(c => c.Output));

        static IEnumerable<string> Describe(IReadOnlyList<RunStepRecord> steps) =>
            steps.Select(s => $"{s.Type} {s.Status} [{string.Join(",", s.ToolCalls.Select(c => $"{c.Kind}:{c.Name}"))}] {s.Usage} {s.Latency}");
    }

    [Fact]
    public async Task RunAsync_ThresholdCrossedAcrossRuns_OneAlertPerWindow()
    {
        var time = new FakeTimeProvider(WireHarness.Start);
        var alerts = new List<BudgetThresholdAlert>();
        await using var h = await StartAsync(time: time, kit: k => k
            .AddBudget("daily-tokens", b =>
            {
                b.Unit = BudgetUnit.Tokens;
                b.Limit = 40;
                b.AlertThresholds = [0.8m];
            })
            .OnBudgetThreshold((alert, _) =>
            {
                lock (alerts)
                {
                    alerts.Add(alert);
                }

                return ValueTask.CompletedTask;
            }));
        h.Script.Default().Reply(HelloReply);

        // Each run (on its own key, so the prompt stays the same) uses 6 + 5 = 11 tokens: 11, 22, 33 (crosses 32), 44.
        var counts = new List<int>();
        for (var i = 1; i <= 4; i++)
        {
            await h.Runner.RunAsync($"day1-{i}", Hello);
            counts.Add(alerts.Count);
        }

        Assert.Equal([0, 0, 1, 1], counts);
        await Assert.ThrowsAsync<BudgetExceededException>(() => h.Runner.RunAsync("day1-5", Hello));

        time.Advance(TimeSpan.FromDays(1));
        counts.Clear();
        for (var i = 1; i <= 4; i++)
        {
            await h.Runner.RunAsync($"day2-{i}", Hello);
            counts.Add(alerts.Count);
        }

        Assert.Equal([1, 1, 2, 2], counts);
        Assert.Equal(new UsageWindow(Day1, Day1.AddDays(1)), alerts[0].Window);
        Assert.Equal(new UsageWindow(Day1.AddDays(1), Day1.AddDays(2)), alerts[1].Window);
        Assert.All(alerts, a =>
        {
            Assert.Equal("daily-tokens", a.BudgetName);
            Assert.Equal(0.8m, a.Threshold);
            Assert.Equal(33m, a.Spent);
            Assert.Equal(40m, a.Limit);
        });
    }

    [Fact]
    public async Task RunAsync_FakeClock_StepLatenciesEqualTheModelsTime()
    {
        var time = new FakeTimeProvider(WireHarness.Start);
        var clock = new PollingClock(time, TimeSpan.FromSeconds(1));
        await using var h = await StartAsync(
            time: time,
            kitTime: clock,
            emulator: o =>
            {
                o.InProgressDuration = TimeSpan.FromSeconds(3);
                o.PollAfter = TimeSpan.FromSeconds(1);
            });
        h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply);

        var result = await clock.DriveAsync(h.Runner.RunAsync("latency", WeatherQuestion));

        // Created at t0; in_progress for 3 s; requires_action at t0+3 s, seen by the poll at t0+3 s and answered at once;
        // queued, in_progress again for 3 s; the reply at t0+6 s.
        var t0 = WireHarness.Start;
        Assert.Equal(t0, Assert.Single(h.Requests.Where("POST", "/threads/*/runs")).Timestamp);
        Assert.Equal(t0.AddSeconds(3), Assert.Single(h.Requests.Where("POST", "/threads/*/runs/*/submit_tool_outputs")).Timestamp);
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal(2, result.Steps.Count);
        Assert.Equal(t0, result.Steps[0].CreatedAt);
        Assert.Equal(t0.AddSeconds(3), result.Steps[0].CompletedAt);
        Assert.Equal(TimeSpan.FromSeconds(3), result.Steps[0].Latency);
        Assert.Equal(t0.AddSeconds(3), result.Steps[1].CreatedAt);
        Assert.Equal(t0.AddSeconds(6), result.Steps[1].CompletedAt);
        Assert.Equal(TimeSpan.FromSeconds(3), result.Steps[1].Latency);
        Assert.Equal(result.Steps, result.Cost!.Steps);
    }

    [Fact]
    public async Task RunAsync_StepLogOff_NoRunStepsRequest()
    {
        await using var h = await StartAsync(configure: o => o.RunStepLog = false);
        h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply);

        var result = await h.Runner.RunAsync("no-steps", WeatherQuestion);

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Empty(h.Requests.Where("GET", "/threads/*/runs/*/steps"));
        Assert.Empty(result.Steps);
        Assert.Equal(new TokenUsage(18, 10), result.Usage); // accounting still has the run's usage
        Assert.Equal(0.0000232m, result.Cost!.Cost);        // (18 × 0.40 + 10 × 1.60) / 1e6
    }

    [Fact]
    public async Task RunAsync_StepLogOn_OneRunStepsRequestPerRun()
    {
        await using var h = await StartAsync();
        h.Script.OnRun(1).CallTools(("get_weather", ParisArguments)).Reply(WeatherReply);

        await h.Runner.RunAsync("steps", WeatherQuestion);

        Assert.Single(h.Requests.Where("GET", "/threads/*/runs/*/steps"));
    }

    private static async Task<RunResult> RunAsync(WireHarness h, string key, string message, bool streamed)
    {
        if (!streamed)
        {
            return await h.Runner.RunAsync(key, message);
        }

        RunFinishedEvent? finished = null;
        await foreach (var e in h.Runner.StreamAsync(key, message))
        {
            finished = e as RunFinishedEvent ?? finished;
        }

        return Assert.IsType<RunResult>(finished?.Result);
    }

    private static async Task DrainAsync(IAsyncEnumerable<RunStreamEvent> events)
    {
        await foreach (var unused in events)
        {
        }
    }

    private static async Task SpendAsync(WireHarness h, decimal cost)
    {
        var ledger = h.Services.GetRequiredService<IUsageLedger>();
        await ledger.AppendAsync(new UsageEntry
        {
            Timestamp = WireHarness.Start.AddHours(-1),
            ConversationKey = "earlier",
            Model = "gpt-4.1-mini",
            Usage = new TokenUsage(5_000, 5_000),
            TokenCost = cost,
        });
    }

    private static Task<WireHarness> StartAsync(
        Action<IAssistantsKitBuilder>? kit = null,
        Action<AssistantsKitOptions>? configure = null,
        FakeTimeProvider? time = null,
        Action<IServiceCollection>? services = null,
        Action<AssistantsEmulatorOptions>? emulator = null,
        TimeProvider? kitTime = null) =>
        WireHarness.StartAsync(
            kit: k =>
            {
                k.AddTools<WireTools>();
                kit?.Invoke(k);
            },
            configure: configure,
            emulator: emulator,
            time: time,
            kitTime: kitTime,
            services: s =>
            {
                s.AddScoped<RunScopedNotes>().AddSingleton<WireProbe>();
                services?.Invoke(s);
            });
}
