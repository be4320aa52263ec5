using System.Diagnostics;
using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Lease = Assistants.Kit.Redis.Internal.RedisConversationLeaseProvider.Lease;

namespace Assistants.Kit.Stores.Tests.Redis;

/// <summary>
/// Redis leases between "app instances", each with its own multiplexer, provider and store: mutual exclusion, fencing
/// tokens, renewal, a holder that stops renewing and its fenced writes, releases that never touch a successor's lease.
/// Lease expiry runs on Redis's real clock, so these tests use short leases (300-500 ms) and bounded waits.
/// </summary>
public sealed class RedisLeaseTests : IAsyncLifetime
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";
    private readonly List<IAsyncDisposable> _disposables = [];

    private sealed record Instance(IConnectionMultiplexer Multiplexer, RedisConversationLeaseProvider Leases, RedisConversationStore Store, ListLogger Log);

    private static IDatabase Database => RedisServer.Multiplexer.GetDatabase();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        if (RedisServer.SkipReason is null)
        {
            await RedisKeys.DeleteAsync(_prefix);
        }
    }

    [RedisFact]
    public async Task TwoInstances_ContendingForOneKey_NeverBothHoldIt_AndEveryLeaseGetsTheNextToken()
    {
        Instance[] instances = [NewInstance(), NewInstance()];
        const int WorkersPerInstance = 3;
        const int Rounds = 8;
        var holders = 0;
        var overlaps = 0;
        var tokens = new List<long>();

        // Three workers per instance (so also contending within an instance), each taking the lease eight times and
        // holding it over a Redis round-trip, as a run would hold it over its requests.
        var workers = instances.SelectMany(instance => Enumerable.Range(0, WorkersPerInstance).Select(_ => Task.Run(async () =>
        {
            for (var round = 0; round < Rounds; round++)
            {
                var lease = await instance.Leases.AcquireAsync("shared", CancellationToken.None);
                await using (lease)
                {
                    if (Interlocked.Increment(ref holders) != 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    lock (tokens)
                    {
                        tokens.Add(lease.FencingToken);
                    }

                    await instance.Multiplexer.GetDatabase().PingAsync();
                    Assert.False(lease.IsLost);
                    Interlocked.Decrement(ref holders);
                }
            }
        })));
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(0, overlaps);
        const int Total = 2 * WorkersPerInstance * Rounds;
        Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), tokens); // in the order taken: strictly increasing, none reused
        Assert.Equal(Total.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)await Database.StringGetAsync($"{_prefix}fence:shared"));
        Assert.False(await Database.KeyExistsAsync($"{_prefix}lease:shared"));
    }

    [RedisFact]
    public async Task Keys_FollowTheDocumentedLayout_AndTheFenceCounterOutlivesTheLease()
    {
        var instance = NewInstance(o => o.LeaseDuration = TimeSpan.FromSeconds(10));

        var lease = (Lease)await instance.Leases.AcquireAsync("order:1", CancellationToken.None);

        Assert.Equal(1, lease.FencingToken);
        Assert.Equal([$"{_prefix}fence:order:1", $"{_prefix}lease:order:1"], await RedisKeys.ListAsync(_prefix));
        Assert.Equal(lease.Owner, (string?)await Database.StringGetAsync($"{_prefix}lease:order:1"));
        Assert.StartsWith($"{Environment.MachineName}/{Environment.ProcessId}/", lease.Owner, StringComparison.Ordinal);
        Assert.InRange((await Database.KeyTimeToLiveAsync($"{_prefix}lease:order:1"))!.Value, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(10));
        Assert.Null(await Database.KeyTimeToLiveAsync($"{_prefix}fence:order:1"));

        await lease.DisposeAsync();
        await lease.DisposeAsync(); // idempotent

        Assert.Equal([$"{_prefix}fence:order:1"], await RedisKeys.ListAsync(_prefix));
        await using var next = await instance.Leases.AcquireAsync("order:1", CancellationToken.None);
        Assert.Equal(2, next.FencingToken);
        await using var other = await instance.Leases.AcquireAsync("order:2", CancellationToken.None);
        Assert.Equal(1, other.FencingToken); // per key
    }

    [RedisFact]
    public async Task AKeyPrefixOfTheirOwn_PutsLeasesThere()
    {
        var instance = NewInstance(o => o.KeyPrefix = _prefix + "leases:");

        await using var lease = await instance.Leases.AcquireAsync("k", CancellationToken.None);

        Assert.Equal([$"{_prefix}leases:fence:k", $"{_prefix}leases:lease:k"], await RedisKeys.ListAsync(_prefix));
    }

    [RedisFact]
    public async Task Renewal_SetsTheFullDurationAgain_AtEveryInterval_AndOnlyForItsOwner()
    {
        // The renewal timer runs on a fake clock; Redis's real clock is "moved on" by shortening the expiry by hand.
        var time = new FakeTimeProvider();
        var a = NewInstance(o => (o.LeaseDuration, o.RenewInterval) = (TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(5)), time);
        var lease = (Lease)await a.Leases.AcquireAsync("k", CancellationToken.None);
        RedisKey key = $"{_prefix}lease:k";

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(0, lease.Renewals);
        for (var interval = 1; interval <= 3; interval++)
        {
            await Database.KeyExpireAsync(key, TimeSpan.FromSeconds(8)); // most of the lifetime went by
            time.Advance(TimeSpan.FromSeconds(interval == 1 ? 0.1 : 5));
            await UntilAsync(() => lease.Renewals == interval && !lease.Renewing);
            Assert.InRange((await Database.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(20));
        }

        // 21 s after the acquire, longer than the duration: still held, by the holder's own reckoning too.
        time.Advance(TimeSpan.FromSeconds(6));
        await UntilAsync(() => !lease.Renewing);
        Assert.Equal(lease.Owner, (string?)await Database.StringGetAsync(key));
        Assert.False(lease.IsLost);
        Assert.DoesNotContain(a.Log.Entries, e => e.Level >= LogLevel.Warning);

        // Without a confirmed renewal for a whole duration, the holder itself considers the lease lost (a paused process
        // learns it on waking, before its next renewal says so).
        lease.StopRenewing();
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(lease.IsLost);
    }

    [RedisFact]
    public async Task Renewal_KeepsAHeldLeaseAlivePastItsDuration_InRealTime_WhileAnotherInstanceWaits()
    {
        // A 2 s lease renewed every 100 ms, held for 3 s: a busy machine may stall the renewal timer for up to 1.9 s.
        var duration = TimeSpan.FromSeconds(2);
        var a = NewInstance(o => (o.LeaseDuration, o.RenewInterval) = (duration, TimeSpan.FromMilliseconds(100)));
        var b = NewInstance(o => o.LeaseDuration = duration);
        var lease = (Lease)await a.Leases.AcquireAsync("k", CancellationToken.None);
        var waiting = b.Leases.AcquireAsync("k", CancellationToken.None).AsTask();

        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < duration * 1.5)
        {
            Assert.Equal(lease.Owner, (string?)await Database.StringGetAsync($"{_prefix}lease:k"));
            Assert.False(waiting.IsCompleted);
            await Task.Delay(100);
        }

        Assert.False(lease.IsLost);
        Assert.DoesNotContain(a.Log.Entries, e => e.Level >= LogLevel.Warning);

        await lease.DisposeAsync();
        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(lease.FencingToken + 1, next.FencingToken);
    }

    [RedisFact]
    public async Task AHolderThatStopsRenewing_LosesTheLease_ASecondInstanceTakesOverWithAHigherToken_AndTheFirstOnesWritesAreFenced()
    {
        var a = NewInstance(o => o.LeaseDuration = Short);
        a.Leases.RenewalEnabled = false; // a paused process, or one cut off from Redis
        var b = NewInstance(o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        var stale = (Lease)await a.Leases.AcquireAsync("order-1", CancellationToken.None);
        var readByA = await a.Store.SaveAsync(new ConversationBinding
        {
            ConversationKey = "order-1",
            Protocol = AssistantsProtocol.Assistants,
            ThreadId = "thread_1",
            FencingToken = stale.FencingToken,
        });

        // b waits for the lease, and gets it once Redis expired a's.
        var successor = (Lease)await b.Leases.AcquireAsync("order-1", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(successor.FencingToken > stale.FencingToken, $"{successor.FencingToken} > {stale.FencingToken}");
        Assert.True(stale.IsLost);
        Assert.False(successor.IsLost);

        // b's run writes with its token. a wakes up and writes with its old one, from its old read or from a new one: refused.
        var taken = await b.Store.SaveAsync((await b.Store.GetAsync("order-1", AssistantsProtocol.Assistants))! with
        {
            FencingToken = successor.FencingToken,
            ActiveRunId = "run_b",
        });
        var fromNewRead = await Assert.ThrowsAsync<ConversationFencedException>(() => a.Store.SaveAsync(
            taken with { FencingToken = stale.FencingToken, ActiveRunId = "run_a" }).AsTask());
        var fromOldRead = await Assert.ThrowsAsync<ConversationFencedException>(() => a.Store.SaveAsync(readByA with { ActiveRunId = "run_a" }).AsTask());

        Assert.Equal(("order-1", stale.FencingToken, successor.FencingToken), (fromNewRead.ConversationKey, fromNewRead.FencingToken, fromNewRead.StoredFencingToken));
        Assert.Equal(successor.FencingToken, fromOldRead.StoredFencingToken);
        var stored = await a.Store.GetAsync("order-1", AssistantsProtocol.Assistants);
        Assert.Equal(("run_b", successor.FencingToken, 2L), (stored!.ActiveRunId, stored.FencingToken, stored.Version));

        // a releases its lost lease: b's lease stays, and a third acquire still has to wait for b.
        await stale.DisposeAsync();
        Assert.Equal(successor.Owner, (string?)await Database.StringGetAsync($"{_prefix}lease:order-1"));
        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Leases.AcquireAsync("order-1", patience.Token).AsTask());
        Assert.Equal(successor.Owner, (string?)await Database.StringGetAsync($"{_prefix}lease:order-1"));

        await successor.DisposeAsync();
        Assert.False(await Database.KeyExistsAsync($"{_prefix}lease:order-1"));
    }

    [RedisFact]
    public async Task ARenewalThatFindsTheLeaseTakenOver_MarksItLost_LogsAWarning_AndNeverExtendsTheSuccessor()
    {
        var a = NewInstance(o => (o.LeaseDuration, o.RenewInterval) = (TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50)));
        var lease = (Lease)await a.Leases.AcquireAsync("k", CancellationToken.None);

        // What an expiry followed by another instance's acquire leaves (without waiting 10 s): another owner, its own expiry.
        await Database.StringSetAsync($"{_prefix}lease:k", "another-instance", TimeSpan.FromMinutes(1));
        await UntilAsync(() => lease.IsLost);

        var warning = Assert.Single(a.Log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(6122, warning.EventId);
        Assert.StartsWith($"Lost the lease of conversation k (fencing token {lease.FencingToken})", warning.Message, StringComparison.Ordinal);
        Assert.Equal("another-instance", (string?)await Database.StringGetAsync($"{_prefix}lease:k"));
        Assert.InRange((await Database.KeyTimeToLiveAsync($"{_prefix}lease:k"))!.Value, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));

        await lease.DisposeAsync();
        Assert.Equal("another-instance", (string?)await Database.StringGetAsync($"{_prefix}lease:k"));
    }

    [RedisFact]
    public async Task WhenRedisCannotBeReached_RenewalsFailWithWarnings_TheLeaseIsLostOnceItsDurationPassed_AndReleaseDoesNotThrow()
    {
        var a = NewInstance(o => (o.LeaseDuration, o.RenewInterval) = (Short, TimeSpan.FromMilliseconds(60)));
        var lease = await a.Leases.AcquireAsync("k", CancellationToken.None);

        await a.Multiplexer.CloseAsync();
        await UntilAsync(() => a.Log.Entries.Any(e => e.EventId == 6122));

        Assert.True(lease.IsLost);
        Assert.Contains(a.Log.Entries, e => e.EventId == 6123 && e.Level == LogLevel.Warning && e.Exception is not null);
        var lost = Assert.Single(a.Log.Entries, e => e.EventId == 6122);
        Assert.NotNull(lost.Exception);

        await lease.DisposeAsync();
        Assert.Contains(a.Log.Entries, e => e.EventId == 6125 && e.Level == LogLevel.Warning);
    }

    [RedisFact]
    public async Task CancellingAWaitingAcquire_StopsIt_AndTakesNoToken()
    {
        var a = NewInstance();
        var b = NewInstance();
        await using var held = await a.Leases.AcquireAsync("k", CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.Leases.AcquireAsync("k", cancel.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("1", (string?)await Database.StringGetAsync($"{_prefix}fence:k"));
    }

    [RedisFact]
    public async Task DisposingTheProvider_ReleasesTheLeasesItStillHolds()
    {
        var a = NewInstance();
        await a.Leases.AcquireAsync("one", CancellationToken.None);
        await a.Leases.AcquireAsync("two", CancellationToken.None);

        await a.Leases.DisposeAsync();

        Assert.Equal([$"{_prefix}fence:one", $"{_prefix}fence:two"], await RedisKeys.ListAsync(_prefix));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => a.Leases.AcquireAsync("one", CancellationToken.None).AsTask());
    }

    /// <summary>A new "app instance": its own multiplexer, connection, lease provider (real clock) and store.</summary>
    private Instance NewInstance(Action<RedisLeaseOptions>? configure = null, TimeProvider? time = null)
    {
        var multiplexer = RedisServer.ConnectNew();
        _disposables.Add(multiplexer);
        var connection = new RedisConnection(new RedisStoreOptions { Multiplexer = multiplexer, KeyPrefix = _prefix }, NullLogger.Instance);
        _disposables.Add(connection);
        var options = new RedisLeaseOptions { AcquireRetryDelay = TimeSpan.FromMilliseconds(5), AcquireRetryMaxDelay = TimeSpan.FromMilliseconds(20) };
        configure?.Invoke(options);
        var log = new ListLogger();
        var leases = new RedisConversationLeaseProvider(connection, options, time ?? TimeProvider.System, log);
        _disposables.Add(leases);
        return new Instance(multiplexer, leases, new RedisConversationStore(connection, TimeProvider.System), log);
    }

    /// <summary>Waits (real time, bounded) until <paramref name="condition"/> holds.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        var start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            Assert.True(Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(15), "the condition did not hold within 15 s");
            await Task.Delay(10);
        }
    }
}
