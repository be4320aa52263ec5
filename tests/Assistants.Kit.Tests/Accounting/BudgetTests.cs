using Assistants.Kit.Accounting.Internal;

namespace Assistants.Kit.Tests.Accounting;

public sealed class BudgetTests
{
    private static Action<AccountingOptions> DailyDollar(bool worstCase = false, decimal limit = 1m) => o =>
    {
        o.RefuseOnWorstCase = worstCase;
        o.Budgets["daily"] = new BudgetOptions { Scope = BudgetScope.Global, Period = BudgetPeriod.Day, Unit = BudgetUnit.Currency, Limit = limit };
    };

    [Fact]
    public async Task Refused_WhenSpentReachesLimit_ExceptionCarriesTheNumbers_NothingRecorded()
    {
        await using var harness = AccountingHarness.Create(DailyDollar());
        await harness.SpendAsync(0.6m);
        await harness.SpendAsync(0.4m);

        var error = await Assert.ThrowsAsync<BudgetExceededException>(
            () => harness.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None).AsTask());

        Assert.Equal("daily", error.BudgetName);
        Assert.Equal(BudgetScope.Global, error.Scope);
        Assert.Null(error.ScopeValue);
        Assert.Equal(BudgetPeriod.Day, error.Period);
        Assert.Equal(BudgetUnit.Currency, error.Unit);
        Assert.Equal(1m, error.Limit);
        Assert.Equal(1.0m, error.Spent);
        Assert.Equal(0m, error.Reserved);
        Assert.Equal(BudgetRefusalReason.LimitReached, error.Reason);
        Assert.Equal(
            new UsageWindow(new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 2, 0, 0, 0, TimeSpan.Zero)),
            error.Window);
        Assert.Contains("limit=$1", error.Message, StringComparison.Ordinal);
        Assert.Contains("spent=$1.0", error.Message, StringComparison.Ordinal);
        Assert.Equal(2L, (await harness.Ledger.GetTotalsAsync(new UsageQuery())).Entries);
        Assert.Equal(0, harness.Engine.Budgets.ActiveReservations);
        Assert.Single(harness.Logs.GetSnapshot(), r => r.Id.Id == 3001);
    }

    [Fact]
    public async Task Refused_WhenWorstCaseWouldPassTheLimit_OnlyIfAsked()
    {
        // gpt-4o worst case: 100,000 × $2.50/M + 30,000 × $10/M = $0.55; spent $0.50; limit $1.
        await using (var harness = AccountingHarness.Create(DailyDollar(worstCase: true)))
        {
            await harness.SpendAsync(0.5m);

            var error = await Assert.ThrowsAsync<BudgetExceededException>(() => harness.Accounting.BeginRunAsync(
                AccountingHarness.Context(maxPromptTokens: 100_000, maxCompletionTokens: 30_000), CancellationToken.None).AsTask());
            Assert.Equal(BudgetRefusalReason.WorstCaseExceedsLimit, error.Reason);
            Assert.Equal(0.55m, error.Requested);
            Assert.Equal(0.5m, error.Spent);

            // $0.45 fits.
            await using var fits = await harness.Accounting.BeginRunAsync(
                AccountingHarness.Context(maxPromptTokens: 100_000, maxCompletionTokens: 20_000), CancellationToken.None);
        }

        await using (var harness = AccountingHarness.Create(DailyDollar(worstCase: false)))
        {
            await harness.SpendAsync(0.5m);
            await using var allowed = await harness.Accounting.BeginRunAsync(
                AccountingHarness.Context(maxPromptTokens: 100_000, maxCompletionTokens: 30_000), CancellationToken.None);
        }
    }

    [Fact]
    public async Task ConcurrentBegins_OnlyOneFitsTheBudget()
    {
        await using var harness = AccountingHarness.Create(DailyDollar(worstCase: true));
        var context = AccountingHarness.Context(maxPromptTokens: 100_000, maxCompletionTokens: 30_000); // $0.55 each

        var attempts = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            try
            {
                return (Session: await harness.Accounting.BeginRunAsync(context, CancellationToken.None), Error: (BudgetExceededException?)null);
            }
            catch (BudgetExceededException ex)
            {
                return (Session: (RunAccountingSession?)null, Error: ex);
            }
        })));

        var started = Assert.Single(attempts, a => a.Session is not null);
        var refused = Assert.Single(attempts, a => a.Error is not null);
        Assert.Equal(0m, refused.Error!.Spent);
        Assert.Equal(0.55m, refused.Error.Reserved);
        Assert.Equal(0.55m, refused.Error.Requested);
        await started.Session!.DisposeAsync();
    }

    [Fact]
    public async Task ConcurrentBegins_TokenBudget_ReservationAloneCanExhaustIt()
    {
        await using var harness = AccountingHarness.Create(o => o.Budgets["tokens"] = new BudgetOptions
        {
            Scope = BudgetScope.ConversationKey,
            Unit = BudgetUnit.Tokens,
            Limit = 1000,
        });
        var context = AccountingHarness.Context(maxPromptTokens: 800, maxCompletionTokens: 200);

        await using var first = await harness.Accounting.BeginRunAsync(context, CancellationToken.None);
        var error = await Assert.ThrowsAsync<BudgetExceededException>(
            () => harness.Accounting.BeginRunAsync(context, CancellationToken.None).AsTask());
        Assert.Equal((BudgetScope.ConversationKey, "conv-1", 1000m, 0m, 1000m), (error.Scope, error.ScopeValue, error.Reserved, error.Spent, error.Limit));

        // Another conversation key has its own budget.
        await using var other = await harness.Accounting.BeginRunAsync(AccountingHarness.Context(conversationKey: "conv-2", maxPromptTokens: 800, maxCompletionTokens: 200), CancellationToken.None);
    }

    [Fact]
    public async Task Settle_ReleasesTheUnusedReservation()
    {
        await using var harness = AccountingHarness.Create(DailyDollar(worstCase: true));
        var context = AccountingHarness.Context(maxPromptTokens: 100_000, maxCompletionTokens: 30_000); // $0.55

        var first = await harness.Accounting.BeginRunAsync(context, CancellationToken.None);
        await Assert.ThrowsAsync<BudgetExceededException>(() => harness.Accounting.BeginRunAsync(context, CancellationToken.None).AsTask());

        first.SetThread("thread_1", "run_1");
        var summary = await first.CompleteAsync(new TokenUsage(1000, 100), ToolUsage.None, CancellationToken.None); // $0.0035
        await first.DisposeAsync();
        Assert.Equal(0.0035m, summary.Cost);
        Assert.Equal(0, harness.Engine.Budgets.ActiveReservations);

        // $0.0035 spent + $0.55 worst case fits in $1 now that the reservation is settled.
        await using var second = await harness.Accounting.BeginRunAsync(context, CancellationToken.None);
        Assert.Equal(1, harness.Engine.Budgets.ActiveReservations);
    }

    [Fact]
    public async Task DisposeWithoutComplete_RecordsStepUsage_AndReleases()
    {
        await using var harness = AccountingHarness.Create(DailyDollar(worstCase: true));
        var session = await harness.Accounting.BeginRunAsync(
            AccountingHarness.Context(maxPromptTokens: 100_000, maxCompletionTokens: 30_000), CancellationToken.None);
        session.SetThread("thread_1", "run_failed");
        await session.RecordStepAsync(AccountingHarness.Step("step_1", new TokenUsage(500, 50), harness.Time.GetUtcNow()), CancellationToken.None);

        await session.DisposeAsync();
        await session.DisposeAsync();

        var totals = await harness.Ledger.GetTotalsAsync(new UsageQuery { RunId = "run_failed" });
        Assert.Equal((1L, new TokenUsage(500, 50)), (totals.Entries, totals.Usage));
        Assert.Equal(0.00175m, totals.Cost); // 500 × 2.50 + 50 × 10 = 1750 per million
        Assert.Equal(0, harness.Engine.Budgets.ActiveReservations);
        // A run that ended without completing (failed, cancelled, the engine threw) is abnormal: it stays at Information.
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, Assert.Single(harness.Logs.GetSnapshot(), r => r.Id.Id == 3007).Level);
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => session.CompleteAsync(TokenUsage.Zero, ToolUsage.None, CancellationToken.None).AsTask());
    }

    [Theory]
    [InlineData(BudgetOverrunBehavior.StopAtNextBoundary)]
    [InlineData(BudgetOverrunBehavior.LetFinish)]
    public async Task DuringRun_StepThatExhaustsTheBudget_DecidesPerBehavior(BudgetOverrunBehavior behavior)
    {
        var expected = behavior == BudgetOverrunBehavior.StopAtNextBoundary ? StepBudgetDecision.StopAtNextBoundary : StepBudgetDecision.Continue;
        await using var harness = AccountingHarness.Create(o => o.Budgets["per-key"] = new BudgetOptions
        {
            Scope = BudgetScope.ConversationKey,
            Unit = BudgetUnit.Tokens,
            Limit = 1000,
            OnExceeded = behavior,
        });
        await harness.SpendAsync(0m, conversationKey: "conv-1", tokens: 300);
        var now = harness.Time.GetUtcNow();
        await using var session = await harness.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None);
        session.SetThread("thread_1", "run_1");

        var first = await session.RecordStepAsync(AccountingHarness.Step("step_1", new TokenUsage(500, 50), now), CancellationToken.None);
        var again = await session.RecordStepAsync(AccountingHarness.Step("step_1", new TokenUsage(500, 50), now), CancellationToken.None);
        var second = await session.RecordStepAsync(AccountingHarness.Step("step_2", new TokenUsage(100, 50), now), CancellationToken.None);
        var summary = await session.CompleteAsync(TokenUsage.Zero, ToolUsage.None, CancellationToken.None);

        Assert.Equal(StepBudgetDecision.Continue, first); // 300 + 550 < 1000
        Assert.Equal(StepBudgetDecision.Continue, again); // the same step reported twice is counted once
        Assert.Equal(expected, second); // 300 + 700 = 1000
        Assert.Equal(behavior == BudgetOverrunBehavior.StopAtNextBoundary, summary.StoppedByBudget);
        Assert.Single(harness.Logs.GetSnapshot(), r => r.Id.Id == 3002);
    }

    [Fact]
    public async Task Alert_OncePerWindow_NextWindowFiresAgain()
    {
        await using var harness = AccountingHarness.Create(o =>
        {
            DailyDollar()(o);
            o.AlertThresholds = [0.8m];
        });
        var context = AccountingHarness.Context();

        await harness.RunAsync(context, new TokenUsage(0, 50_000)); // $0.50: below 80%
        Assert.Empty(harness.Alerts);

        await harness.RunAsync(context, new TokenUsage(0, 35_000)); // $0.85: crosses 80%
        var alert = Assert.Single(harness.Alerts);
        Assert.Equal(("daily", 0.8m, 0.85m, 1m), (alert.BudgetName, alert.Threshold, alert.Spent, alert.Limit));

        await harness.RunAsync(context, new TokenUsage(0, 1_000)); // $0.86: same window, no second alert
        Assert.Single(harness.Alerts);

        harness.Time.Advance(TimeSpan.FromDays(1));
        await harness.RunAsync(context, new TokenUsage(0, 90_000)); // $0.90 in the next day's window
        Assert.Equal(2, harness.Alerts.Count);
        Assert.Equal(0.90m, harness.Alerts[1].Spent);
        Assert.Equal(alert.Window.End, harness.Alerts[1].Window.Start);
    }

    [Fact]
    public async Task Alert_DefaultThresholds_EachScopeValueSeparately_SinkFailureDoesNotFailTheRun()
    {
        await using var harness = AccountingHarness.Create(o =>
        {
            o.Budgets["tenant-tokens"] = new BudgetOptions { Scope = BudgetScope.Tag, Tag = "tenant", Unit = BudgetUnit.Tokens, Limit = 1000, Period = BudgetPeriod.Month };
            o.OnBudgetExceeded = BudgetOverrunBehavior.LetFinish;
        });
        var acme = AccountingHarness.Context(tags: new Dictionary<string, string> { ["tenant"] = "acme" });
        var globex = AccountingHarness.Context(tags: new Dictionary<string, string> { ["tenant"] = "globex" });

        await harness.RunAsync(acme, new TokenUsage(900, 200)); // 110%: both 0.8 and 1.0
        await harness.RunAsync(globex, new TokenUsage(800, 0)); // 80%
        await harness.RunAsync(AccountingHarness.Context(), new TokenUsage(5000, 0)); // no tenant tag: not counted

        Assert.Equal(
            [("acme", 0.8m), ("acme", 1.0m), ("globex", 0.8m)],
            harness.Alerts.Select(a => (a.ScopeValue!, a.Threshold)).ToArray());
        await Assert.ThrowsAsync<BudgetExceededException>(() => harness.Accounting.BeginRunAsync(acme, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Windows_FollowTheConfiguredZone_UnderAFakeClock()
    {
        // 21:30 UTC on 1 April = 23:30 in Berlin.
        var start = new DateTimeOffset(2026, 4, 1, 21, 30, 0, TimeSpan.Zero);
        await using var berlin = AccountingHarness.Create(o => { DailyDollar()(o); o.TimeZoneId = "Europe/Berlin"; }, start: start);
        await using var utc = AccountingHarness.Create(DailyDollar(), start: start);

        foreach (var harness in new[] { berlin, utc })
        {
            await harness.SpendAsync(1m);
            harness.Time.Advance(TimeSpan.FromMinutes(15));
            await Assert.ThrowsAsync<BudgetExceededException>(() => harness.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None).AsTask());
            harness.Time.Advance(TimeSpan.FromMinutes(45)); // 22:30 UTC = 00:30 on 2 April in Berlin
        }

        await using (await berlin.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None))
        {
        }

        var stillRefused = await Assert.ThrowsAsync<BudgetExceededException>(() => utc.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None).AsTask());
        Assert.Equal(new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero), stillRefused.Window.Start);
        utc.Time.Advance(TimeSpan.FromMinutes(90)); // 00:00 UTC on 2 April
        await using (await utc.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None))
        {
        }
    }

    [Fact]
    public async Task MonthlyBudget_InAZone_ResetsAtLocalMonthStart()
    {
        var start = new DateTimeOffset(2026, 4, 30, 21, 0, 0, TimeSpan.Zero); // 23:00 on 30 April in Berlin
        await using var harness = AccountingHarness.Create(
            o =>
            {
                o.TimeZoneId = "Europe/Berlin";
                o.Budgets["monthly"] = new BudgetOptions { Period = BudgetPeriod.Month, Limit = 10m };
            },
            start: start);
        await harness.SpendAsync(10m);

        await Assert.ThrowsAsync<BudgetExceededException>(() => harness.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None).AsTask());
        harness.Time.Advance(TimeSpan.FromHours(1)); // 00:00 on 1 May in Berlin
        await using var session = await harness.Accounting.BeginRunAsync(AccountingHarness.Context(), CancellationToken.None);
    }
}
