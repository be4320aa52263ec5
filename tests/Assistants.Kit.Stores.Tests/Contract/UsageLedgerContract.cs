using System.Diagnostics;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>
/// The behaviour every <see cref="IUsageLedger"/> shares, written once and run against each ledger by a derived class:
/// the core's in-memory ledger (the reference), SQLite and Redis. Expected totals are either written out or computed by
/// <see cref="UsageQuery.Matches"/> and <see cref="UsageTotals.Add"/>, the reference semantics.
/// </summary>
public abstract class UsageLedgerContract : IAsyncLifetime
{
    /// <summary>An instant in the middle of a month, away from any boundary.</summary>
    protected static readonly DateTimeOffset Now = new(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);

    private IUsageLedger? _ledger;

    /// <summary>Gets the clock the ledgers are given.</summary>
    protected FakeTimeProvider Time { get; } = new(Now);

    /// <summary>Gets the ledger under test (the first one <see cref="OpenLedger"/> returned).</summary>
    // Tests append from several tasks at once: the first access must publish one ledger to all of them.
    protected IUsageLedger Ledger => LazyInitializer.EnsureInitialized(ref _ledger, OpenLedger);

    /// <summary>Opens a ledger on this test's storage; a second call gives another instance on the same data where the ledger has instances.</summary>
    protected abstract IUsageLedger OpenLedger();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [StoreFact]
    public async Task AnEmptyLedger_HasEmptyTotals_ThatAreComplete()
    {
        var totals = await Ledger.GetTotalsAsync(new UsageQuery());

        Assert.Equal(UsageTotals.Empty, totals);
        Assert.True(totals.CostIsComplete);
    }

    [StoreFact]
    public async Task EveryCountedField_IsTotalled()
    {
        await Ledger.AppendAsync(Entry(Now) with
        {
            Usage = new TokenUsage(1200, 340, 1000, 128),
            TokenCost = 0.00123m,
            ToolCost = 0.0325m,
            CodeInterpreterSessions = 1,
            FileSearchCalls = 2,
        });
        await Ledger.AppendAsync(new UsageEntry
        {
            Timestamp = Now,
            Kind = UsageEntryKind.VectorStorage,
            VectorStoreId = "vs_1",
            VectorStorageGigabyteDays = 0.75m,
            ToolCost = 0.075m,
            TokenCost = 0m,
        });

        var totals = await OpenLedger().GetTotalsAsync(new UsageQuery());

        Assert.Equal(
            new UsageTotals
            {
                Entries = 2,
                Usage = new TokenUsage(1200, 340, 1000, 128),
                Cost = 0.10873m,
                UnpricedEntries = 0,
                CodeInterpreterSessions = 1,
                FileSearchCalls = 2,
                VectorStorageGigabyteDays = 0.75m,
            },
            totals);
    }

    [StoreFact]
    public async Task TotalsByKeyThreadRunAndAssistant_CountOnlyTheirEntries()
    {
        await Ledger.AppendAsync(Entry(Now, key: "customer-1", thread: "thread_a", run: "run_1", assistant: "asst_x", cost: 0.01m, input: 100));
        await Ledger.AppendAsync(Entry(Now, key: "customer-1", thread: "thread_a", run: "run_2", assistant: "asst_y", cost: 0.02m, input: 200));
        await Ledger.AppendAsync(Entry(Now, key: "customer-1", thread: "thread_b", run: "run_3", assistant: "asst_x", cost: 0.04m, input: 400));
        await Ledger.AppendAsync(Entry(Now, key: "customer-2", thread: "thread_c", run: "run_4", assistant: "asst_x", cost: 0.08m, input: 800));
        await Ledger.AppendAsync(Entry(Now, cost: 0.16m, input: 1600));

        await AssertTotals(new UsageQuery { ConversationKey = "customer-1" }, 3, 0.07m, 700);
        await AssertTotals(new UsageQuery { ConversationKey = "customer-2" }, 1, 0.08m, 800);
        await AssertTotals(new UsageQuery { ThreadId = "thread_a" }, 2, 0.03m, 300);
        await AssertTotals(new UsageQuery { RunId = "run_3" }, 1, 0.04m, 400);
        await AssertTotals(new UsageQuery { AssistantId = "asst_x" }, 3, 0.13m, 1300);
        await AssertTotals(new UsageQuery { ConversationKey = "customer-1", AssistantId = "asst_x" }, 2, 0.05m, 500);
        await AssertTotals(new UsageQuery { ConversationKey = "customer-1", ThreadId = "thread_c" }, 0, 0m, 0);
        await AssertTotals(new UsageQuery { ConversationKey = "nobody" }, 0, 0m, 0);
        await AssertTotals(new UsageQuery { ConversationKey = "Customer-1" }, 0, 0m, 0);
        await AssertTotals(new UsageQuery(), 5, 0.31m, 3100);
    }

    [StoreFact]
    public async Task EveryFilterAndCombination_MatchesTheReference()
    {
        var entries = Dataset();
        foreach (var entry in entries)
        {
            await Ledger.AppendAsync(entry);
        }

        var day = UsageWindow.For(BudgetPeriod.Day, Now);
        var month = UsageWindow.For(BudgetPeriod.Month, Now);
        var queries = new List<(string Name, UsageQuery Query)>
        {
            ("everything", new UsageQuery()),
            ("day", UsageQuery.In(day)),
            ("month", UsageQuery.In(month)),
            ("from only", new UsageQuery { From = Now }),
            ("to only", new UsageQuery { To = Now }),
            ("empty window", new UsageQuery { From = Now, To = Now }),
            ("inverted window", new UsageQuery { From = Now.AddDays(1), To = Now }),
            ("kind run", new UsageQuery { Kind = UsageEntryKind.Run }),
            ("kind vector storage", new UsageQuery { Kind = UsageEntryKind.VectorStorage }),
            ("empty tags", new UsageQuery { Tags = Tags() }),
        };
        foreach (var key in new[] { "k0", "k1", "k2", "", "K1", "none" })
        {
            queries.Add(($"key {key}", new UsageQuery { ConversationKey = key }));
            queries.Add(($"key {key} in month", UsageQuery.In(month) with { ConversationKey = key }));
        }

        foreach (var thread in new[] { "thread_0", "thread_3", "thread_none" })
        {
            queries.Add(($"thread {thread}", new UsageQuery { ThreadId = thread }));
        }

        foreach (var run in new[] { "run_0", "run_7", "run_none" })
        {
            queries.Add(($"run {run}", new UsageQuery { RunId = run }));
        }

        foreach (var assistant in new[] { "asst_0", "asst_1", "asst_none" })
        {
            queries.Add(($"assistant {assistant}", new UsageQuery { AssistantId = assistant }));
            queries.Add(($"assistant {assistant} in day, runs", UsageQuery.In(day) with { AssistantId = assistant, Kind = UsageEntryKind.Run }));
        }

        foreach (var model in new[] { "gpt-4.1-mini", "GPT-4.1-MINI-2025-04-14", "gpt-4o", "o3", "none" })
        {
            queries.Add(($"model {model}", new UsageQuery { Model = model }));
            queries.Add(($"model {model} + key k1 in month", UsageQuery.In(month) with { Model = model, ConversationKey = "k1" }));
        }

        foreach (var (name, value) in new[] { ("tenant", "acme"), ("tenant", "globex"), ("feature", "search"), ("tenant", "ACME"), ("nope", "x") })
        {
            queries.Add(($"tag {name}={value}", new UsageQuery { Tags = Tags((name, value)) }));
            queries.Add(($"tag {name}={value} in day", UsageQuery.In(day) with { Tags = Tags((name, value)) }));
        }

        queries.Add(("two tags", new UsageQuery { Tags = Tags(("tenant", "acme"), ("feature", "search")) }));
        queries.Add(("two tags, one absent", new UsageQuery { Tags = Tags(("tenant", "acme"), ("feature", "nope")) }));
        queries.Add(("everything at once", UsageQuery.In(month) with
        {
            ConversationKey = "k1",
            ThreadId = "thread_1",
            AssistantId = "asst_1",
            Model = "gpt-4.1-mini",
            Tags = Tags(("tenant", "acme")),
            Kind = UsageEntryKind.Run,
        }));

        var ledgers = new[] { Ledger, OpenLedger() };
        foreach (var (name, query) in queries)
        {
            var expected = Reference(entries, query);
            foreach (var ledger in ledgers)
            {
                var actual = await ledger.GetTotalsAsync(query);
                Assert.True(expected == actual, $"query '{name}': expected {expected}, got {actual}");
            }
        }

        // The dataset really exercises the filters: most queries count something, and not everything.
        Assert.True(queries.Count(q => Reference(entries, q.Query).Entries is > 0 and < 60) > queries.Count / 2);
    }

    [StoreFact]
    public async Task AModelQuery_MatchesDatedSnapshots_CaseInsensitively_AndNothingElse()
    {
        string?[] models =
        [
            "gpt-4.1-mini-2025-04-14", "GPT-4.1-MINI", "gpt-4.1-mini", "gpt-4.1-mini-high", "gpt-4.1", "gpt-4-0613", "gpt-4",
            " gpt-4o-2024-08-06 ", "gpt-4o-mini", null, "", "modèle-ÉTÉ-2025-01-01", "MODÈLE-été", "ſ-model", "s-model",
            "straße-2024-02-29", "ı-model", "i-model", "😀-model-2025-12-31",
        ];
        var entries = models.Select((m, i) => Entry(Now, cost: 1m + i, input: 1L << i) with { Model = m }).ToArray();
        foreach (var entry in entries)
        {
            await Ledger.AppendAsync(entry);
        }

        string[] queries =
        [
            "gpt-4.1-mini", "GPT-4.1-mini", "gpt-4.1-mini-2025-04-14", "gpt-4.1", "gpt-4", "GPT-4-0613", "gpt-4o",
            "gpt-4o-2024-08-06", "gpt-4o-mini", "", "modèle-été", "MODÈLE-ÉTÉ-2025-01-01", "S-MODEL", "ſ-MODEL", "Ꞩ-model",
            "STRASSE", "STRAßE", "I-MODEL", "İ-model", "😀-MODEL", "gpt", "4.1-mini",
        ];
        foreach (var model in queries)
        {
            var query = new UsageQuery { Model = model };
            var expected = Reference(entries, query);
            var actual = await Ledger.GetTotalsAsync(query);
            Assert.True(expected == actual, $"model '{model}': expected {expected}, got {actual}");
        }

        // Spelled out for the headline cases.
        Assert.Equal(3, (await Ledger.GetTotalsAsync(new UsageQuery { Model = "gpt-4.1-mini" })).Entries);
        Assert.Equal(2, (await Ledger.GetTotalsAsync(new UsageQuery { Model = "gpt-4" })).Entries);
        Assert.Equal(1, (await Ledger.GetTotalsAsync(new UsageQuery { Model = "gpt-4o" })).Entries);
        Assert.Equal(2, (await Ledger.GetTotalsAsync(new UsageQuery { Model = "modèle-été" })).Entries);
        Assert.Equal(1, (await Ledger.GetTotalsAsync(new UsageQuery { Model = "S-MODEL" })).Entries);
    }

    [StoreFact]
    public async Task Tags_MustAllMatch_WithOrdinalNamesAndValues()
    {
        await Ledger.AppendAsync(Entry(Now, cost: 1m) with { Tags = Tags(("tenant", "acme"), ("feature", "search")) });
        await Ledger.AppendAsync(Entry(Now, cost: 2m) with { Tags = Tags(("tenant", "acme")) });
        await Ledger.AppendAsync(Entry(Now, cost: 4m) with { Tags = Tags(("tenant", "ACME"), ("Feature", "search")) });
        await Ledger.AppendAsync(Entry(Now, cost: 8m));
        await Ledger.AppendAsync(Entry(Now, cost: 16m) with { Tags = Tags(("a=b", "c"), ("x:1", "y=z")) });
        await Ledger.AppendAsync(Entry(Now, cost: 32m) with { Tags = Tags(("a", "b=c"), ("ü 😀", "'; DROP TABLE x; --"), ("empty", "")) });

        async Task Cost(decimal expected, params (string Name, string Value)[] tags) =>
            Assert.Equal(expected, (await Ledger.GetTotalsAsync(new UsageQuery { Tags = Tags(tags) })).Cost);

        await Cost(3m, ("tenant", "acme"));
        await Cost(1m, ("tenant", "acme"), ("feature", "search"));
        await Cost(4m, ("tenant", "ACME"));
        await Cost(0m, ("feature", "SEARCH"));
        await Cost(4m, ("Feature", "search"));
        await Cost(0m, ("tenant", "acme"), ("feature", "search"), ("region", "eu"));
        await Cost(16m, ("a=b", "c"));
        await Cost(32m, ("a", "b=c"));
        await Cost(16m, ("x:1", "y=z"));
        await Cost(32m, ("ü 😀", "'; DROP TABLE x; --"));
        await Cost(32m, ("empty", ""));
        await Cost(0m, ("empty", " "));
        await Cost(63m);
        Assert.Equal(6, (await Ledger.GetTotalsAsync(new UsageQuery())).Entries);
    }

    [StoreFact]
    public async Task Kind_SeparatesRunsFromVectorStorage()
    {
        await Ledger.AppendAsync(Entry(Now, key: "k", cost: 0.5m, input: 10));
        await Ledger.AppendAsync(new UsageEntry { Timestamp = Now, Kind = UsageEntryKind.VectorStorage, ConversationKey = "k", VectorStoreId = "vs_1", VectorStorageGigabyteDays = 2.5m, ToolCost = 0.25m, TokenCost = 0m });

        var runs = await Ledger.GetTotalsAsync(new UsageQuery { Kind = UsageEntryKind.Run, ConversationKey = "k" });
        var storage = await Ledger.GetTotalsAsync(new UsageQuery { Kind = UsageEntryKind.VectorStorage, ConversationKey = "k" });

        Assert.Equal((1L, 0.5m, 10L, 0m), (runs.Entries, runs.Cost, runs.Usage.InputTokens, runs.VectorStorageGigabyteDays));
        Assert.Equal((1L, 0.25m, 0L, 2.5m), (storage.Entries, storage.Cost, storage.Usage.InputTokens, storage.VectorStorageGigabyteDays));
    }

    [StoreFact]
    public async Task TheWindow_IsHalfOpen_ToTheTick_WhateverTheOffsets()
    {
        var from = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var to = new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
        await Ledger.AppendAsync(Entry(from.AddTicks(-1), cost: 1m));
        await Ledger.AppendAsync(Entry(from, cost: 2m));
        await Ledger.AppendAsync(Entry(from.AddTicks(1), cost: 4m));
        await Ledger.AppendAsync(Entry(to.AddTicks(-1), cost: 8m));
        await Ledger.AppendAsync(Entry(to, cost: 16m));
        await Ledger.AppendAsync(Entry(to.AddTicks(1), cost: 32m));

        // The same instants written with other offsets: 2026-03-01T05:30+05:30 is the window's first instant.
        await Ledger.AppendAsync(Entry(from.ToOffset(TimeSpan.FromHours(5.5)), cost: 64m));
        await Ledger.AppendAsync(Entry(to.ToOffset(TimeSpan.FromHours(-7)).AddTicks(-1), cost: 128m));
        await Ledger.AppendAsync(Entry(to.ToOffset(TimeSpan.FromHours(14)), cost: 256m));

        Assert.Equal(2m + 4m + 8m + 64m + 128m, (await Ledger.GetTotalsAsync(new UsageQuery { From = from, To = to })).Cost);
        Assert.Equal(2m + 4m + 8m + 64m + 128m, (await Ledger.GetTotalsAsync(new UsageQuery { From = from.ToOffset(TimeSpan.FromHours(-3)), To = to.ToOffset(TimeSpan.FromHours(9)) })).Cost);
        Assert.Equal(1m, (await Ledger.GetTotalsAsync(new UsageQuery { To = from })).Cost);
        Assert.Equal(16m + 32m + 256m, (await Ledger.GetTotalsAsync(new UsageQuery { From = to })).Cost);
        Assert.Equal(2m + 64m, (await Ledger.GetTotalsAsync(new UsageQuery { From = from, To = from.AddTicks(1) })).Cost);
        Assert.Equal(0m, (await Ledger.GetTotalsAsync(new UsageQuery { From = from, To = from })).Cost);
        Assert.Equal(0, (await Ledger.GetTotalsAsync(new UsageQuery { From = to, To = from })).Entries);
    }

    [StoreFact]
    public async Task WindowBounds_InsideOneMicrosecond_AndAcrossHours_AreExact()
    {
        var from = new DateTimeOffset(2026, 3, 10, 7, 45, 0, TimeSpan.Zero).AddTicks(5);
        var to = new DateTimeOffset(2026, 3, 12, 16, 20, 0, TimeSpan.Zero).AddTicks(5);
        var midnight = new DateTimeOffset(2026, 3, 11, 0, 0, 0, TimeSpan.Zero);
        DateTimeOffset[] instants =
        [
            from.AddTicks(-5), from.AddTicks(-1), from, from.AddTicks(4), from.AddTicks(5), from.AddHours(1),
            midnight.AddTicks(-1), midnight, midnight.AddTicks(1), midnight.AddMinutes(59),
            to.AddTicks(-5), to.AddTicks(-1), to, to.AddTicks(4), to.AddTicks(5), to.AddHours(-1),
        ];
        var entries = instants.Select((t, i) => Entry(t, key: i % 2 == 0 ? "even" : "odd", cost: 1L << i)).ToArray();
        foreach (var entry in entries)
        {
            await Ledger.AppendAsync(entry);
        }

        UsageQuery[] queries =
        [
            new() { From = from, To = to },
            new() { From = from, To = to, ConversationKey = "even" },
            new() { From = from, To = to, ConversationKey = "odd" },
            new() { From = from.AddTicks(-5), To = to.AddTicks(-5) },
            new() { From = from, To = midnight },
            new() { From = midnight, To = to },
            new() { From = midnight.AddTicks(1), To = midnight.AddHours(1) },
            new() { From = from.AddTicks(-1), To = from.AddTicks(4) },
        ];
        foreach (var query in queries)
        {
            var expected = Reference(entries, query);
            for (var pass = 0; pass < 2; pass++)
            {
                var actual = await Ledger.GetTotalsAsync(query);
                Assert.True(expected == actual, $"[{query.From:O}, {query.To:O}) key {query.ConversationKey}, pass {pass}: expected {expected}, got {actual}");
            }
        }
    }

    [StoreFact]
    public async Task DayAndMonthWindows_InUtc()
    {
        var day = UsageWindow.For(BudgetPeriod.Day, Now);
        var month = UsageWindow.For(BudgetPeriod.Month, Now);
        Assert.Equal((new DateTimeOffset(2026, 3, 14, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 15, 0, 0, 0, TimeSpan.Zero)), (day.Start, day.End));
        await Ledger.AppendAsync(Entry(day.Start.AddTicks(-1), cost: 1m));
        await Ledger.AppendAsync(Entry(day.Start, cost: 2m));
        await Ledger.AppendAsync(Entry(Now, cost: 4m));
        await Ledger.AppendAsync(Entry(day.End.AddTicks(-1), cost: 8m));
        await Ledger.AppendAsync(Entry(day.End, cost: 16m));
        await Ledger.AppendAsync(Entry(month.Start.AddTicks(-1), cost: 32m));
        await Ledger.AppendAsync(Entry(month.Start, cost: 64m));
        await Ledger.AppendAsync(Entry(month.End.AddTicks(-1), cost: 128m));
        await Ledger.AppendAsync(Entry(month.End, cost: 256m));

        Assert.Equal(14m, (await Ledger.GetTotalsAsync(UsageQuery.In(day))).Cost);
        Assert.Equal(1m + 2m + 4m + 8m + 16m + 64m + 128m, (await Ledger.GetTotalsAsync(UsageQuery.In(month))).Cost);
        Assert.Equal(7, (await Ledger.GetTotalsAsync(UsageQuery.In(month))).Entries);
    }

    [StoreFact]
    public async Task DayAndMonthWindows_InZonesAwayFromUtc_WithHalfHourOffsetsAndDaylightSaving()
    {
        var kolkata = TimeZoneInfo.CreateCustomTimeZone("Test/Plus0530", TimeSpan.FromHours(5.5), "Test +05:30", "Test +05:30");
        var berlin = TestZones.CentralEurope;

        // 2026-03-14 in +05:30 starts at 2026-03-13T18:30Z; March 2026 in Central Europe starts at 2026-02-28T23:00Z
        // (standard time) and ends at 2026-03-31T22:00Z (summer time since 2026-03-29).
        var kolkataDay = UsageWindow.For(BudgetPeriod.Day, Now, kolkata);
        var berlinMonth = UsageWindow.For(BudgetPeriod.Month, Now, berlin);
        Assert.Equal(new DateTimeOffset(2026, 3, 13, 18, 30, 0, TimeSpan.Zero), kolkataDay.Start);
        Assert.Equal((new DateTimeOffset(2026, 2, 28, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 31, 22, 0, 0, TimeSpan.Zero)), (berlinMonth.Start, berlinMonth.End));

        await Ledger.AppendAsync(Entry(kolkataDay.Start.AddTicks(-1), key: "kolkata", cost: 1m));
        await Ledger.AppendAsync(Entry(kolkataDay.Start, key: "kolkata", cost: 2m));
        await Ledger.AppendAsync(Entry(new DateTimeOffset(2026, 3, 14, 23, 59, 59, TimeSpan.FromHours(5.5)), key: "kolkata", cost: 4m));
        await Ledger.AppendAsync(Entry(kolkataDay.End, key: "kolkata", cost: 8m));
        await Ledger.AppendAsync(Entry(new DateTimeOffset(2026, 2, 28, 23, 59, 59, TimeSpan.FromHours(1)), key: "berlin", cost: 16m));
        await Ledger.AppendAsync(Entry(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.FromHours(1)), key: "berlin", cost: 32m));
        await Ledger.AppendAsync(Entry(new DateTimeOffset(2026, 3, 31, 23, 59, 59, TimeSpan.FromHours(2)), key: "berlin", cost: 64m));
        await Ledger.AppendAsync(Entry(new DateTimeOffset(2026, 3, 31, 23, 30, 0, TimeSpan.Zero), key: "berlin", cost: 128m));

        Assert.Equal(6m, (await Ledger.GetTotalsAsync(UsageQuery.In(kolkataDay) with { ConversationKey = "kolkata" })).Cost);
        Assert.Equal(96m, (await Ledger.GetTotalsAsync(UsageQuery.In(berlinMonth) with { ConversationKey = "berlin" })).Cost);
        Assert.Equal(2m + 4m + 8m + 64m, (await Ledger.GetTotalsAsync(UsageQuery.In(kolkataDay) with { To = berlinMonth.End })).Cost);
    }

    [StoreFact]
    public async Task UnpricedEntries_MakeTheCostIncomplete_ButTheirToolFeesAndTokensCount()
    {
        await Ledger.AppendAsync(Entry(Now, key: "k", cost: 0.25m, input: 100));
        await Ledger.AppendAsync(Entry(Now, key: "k", input: 1000) with { Model = "my-fine-tune", TokenCost = null, ToolCost = 0.03m, CodeInterpreterSessions = 1 });
        await Ledger.AppendAsync(Entry(Now, key: "priced", cost: 0m));

        var mixed = await Ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "k" });
        var priced = await Ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "priced" });

        Assert.Equal((2L, 1L, false, 0.28m, 1100L, 1L), (mixed.Entries, mixed.UnpricedEntries, mixed.CostIsComplete, mixed.Cost, mixed.Usage.InputTokens, mixed.CodeInterpreterSessions));
        Assert.Equal((1L, 0L, true, 0m), (priced.Entries, priced.UnpricedEntries, priced.CostIsComplete, priced.Cost));
        Assert.Equal(1, (await Ledger.GetTotalsAsync(new UsageQuery { Model = "my-fine-tune" })).UnpricedEntries);
    }

    [StoreFact]
    public async Task Decimals_AreStoredAndAddedExactly()
    {
        // 1,000 costs of 0.000000123 dollars: any binary floating point on the way would not give 0.000123 exactly.
        var tiny = Enumerable.Range(0, 1000).Select(i => Entry(Now, key: "tiny", cost: 0.000000123m) with { ToolCost = 0.0000001m, VectorStorageGigabyteDays = 0.001m }).ToArray();
        var ledger = Ledger; // opened before the writers start
        await Task.WhenAll(Chunks(tiny, 4).Select(chunk => Task.Run(async () =>
        {
            foreach (var entry in chunk)
            {
                await ledger.AppendAsync(entry);
            }
        })));

        // Values from 1e9 down to 1e-18 (and the smallest decimal on its own): their sums fit in decimal's 28 digits, so
        // any order of exact addition gives the same total.
        decimal[] awkward = [0.1m, 0.2m, 0.3m, 1.10m, 0.000000000000000001m, 0.000000000000000002m, 1234567890.123456789m, -0.000000000000001m, 0.0009999999999999m];
        foreach (var cost in awkward)
        {
            await Ledger.AppendAsync(Entry(Now, key: "awkward", cost: cost) with { ToolCost = cost, VectorStorageGigabyteDays = cost });
        }

        for (var i = 0; i < 3; i++)
        {
            await Ledger.AppendAsync(Entry(Now, key: "smallest", cost: 0.0000000000000000000000000001m) with { ToolCost = 0.0000000000000000000000000001m });
        }

        var totals = await Ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "tiny" });
        var awkwardTotals = await OpenLedger().GetTotalsAsync(new UsageQuery { ConversationKey = "awkward" });

        Assert.Equal(0.000223m, totals.Cost);
        Assert.Equal(1m, totals.VectorStorageGigabyteDays);
        Assert.Equal(2469135783.648913577999997806m, awkwardTotals.Cost);
        Assert.Equal(1234567891.824456788999998903m, awkwardTotals.VectorStorageGigabyteDays);
        Assert.Equal(0.0000000000000000000000000006m, (await Ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "smallest" })).Cost);
    }

    [StoreFact]
    public async Task ConcurrentAppends_FromSeveralTasksAndTwoInstances_LoseNothing()
    {
        const int Writers = 8;
        const int PerWriter = 60;
        var ledgers = new[] { Ledger, OpenLedger() };
        using var start = new Barrier(Writers);

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(
            async () =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(30));
                for (var i = 0; i < PerWriter; i++)
                {
                    await ledgers[w % 2].AppendAsync(Entry(Now.AddTicks(i), key: $"writer-{w}", cost: 0.001m, input: 1) with { Tags = Tags(("tenant", $"t{i % 3}")) });
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap()));

        var all = await OpenLedger().GetTotalsAsync(new UsageQuery());
        Assert.Equal((Writers * PerWriter, Writers * PerWriter * 0.001m, (long)Writers * PerWriter), (all.Entries, all.Cost, all.Usage.InputTokens));
        for (var w = 0; w < Writers; w++)
        {
            Assert.Equal(PerWriter, (await Ledger.GetTotalsAsync(new UsageQuery { ConversationKey = $"writer-{w}" })).Entries);
        }

        Assert.Equal(Writers * PerWriter / 3, (await Ledger.GetTotalsAsync(new UsageQuery { Tags = Tags(("tenant", "t1")) })).Entries);
    }

    [StoreFact]
    public async Task TenThousandEntries_AreAppendedAndTotalledInReasonableTime()
    {
        const int Count = 10_000;
        var entries = Enumerable.Range(0, Count).Select(i => Entry(
            Now.AddMinutes(-i),
            key: $"k{i % 100}",
            thread: $"thread_{i % 1000}",
            assistant: $"asst_{i % 7}",
            cost: 0.0001m * (i % 10),
            input: i) with
        {
            Model = i % 2 == 0 ? "gpt-4.1-mini-2025-04-14" : "gpt-4o",
            Tags = Tags(("tenant", $"t{i % 10}")),
        }).ToArray();

        var append = Stopwatch.StartNew();
        var ledger = Ledger; // opened before the writers start
        await Task.WhenAll(Chunks(entries, 4).Select(chunk => Task.Run(async () =>
        {
            foreach (var entry in chunk)
            {
                await ledger.AppendAsync(entry);
            }
        })));
        append.Stop();

        var read = Stopwatch.StartNew();
        var month = UsageQuery.In(UsageWindow.For(BudgetPeriod.Month, Now));
        (string Name, UsageQuery Query)[] queries =
        [
            ("everything", new UsageQuery()),
            ("month", month),
            ("month, key", month with { ConversationKey = "k42" }),
            ("thread", new UsageQuery { ThreadId = "thread_7" }),
            ("day, tag", UsageQuery.In(UsageWindow.For(BudgetPeriod.Day, Now)) with { Tags = Tags(("tenant", "t3")) }),
            ("model", new UsageQuery { Model = "gpt-4.1-mini" }),
            ("assistant, model, tag", new UsageQuery { AssistantId = "asst_3", Model = "GPT-4O", Tags = Tags(("tenant", "t1")) }),
        ];
        foreach (var (name, query) in queries)
        {
            var expected = Reference(entries, query);
            var actual = await Ledger.GetTotalsAsync(query);
            Assert.True(expected == actual, $"query '{name}': expected {expected}, got {actual}");
        }

        read.Stop();
        Assert.Equal(Count, (await Ledger.GetTotalsAsync(new UsageQuery())).Entries);
        Assert.True(append.Elapsed < TimeSpan.FromSeconds(90), $"appending {Count} entries took {append.Elapsed}");
        Assert.True(read.Elapsed < TimeSpan.FromSeconds(30), $"{queries.Length} totals over {Count} entries took {read.Elapsed}");
    }

    [StoreFact]
    public async Task EmptyStringsAndNulls_AreValuesOfTheirOwn()
    {
        await Ledger.AppendAsync(Entry(Now, cost: 1m) with { ConversationKey = "", ThreadId = "", RunId = "", AssistantId = "", Model = "" });
        await Ledger.AppendAsync(Entry(Now, cost: 2m) with { ConversationKey = null, ThreadId = null, RunId = null, AssistantId = null, Model = null });

        Assert.Equal(1m, (await Ledger.GetTotalsAsync(new UsageQuery { ConversationKey = "" })).Cost);
        Assert.Equal(1m, (await Ledger.GetTotalsAsync(new UsageQuery { ThreadId = "" })).Cost);
        Assert.Equal(1m, (await Ledger.GetTotalsAsync(new UsageQuery { RunId = "" })).Cost);
        Assert.Equal(1m, (await Ledger.GetTotalsAsync(new UsageQuery { AssistantId = "" })).Cost);
        Assert.Equal(1m, (await Ledger.GetTotalsAsync(new UsageQuery { Model = "" })).Cost);
        Assert.Equal(3m, (await Ledger.GetTotalsAsync(new UsageQuery())).Cost);
    }

    [StoreFact]
    public async Task ExtremeTimestamps_AreStoredAndWindowed()
    {
        var instants = new[]
        {
            DateTimeOffset.MinValue, new DateTimeOffset(1, 1, 1, 0, 0, 0, 1, TimeSpan.Zero), new DateTimeOffset(1969, 12, 31, 23, 59, 59, 999, TimeSpan.Zero),
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddTicks(1), DateTimeOffset.MaxValue.AddTicks(-1), DateTimeOffset.MaxValue,
        };
        var entries = instants.Select((t, i) => Entry(t, cost: 1L << i)).ToArray();
        foreach (var entry in entries)
        {
            await Ledger.AppendAsync(entry);
        }

        foreach (var from in instants)
        {
            foreach (var to in instants)
            {
                var query = new UsageQuery { From = from, To = to };
                var expected = Reference(entries, query);
                var actual = await Ledger.GetTotalsAsync(query);
                Assert.True(expected == actual, $"[{from:O}, {to:O}): expected {expected}, got {actual}");
            }
        }
    }

    [StoreFact]
    public async Task AnEntry_IsVisibleToAnotherInstance_WithEveryFilterItWasGiven()
    {
        var entry = new UsageEntry
        {
            Timestamp = new DateTimeOffset(2026, 3, 14, 10, 0, 0, 123, TimeSpan.FromHours(-4)).AddTicks(4567),
            ConversationKey = "customer-42/order-7",
            ThreadId = "thread_abc",
            RunId = "run_xyz",
            AssistantId = "asst_123",
            AssistantName = "Order Support",
            Model = "gpt-4.1-mini-2025-04-14",
            Tags = Tags(("tenant", "acme"), ("feature", "refunds")),
            Usage = new TokenUsage(1, 2, 3, 4),
            TokenCost = 0.5m,
            ToolCost = 0.25m,
            CodeInterpreterSessions = 5,
            FileSearchCalls = 6,
        };
        await Ledger.AppendAsync(entry);

        var query = new UsageQuery
        {
            From = entry.Timestamp,
            To = entry.Timestamp.AddTicks(1),
            ConversationKey = entry.ConversationKey,
            ThreadId = entry.ThreadId,
            RunId = entry.RunId,
            AssistantId = entry.AssistantId,
            Model = "GPT-4.1-mini",
            Tags = entry.Tags,
            Kind = UsageEntryKind.Run,
        };
        Assert.Equal(UsageTotals.Empty.Add(entry), await OpenLedger().GetTotalsAsync(query));
    }

    [StoreFact]
    public async Task InvalidArguments_AndCancellation_AreRejected()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(() => Ledger.AppendAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => Ledger.GetTotalsAsync(null!).AsTask());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Ledger.AppendAsync(Entry(Now, cost: 1m), cancelled.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Ledger.GetTotalsAsync(new UsageQuery(), cancelled.Token).AsTask());
        Assert.Equal(0, (await Ledger.GetTotalsAsync(new UsageQuery())).Entries);
    }

    /// <summary>A priced run entry.</summary>
    protected static UsageEntry Entry(
        DateTimeOffset timestamp, string? key = null, string? thread = null, string? run = null, string? assistant = null, decimal cost = 0m, long input = 0) =>
        new()
        {
            Timestamp = timestamp,
            ConversationKey = key,
            ThreadId = thread,
            RunId = run,
            AssistantId = assistant,
            Model = "gpt-4.1-mini-2025-04-14",
            Usage = new TokenUsage(input, input / 2),
            TokenCost = cost,
        };

    /// <summary>Tags with ordinal names, as the kit makes them.</summary>
    protected static IReadOnlyDictionary<string, string> Tags(params (string Name, string Value)[] tags) =>
        tags.ToDictionary(t => t.Name, t => t.Value, StringComparer.Ordinal).AsReadOnly();

    /// <summary>The totals the reference semantics give.</summary>
    protected static UsageTotals Reference(IEnumerable<UsageEntry> entries, UsageQuery query) =>
        entries.Where(query.Matches).Aggregate(UsageTotals.Empty, static (totals, entry) => totals.Add(entry));

    private async Task AssertTotals(UsageQuery query, long entries, decimal cost, long inputTokens)
    {
        var totals = await Ledger.GetTotalsAsync(query);
        Assert.Equal((entries, cost, inputTokens), (totals.Entries, totals.Cost, totals.Usage.InputTokens));
    }

    private static IEnumerable<UsageEntry[]> Chunks(UsageEntry[] entries, int count) =>
        Enumerable.Range(0, count).Select(c => entries.Where((_, i) => i % count == c).ToArray());

    /// <summary>60 entries across keys, threads, runs, assistants, models, tags, kinds and two months.</summary>
    private static List<UsageEntry> Dataset()
    {
        string?[] keys = ["k0", "k1", "k2", "", null];
        string?[] models = ["gpt-4.1-mini-2025-04-14", "gpt-4.1-mini", "GPT-4O", "gpt-4o-2024-08-06", "o3-mini", null];
        var entries = new List<UsageEntry>();
        for (var i = 0; i < 60; i++)
        {
            var tags = (i % 4) switch
            {
                0 => Tags(("tenant", "acme"), ("feature", "search")),
                1 => Tags(("tenant", "acme")),
                2 => Tags(("tenant", "globex"), ("feature", "search")),
                _ => Tags(),
            };
            entries.Add(new UsageEntry
            {
                Timestamp = Now.AddHours(-7 * i).ToOffset(TimeSpan.FromHours((i % 5) - 2)),
                Kind = i % 9 == 0 ? UsageEntryKind.VectorStorage : UsageEntryKind.Run,
                ConversationKey = keys[i % keys.Length],
                ThreadId = i % 7 == 6 ? null : $"thread_{i % 6}",
                RunId = $"run_{i % 11}",
                AssistantId = i % 3 == 2 ? null : $"asst_{i % 3}",
                AssistantName = $"Assistant {i % 3}",
                Model = models[i % models.Length],
                Tags = tags,
                Usage = new TokenUsage(100 + i, 10 + i, i, i / 2),
                TokenCost = i % 8 == 3 ? null : 0.001m * i,
                ToolCost = i % 5 == 0 ? 0.03m : 0m,
                CodeInterpreterSessions = i % 5 == 0 ? 1 : 0,
                FileSearchCalls = i % 6,
                VectorStoreId = i % 9 == 0 ? "vs_1" : null,
                VectorStorageGigabyteDays = i % 9 == 0 ? 0.1m * i : 0m,
            });
        }

        return entries;
    }
}
