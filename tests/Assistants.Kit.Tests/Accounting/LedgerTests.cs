namespace Assistants.Kit.Tests.Accounting;

public sealed class LedgerTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    [Fact]
    public void Window_Utc_DayAndMonthBoundaries()
    {
        var lastSecondOfMarch = new DateTimeOffset(2026, 3, 31, 23, 59, 59, TimeSpan.Zero);

        Assert.Equal(
            new UsageWindow(new DateTimeOffset(2026, 3, 31, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)),
            UsageWindow.For(BudgetPeriod.Day, lastSecondOfMarch));
        Assert.Equal(
            new UsageWindow(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)),
            UsageWindow.For(BudgetPeriod.Month, lastSecondOfMarch));
        Assert.Equal(
            new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero),
            UsageWindow.For(BudgetPeriod.Day, lastSecondOfMarch.AddSeconds(1)).Start);
    }

    [Fact]
    public void Window_InAZone_StartsAtLocalMidnight()
    {
        // 22:30 UTC on 31 March is 00:30 on 1 April in Berlin (CEST, UTC+2).
        var instant = new DateTimeOffset(2026, 3, 31, 22, 30, 0, TimeSpan.Zero);

        Assert.Equal(
            new UsageWindow(new DateTimeOffset(2026, 3, 31, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 22, 0, 0, TimeSpan.Zero)),
            UsageWindow.For(BudgetPeriod.Day, instant, Berlin));
        Assert.Equal(
            new UsageWindow(new DateTimeOffset(2026, 3, 31, 22, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 30, 22, 0, 0, TimeSpan.Zero)),
            UsageWindow.For(BudgetPeriod.Month, instant, Berlin));

        // The day the clocks go forward (29 March 2026) has 23 hours; the month of March starts in winter time.
        Assert.Equal(
            new UsageWindow(new DateTimeOffset(2026, 3, 28, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 29, 22, 0, 0, TimeSpan.Zero)),
            UsageWindow.For(BudgetPeriod.Day, new DateTimeOffset(2026, 3, 29, 12, 0, 0, TimeSpan.Zero), Berlin));
        Assert.Equal(
            new UsageWindow(new DateTimeOffset(2026, 2, 28, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 31, 22, 0, 0, TimeSpan.Zero)),
            UsageWindow.For(BudgetPeriod.Month, new DateTimeOffset(2026, 3, 15, 12, 0, 0, TimeSpan.Zero), Berlin));
    }

    [Fact]
    public async Task Totals_ByKeyThreadRunAssistantModelTagAndWindow()
    {
        var ledger = new InMemoryUsageLedger();
        var day1 = new DateTimeOffset(2026, 4, 1, 10, 0, 0, TimeSpan.Zero);
        var acme = new Dictionary<string, string> { ["tenant"] = "acme", ["feature"] = "chat" };
        var globex = new Dictionary<string, string> { ["tenant"] = "globex", ["feature"] = "chat" };
        await ledger.AppendAsync(Entry(day1, "conv-1", "thread_1", "run_1", "asst_1", "gpt-4.1-mini-2025-04-14", acme, 100, 10, 0.01m));
        await ledger.AppendAsync(Entry(day1.AddHours(1), "conv-1", "thread_1", "run_2", "asst_1", "o3-mini", acme, 200, 20, 0.02m));
        await ledger.AppendAsync(Entry(day1.AddDays(1), "conv-2", "thread_2", "run_3", "asst_2", "o3", globex, 400, 40, 0.04m));
        await ledger.AppendAsync(Entry(day1.AddDays(1), "conv-2", "thread_2", "run_4", "asst_2", "unpriced", globex, 800, 80, null));

        Assert.Equal((4L, new TokenUsage(1500, 150), 0.07m, 1L), Summary(await ledger.GetTotalsAsync(new UsageQuery())));
        Assert.Equal((2L, new TokenUsage(300, 30), 0.03m, 0L), Summary(await ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "conv-1" })));
        Assert.Equal(0.03m, (await ledger.GetTotalsAsync(new UsageQuery { ThreadId = "thread_1" })).Cost);
        Assert.Equal(0.02m, (await ledger.GetTotalsAsync(new UsageQuery { RunId = "run_2" })).Cost);
        Assert.Equal(0.04m, (await ledger.GetTotalsAsync(new UsageQuery { AssistantId = "asst_2" })).Cost);
        Assert.Equal(0.01m, (await ledger.GetTotalsAsync(new UsageQuery { Model = "gpt-4.1-mini" })).Cost); // dated snapshot matches
        Assert.Equal(0.04m, (await ledger.GetTotalsAsync(new UsageQuery { Model = "o3" })).Cost); // o3-mini does not
        Assert.Equal(0.02m, (await ledger.GetTotalsAsync(new UsageQuery { Model = "o3-mini" })).Cost);
        Assert.Equal(0.03m, (await ledger.GetTotalsAsync(new UsageQuery { Tags = new Dictionary<string, string> { ["tenant"] = "acme" } })).Cost);
        Assert.Equal(0.07m, (await ledger.GetTotalsAsync(new UsageQuery { Tags = new Dictionary<string, string> { ["feature"] = "chat" } })).Cost);
        Assert.Equal(0L, (await ledger.GetTotalsAsync(new UsageQuery { Tags = new Dictionary<string, string> { ["tenant"] = "acme", ["feature"] = "search" } })).Entries);

        var firstDay = await ledger.GetTotalsAsync(UsageQuery.In(UsageWindow.For(BudgetPeriod.Day, day1)));
        Assert.Equal((2L, new TokenUsage(300, 30), 0.03m, 0L), Summary(firstDay));
        var secondDay = await ledger.GetTotalsAsync(UsageQuery.In(UsageWindow.For(BudgetPeriod.Day, day1.AddDays(1))) with { Tags = globex });
        Assert.Equal((2L, new TokenUsage(1200, 120), 0.04m, 1L), Summary(secondDay));
        Assert.False(secondDay.CostIsComplete);
    }

    [Fact]
    public async Task Window_IsHalfOpen()
    {
        var ledger = new InMemoryUsageLedger();
        var midnight = new DateTimeOffset(2026, 4, 2, 0, 0, 0, TimeSpan.Zero);
        await ledger.AppendAsync(Entry(midnight.AddTicks(-1), "k", null, null, null, "gpt-4o", null, 1, 0, 0.01m));
        await ledger.AppendAsync(Entry(midnight, "k", null, null, null, "gpt-4o", null, 2, 0, 0.02m));

        Assert.Equal(0.01m, (await ledger.GetTotalsAsync(UsageQuery.In(UsageWindow.For(BudgetPeriod.Day, midnight.AddHours(-1))))).Cost);
        Assert.Equal(0.02m, (await ledger.GetTotalsAsync(UsageQuery.In(UsageWindow.For(BudgetPeriod.Day, midnight)))).Cost);
    }

    [Fact]
    public async Task RunAccounting_PerStepUsageAndLatency_OnResultAndInStructuredLogs()
    {
        await using var harness = AccountingHarness.Create();
        var created = harness.Time.GetUtcNow();
        await using var session = await harness.Accounting.BeginRunAsync(
            AccountingHarness.Context(tags: new Dictionary<string, string> { ["tenant"] = "acme" }), CancellationToken.None);
        session.SetThread("thread_9", "run_9", model: "gpt-4o-2024-08-06");

        var inProgress = AccountingHarness.Step("step_1", null, created, RunStepState.InProgress, new RunStepToolCall("call_1", RunStepToolCallKind.Function, "get_weather"));
        await session.RecordStepAsync(inProgress, CancellationToken.None);
        var completed = inProgress with { Status = RunStepState.Completed, Usage = new TokenUsage(260, 12), CompletedAt = created.AddMilliseconds(1500) };
        await session.RecordStepAsync(completed, CancellationToken.None);
        await session.RecordStepAsync(AccountingHarness.Step("step_2", new TokenUsage(284, 42, 128, 0), created.AddSeconds(2)), CancellationToken.None);
        var summary = await session.CompleteAsync(TokenUsage.Zero, ToolUsage.None, CancellationToken.None);

        Assert.Equal(2, summary.Steps.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), summary.Steps[0].Latency);
        Assert.Equal(new TokenUsage(544, 54, 128, 0), summary.Usage); // step sums, the in-progress update not counted twice
        Assert.Equal("gpt-4o-2024-08-06", summary.Model);

        // gpt-4o: (544 - 128) × 2.50 + 128 × 1.25 + 54 × 10 = 1040 + 160 + 540 = 1740 per million
        Assert.Equal(0.00174m, summary.Cost);

        var stepLogs = harness.Logs.GetSnapshot().Where(r => r.Id.Id == 3005).ToArray();
        Assert.Equal(2, stepLogs.Length);
        var state = stepLogs[0].StructuredState!.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("step_1", state["StepId"]);
        Assert.Equal("run_9", state["RunId"]);
        Assert.Equal("get_weather", state["ToolCalls"]);
        Assert.Equal("260", state["InputTokens"]);
        Assert.Equal("1500", state["LatencyMs"]);

        var runLog = Assert.Single(harness.Logs.GetSnapshot(), r => r.Id.Id == 3006);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, runLog.Level); // one line per run: quiet at Information in production
        Assert.Contains("cost=$0.00174", runLog.Message, StringComparison.Ordinal);

        var entry = Assert.Single(((InMemoryUsageLedger)harness.Ledger).GetEntries(new UsageQuery { RunId = "run_9" }));
        Assert.Equal(("conv-1", "thread_9", "asst_1", "Helper"), (entry.ConversationKey, entry.ThreadId, entry.AssistantId, entry.AssistantName));
        Assert.Equal("acme", entry.Tags["tenant"]);
    }

    private static (long Entries, TokenUsage Usage, decimal Cost, long Unpriced) Summary(UsageTotals totals) =>
        (totals.Entries, totals.Usage, totals.Cost, totals.UnpricedEntries);

    private static UsageEntry Entry(
        DateTimeOffset at, string key, string? thread, string? run, string? assistant, string model,
        IReadOnlyDictionary<string, string>? tags, long input, long output, decimal? cost) =>
        new()
        {
            Timestamp = at,
            ConversationKey = key,
            ThreadId = thread,
            RunId = run,
            AssistantId = assistant,
            Model = model,
            Tags = tags ?? new Dictionary<string, string>(),
            Usage = new TokenUsage(input, output),
            TokenCost = cost,
        };
}
