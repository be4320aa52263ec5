using System.Text.Json;
using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Stores.Tests.Redis;

/// <summary>What only the Redis ledger does: key layout, paging, index choice, hourly rollups, retention, options.</summary>
public sealed class RedisLedgerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 14, 15, 9, 26, TimeSpan.Zero);

    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";
    private readonly FakeTimeProvider _time = new(Now);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (RedisServer.SkipReason is null)
        {
            await RedisKeys.DeleteAsync(_prefix);
        }
    }

    [RedisFact]
    public async Task Keys_FollowTheDocumentedLayout_UnderThePrefix()
    {
        var timestamp = new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.FromHours(-4)).AddTicks(1234567);
        await Ledger().AppendAsync(new UsageEntry
        {
            Timestamp = timestamp,
            ConversationKey = "order:1",
            ThreadId = "thread_1",
            RunId = "run_1",
            AssistantId = "asst_1",
            Model = "gpt-4.1-mini-2025-04-14",
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "acme" },
            Usage = new TokenUsage(10, 20),
            TokenCost = 0.000000123m,
            ToolCost = 0.0300m,
        });

        string[] expected =
        [
            "usage:by-assistant:asst_1", "usage:by-key:order:1", "usage:by-kind:Run", "usage:by-model:GPT-4.1-MINI",
            "usage:by-model:GPT-4.1-MINI-2025-04-14", "usage:by-run:run_1", "usage:by-tag:6:tenant=acme", "usage:by-thread:thread_1",
            "usage:by-time", "usage:entries", "usage:hour-generations", "usage:seq",
        ];
        Assert.Equal(expected.Select(k => _prefix + k), await RedisKeys.ListAsync(_prefix));
        var database = RedisServer.Multiplexer.GetDatabase();
        var document = JsonDocument.Parse((string)(await database.HashGetAsync($"{_prefix}usage:entries", 1))!).RootElement;
        Assert.Equal("2026-03-14T10:00:00.1234567-04:00", document.GetProperty("at").GetString());
        Assert.Equal("Run", document.GetProperty("kind").GetString());
        Assert.Equal("0.000000123", document.GetProperty("tokenCost").GetString());
        Assert.Equal("0.0300", document.GetProperty("toolCost").GetString());
        Assert.Equal("acme", document.GetProperty("tags").GetProperty("tenant").GetString());
        Assert.False(document.TryGetProperty("gbDays", out _));
        Assert.Equal(RedisUsageLedger.Score(timestamp), await database.SortedSetScoreAsync($"{_prefix}usage:by-key:order:1", 1));
        Assert.Equal((timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10, (long)(await database.SortedSetScoreAsync($"{_prefix}usage:by-time", 1))!.Value);
        Assert.Equal(1, (long)await database.HashGetAsync($"{_prefix}usage:hour-generations", RedisUsageLedger.HourOf(timestamp)));
    }

    [Fact]
    public void Scores_AreWholeMicrosecondsSince1970_AndHoursToo_RoundedDown()
    {
        var epoch = DateTimeOffset.UnixEpoch;

        Assert.Equal([0d, 0d, 1d, -1d, -1d, -2d], new[] { epoch, epoch.AddTicks(9), epoch.AddTicks(10), epoch.AddTicks(-1), epoch.AddTicks(-10), epoch.AddTicks(-11) }.Select(RedisUsageLedger.Score));
        Assert.Equal([0L, 0L, 1L, -1L], new[] { epoch, epoch.AddHours(1).AddTicks(-1), epoch.AddHours(1), epoch.AddTicks(-1) }.Select(RedisUsageLedger.HourOf));
        Assert.Equal([0L, 1L, 1L, 0L], new[] { epoch, epoch.AddTicks(1), epoch.AddHours(1), epoch.AddHours(-1).AddTicks(1) }.Select(RedisUsageLedger.CeilingHour));
        Assert.True(RedisUsageLedger.Score(DateTimeOffset.MinValue) < RedisUsageLedger.Score(DateTimeOffset.MinValue.AddYears(1)));
        Assert.True(RedisUsageLedger.Score(DateTimeOffset.MaxValue.AddYears(-1)) < RedisUsageLedger.Score(DateTimeOffset.MaxValue));
    }

    [RedisFact]
    public async Task ManyEntriesAtOneInstant_AcrossSeveralPages_AreEachCountedOnce()
    {
        var ledger = Ledger();
        var atOnce = Enumerable.Range(0, (2 * RedisUsageLedger.PageSize) + 345).Select(i => Entry(Now, key: i % 2 == 0 ? "even" : "odd", cost: 0.001m)).ToList();
        var around = Enumerable.Range(1, 10).SelectMany(i => new[] { Entry(Now.AddTicks(-10 * i), cost: 1m), Entry(Now.AddTicks(10 * i), cost: 1m) });
        await Task.WhenAll(atOnce.Concat(around).Select(e => ledger.AppendAsync(e).AsTask()));

        var all = await ledger.GetTotalsAsync(new UsageQuery());
        var instant = await ledger.GetTotalsAsync(new UsageQuery { From = Now, To = Now.AddTicks(1) });
        var even = await ledger.GetTotalsAsync(new UsageQuery { From = Now, To = Now.AddTicks(1), ConversationKey = "even" });

        Assert.Equal((atOnce.Count + 20L, 2.345m + 20m), (all.Entries, all.Cost));
        Assert.Equal((atOnce.Count, 2.345m), (instant.Entries, instant.Cost));
        Assert.Equal((1173L, 1.173m), (even.Entries, even.Cost));
    }

    [RedisFact]
    public async Task ATotal_ReadsTheIndexWithTheFewestEntriesInTheWindow()
    {
        var ledger = Ledger();
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => ledger.AppendAsync(Entry(Now, key: "k", cost: 1m, tenant: "big")).AsTask()));
        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => ledger.AppendAsync(Entry(Now.AddDays(-1), key: "k", cost: 1m, tenant: "small")).AsTask()));
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => ledger.AppendAsync(Entry(Now.AddDays(-1), key: "other", cost: 1m, tenant: "big")).AsTask()));

        Assert.Equal(3, await Read(new UsageQuery { ConversationKey = "k", Tags = Tenant("small") }, 3));
        Assert.Equal(203, await Read(new UsageQuery { ConversationKey = "k", Tags = Tenant("big") }, 200));
        Assert.Equal(3, await Read(UsageQuery.In(UsageWindow.For(BudgetPeriod.Day, Now.AddDays(-1))) with { ConversationKey = "k", Tags = Tenant("big") }, 0));

        async Task<long> Read(UsageQuery query, long entries)
        {
            var before = ledger.DocumentsRead;
            Assert.Equal(entries, (await ledger.GetTotalsAsync(query)).Entries);
            return ledger.DocumentsRead - before;
        }
    }

    [RedisFact]
    public async Task WarmRollups_LeaveOnlyTheCurrentHourAndThePartialHours_ToBeRead()
    {
        var ledger = Ledger(rollupThreshold: 0);
        var entries = Enumerable.Range(0, 432).Select(i => Entry(Now.AddMinutes(-10 * i), key: $"k{i % 3}", cost: 0.01m, tenant: $"t{i % 2}")).ToList();
        await Task.WhenAll(entries.Select(e => ledger.AppendAsync(e).AsTask()));
        var month = UsageQuery.In(UsageWindow.For(BudgetPeriod.Month, Now));
        var halfHours = new UsageQuery { From = Now.AddDays(-2).AddMinutes(-30), To = Now.AddMinutes(-30) };

        Assert.Equal((432, 432), await TotalAndRead(month));
        Assert.Equal((432, 1), await TotalAndRead(month));
        Assert.Equal((144, 144), await TotalAndRead(month with { ConversationKey = "k1" }));
        Assert.Equal((144, 0), await TotalAndRead(month with { ConversationKey = "k1" }));

        // Whole hours come from the month's rollups; the partial hours at both ends are read (the entry at the end, too).
        Assert.Equal((288, 3 + 4), await TotalAndRead(halfHours));
        Assert.Equal((144, 145), await TotalAndRead(halfHours with { Tags = Tenant("t1") }));
        Assert.Equal((144, 2 + 2), await TotalAndRead(halfHours with { Tags = Tenant("t1") }));

        // Nothing is rolled up for the hour that has not ended.
        var database = RedisServer.Multiplexer.GetDatabase();
        var rollups = $"{_prefix}usage:rollup:by-time";
        Assert.False(await database.HashExistsAsync(rollups, RedisUsageLedger.HourOf(Now)));
        Assert.True(await database.HashExistsAsync(rollups, RedisUsageLedger.HourOf(Now) - 1));
        Assert.InRange((await database.KeyTimeToLiveAsync(rollups))!.Value, TimeSpan.FromDays(39), TimeSpan.FromDays(40));

        // An entry appended to an hour long ended makes that hour's rollup out of date: it is read again, once.
        await ledger.AppendAsync(Entry(Now.AddDays(-2), key: "k1", cost: 5m));
        Assert.Equal((433, 7 + 1), await TotalAndRead(month));
        Assert.Equal((433, 1), await TotalAndRead(month));
        Assert.Equal(entries.Sum(e => e.Cost!.Value) + 5m, (await ledger.GetTotalsAsync(month)).Cost);

        // The hour moves on: the hour that has just ended is rolled up by the next total.
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal((433, 1), await TotalAndRead(month));
        Assert.Equal((433, 0), await TotalAndRead(month));

        async Task<(long Entries, long Read)> TotalAndRead(UsageQuery query)
        {
            var before = ledger.DocumentsRead;
            var entries = (await ledger.GetTotalsAsync(query)).Entries;
            return (entries, ledger.DocumentsRead - before);
        }
    }

    [RedisFact]
    public async Task AppendsRacingTotals_AreNeverLostFromARollup()
    {
        var reader = Ledger(rollupThreshold: 0);
        var writer = Ledger();
        var month = UsageQuery.In(UsageWindow.For(BudgetPeriod.Month, Now));
        await writer.AppendAsync(Entry(Now.AddDays(-3), cost: 1m));
        var appends = Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                // Into hours that have ended, which the reader keeps rolling up.
                await writer.AppendAsync(Entry(Now.AddDays(-3).AddMinutes(i % 120), cost: 1m));
            }
        });
        var totals = 0;
        while (!appends.IsCompleted)
        {
            await reader.GetTotalsAsync(month);
            totals++;
        }

        await appends;
        Assert.True(totals > 1);
        Assert.Equal((301L, 301m), await Totals(month));
        Assert.Equal((301L, 301m), await Totals(month));

        async Task<(long, decimal)> Totals(UsageQuery query)
        {
            var t = await reader.GetTotalsAsync(query);
            return (t.Entries, t.Cost);
        }
    }

    [RedisFact]
    public async Task Retention_DeletesExpiredEntriesAndEveryIndexMember_AtMostOnceAMinutePerInstance()
    {
        var keeper = Ledger(rollupThreshold: 0);
        await keeper.AppendAsync(Entry(Now.AddDays(-40), key: "old", cost: 1m, tenant: "acme"));
        await keeper.AppendAsync(Entry(Now.AddDays(-31), key: "old", cost: 2m, tenant: "acme"));
        await keeper.AppendAsync(Entry(Now.AddDays(-29), key: "recent", cost: 4m, tenant: "acme"));
        var lastYear = new UsageQuery { From = Now.AddYears(-1), To = Now.AddDays(1) };
        Assert.Equal(7m, (await keeper.GetTotalsAsync(lastYear)).Cost);
        var pruner = Ledger(o => o.UsageRetention = TimeSpan.FromDays(30), rollupThreshold: 0);

        await pruner.AppendAsync(Entry(Now, key: "recent", cost: 8m));

        Assert.Equal(12m, (await keeper.GetTotalsAsync(lastYear)).Cost);
        Assert.Equal(12m, (await pruner.GetTotalsAsync(new UsageQuery())).Cost);
        var database = RedisServer.Multiplexer.GetDatabase();
        Assert.DoesNotContain($"{_prefix}usage:by-key:old", await RedisKeys.ListAsync(_prefix));
        Assert.Equal(2, await database.HashLengthAsync($"{_prefix}usage:entries"));
        Assert.Equal(1, await database.SortedSetLengthAsync($"{_prefix}usage:by-tag:6:tenant=acme"));
        Assert.Equal(2, await database.SortedSetLengthAsync($"{_prefix}usage:by-kind:Run"));

        // Within the minute, this instance does not look again; a minute later it does.
        await keeper.AppendAsync(Entry(Now.AddDays(-50), key: "late", cost: 16m));
        await pruner.AppendAsync(Entry(Now, cost: 32m));
        Assert.Equal(60m, (await pruner.GetTotalsAsync(new UsageQuery())).Cost);
        _time.Advance(RedisUsageLedger.PruneInterval);
        await pruner.AppendAsync(Entry(Now, cost: 64m));
        Assert.Equal(108m, (await pruner.GetTotalsAsync(new UsageQuery())).Cost);
        Assert.Equal(108m, (await keeper.GetTotalsAsync(lastYear)).Cost);
    }

    [RedisFact]
    public async Task Retention_WorksThroughABacklog_OneBatchPerAppend()
    {
        var writer = Ledger();
        var backlog = RedisUsageLedger.PruneBatchSize + 500;
        await Task.WhenAll(Enumerable.Range(0, backlog).Select(i => writer.AppendAsync(Entry(Now.AddDays(-100).AddSeconds(i), cost: 1m)).AsTask()));
        var pruner = Ledger(o => o.UsageRetention = TimeSpan.FromDays(90));

        await pruner.AppendAsync(Entry(Now, cost: 0.5m));
        Assert.Equal(500.5m, (await pruner.GetTotalsAsync(new UsageQuery())).Cost);
        await pruner.AppendAsync(Entry(Now, cost: 0.25m));
        Assert.Equal(0.75m, (await pruner.GetTotalsAsync(new UsageQuery())).Cost);
        Assert.Equal(2, await RedisServer.Multiplexer.GetDatabase().HashLengthAsync($"{_prefix}usage:entries"));
    }

    [Fact]
    public void UsageRetention_MustBePositive()
    {
        var result = new RedisStoreOptionsValidator().Validate(null, new RedisStoreOptions { ConnectionString = "localhost:6379", UsageRetention = TimeSpan.Zero });

        Assert.Equal(["RedisStoreOptions.UsageRetention must be positive, or null to keep entries forever (was 00:00:00)."], result.Failures!);
    }

    [Fact]
    public void AddRedisStore_GivesTheLedgerItsRetention_WithoutConnecting()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddRedisStore(o =>
        {
            o.ConnectionString = "127.0.0.1:1,abortConnect=false";
            o.UsageRetention = TimeSpan.FromDays(62);
        });
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.IsType<RedisUsageLedger>(provider.GetRequiredService<IUsageLedger>());
        Assert.Equal(TimeSpan.FromDays(62), provider.GetRequiredService<RedisConnection>().UsageRetention);
        Assert.True(provider.GetRequiredService<IOptions<RedisStoreOptions>>().Value.UseAsUsageLedger);
    }

    private RedisUsageLedger Ledger(Action<RedisStoreOptions>? configure = null, long rollupThreshold = 500)
    {
        var options = new RedisStoreOptions { Multiplexer = RedisServer.Multiplexer, KeyPrefix = _prefix };
        configure?.Invoke(options);
        return new RedisUsageLedger(new RedisConnection(options, NullLogger.Instance), _time, NullLogger.Instance) { RollupThreshold = rollupThreshold };
    }

    private static UsageEntry Entry(DateTimeOffset timestamp, string? key = null, decimal cost = 0m, string? tenant = null) => new()
    {
        Timestamp = timestamp,
        ConversationKey = key,
        Model = "gpt-4.1-mini",
        Tags = tenant is null ? new Dictionary<string, string>(StringComparer.Ordinal) : Tenant(tenant),
        TokenCost = cost,
    };

    private static Dictionary<string, string> Tenant(string tenant) => new(StringComparer.Ordinal) { ["tenant"] = tenant };
}
