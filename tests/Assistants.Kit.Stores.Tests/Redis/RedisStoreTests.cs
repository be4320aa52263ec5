using System.Reflection;
using System.Text.Json;
using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Assistants.Kit.Stores.Tests.Redis;

/// <summary>What only the Redis store does: key layout, expiry, several app instances, its connection, registration.</summary>
public sealed class RedisStoreTests : IAsyncLifetime
{
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));
    private readonly List<RedisConnection> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        if (RedisServer.SkipReason is null)
        {
            await RedisKeys.DeleteAsync(_prefix);
        }
    }

    [RedisFact]
    public async Task TwoAppInstances_WithTheirOwnConnections_ShareBindings_AndExactlyOneWinsEachRace()
    {
        using var first = RedisServer.ConnectNew();
        using var second = RedisServer.ConnectNew();
        var a = Store(o => o.Multiplexer = first);
        var b = Store(o => o.Multiplexer = second);

        var created = await a.SaveAsync(Binding("order-1"));
        var seen = await b.GetAsync("order-1", AssistantsProtocol.Assistants);
        Assert.Equal(created.ThreadId, seen!.ThreadId);
        var updated = await b.SaveAsync(seen with { MessageCount = 1 });
        var stale = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => a.SaveAsync(created with { MessageCount = 99 }).AsTask());
        Assert.Equal((1L, 2L), (stale.ExpectedVersion, stale.ActualVersion));

        var current = updated;
        for (var round = 0; round < 10; round++)
        {
            var read = current;
            var outcomes = await Task.WhenAll(
                Attempt(a, read with { ActiveRunId = $"a{round}" }),
                Attempt(b, read with { ActiveRunId = $"b{round}" }));
            var won = Assert.Single(outcomes, o => o is not null);
            current = (await a.GetAsync("order-1", AssistantsProtocol.Assistants))!;
            Assert.Equal(won!.ActiveRunId, current.ActiveRunId);
            Assert.Equal(read.Version + 1, current.Version);
        }

        static async Task<ConversationBinding?> Attempt(IConversationStore store, ConversationBinding binding)
        {
            try
            {
                return await store.SaveAsync(binding);
            }
            catch (ConversationConcurrencyException)
            {
                return null;
            }
        }
    }

    [RedisFact]
    public async Task Keys_FollowTheDocumentedLayout_UnderThePrefix()
    {
        var store = Store();
        await store.SaveAsync(Binding("order:1") with { ActiveRunStatus = RunStatus.Queued });
        await store.SaveAssistantAsync(new AssistantRecord("support", AssistantsProtocol.Responses, "asst_1", "v1", _time.GetUtcNow()));

        Assert.Equal(
            [$"{_prefix}assistant:responses:support", $"{_prefix}binding:assistants:order:1", $"{_prefix}bindings:assistants"],
            await RedisKeys.ListAsync(_prefix));
        var database = RedisServer.Multiplexer.GetDatabase();
        var hash = (await database.HashGetAllAsync($"{_prefix}binding:assistants:order:1")).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal(["data", "fence", "version"], hash.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("1", hash["version"]);
        Assert.Equal("0", hash["fence"]);
        var data = JsonDocument.Parse(hash["data"]).RootElement;
        Assert.Equal("order:1", data.GetProperty("key").GetString());
        Assert.Equal("Queued", data.GetProperty("activeRunStatus").GetString());
        Assert.Equal("Assistants", data.GetProperty("protocol").GetString());
        Assert.Equal(["order:1"], (await database.SetMembersAsync($"{_prefix}bindings:assistants")).Select(v => (string)v!));
    }

    [RedisFact]
    public async Task ABindingWrittenBeforeFencing_ReadsUnfenced_AndItsFirstFencedSaveStoresTheToken()
    {
        var store = Store();
        var saved = await store.SaveAsync(Binding("order-1"));
        var database = RedisServer.Multiplexer.GetDatabase();
        RedisKey key = $"{_prefix}binding:assistants:order-1";

        // What the previous release wrote: no fence field.
        await database.HashDeleteAsync(key, "fence");
        var old = await store.GetAsync("order-1", AssistantsProtocol.Assistants);
        Assert.Equal(0, old!.FencingToken);

        var fenced = await store.SaveAsync(old with { FencingToken = 21 });

        Assert.Equal("21", (string?)await database.HashGetAsync(key, "fence"));
        var ex = await Assert.ThrowsAsync<ConversationFencedException>(() => store.SaveAsync(fenced with { FencingToken = 20 }).AsTask());
        Assert.Equal(21, ex.StoredFencingToken);
        Assert.Equal(saved.Version + 1, (await store.GetAsync("order-1", AssistantsProtocol.Assistants))!.Version);
    }

    [RedisFact]
    public async Task BindingTimeToLive_IsSetOnSave_AndSlidesOnEverySave()
    {
        var store = Store(o => o.BindingTimeToLive = TimeSpan.FromMinutes(10));
        var database = RedisServer.Multiplexer.GetDatabase();
        RedisKey key = $"{_prefix}binding:assistants:order-1";

        var saved = await store.SaveAsync(Binding("order-1"));
        var ttl = await database.KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));

        // Pretend most of the lifetime went by; the next save renews it.
        await database.KeyExpireAsync(key, TimeSpan.FromSeconds(5));
        await store.SaveAsync(saved);
        Assert.InRange((await database.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));

        // Assistant records never expire.
        await store.SaveAssistantAsync(new AssistantRecord("support", AssistantsProtocol.Assistants, "asst_1", "v1", _time.GetUtcNow()));
        Assert.Null(await database.KeyTimeToLiveAsync($"{_prefix}assistant:assistants:support"));
    }

    [RedisFact]
    public async Task WithoutTimeToLive_BindingsArePersistent_EvenIfTheyHadOne()
    {
        var database = RedisServer.Multiplexer.GetDatabase();
        RedisKey key = $"{_prefix}binding:assistants:order-1";
        var saved = await Store(o => o.BindingTimeToLive = TimeSpan.FromMinutes(1)).SaveAsync(Binding("order-1"));
        Assert.NotNull(await database.KeyTimeToLiveAsync(key));

        await Store().SaveAsync(saved);

        Assert.Null(await database.KeyTimeToLiveAsync(key));
    }

    [RedisFact]
    public async Task AnExpiredBinding_IsGone_AndListPrunesItsIndexEntry()
    {
        var store = Store(o => o.BindingTimeToLive = TimeSpan.FromHours(1));
        await store.SaveAsync(Binding("kept"));
        var expiring = await store.SaveAsync(Binding("expired"));
        var database = RedisServer.Multiplexer.GetDatabase();

        // What Redis does when the expiry passes (without waiting for it).
        await database.KeyDeleteAsync($"{_prefix}binding:assistants:expired");

        Assert.Null(await store.GetAsync("expired", AssistantsProtocol.Assistants));
        var listed = new List<string>();
        await foreach (var binding in store.ListAsync())
        {
            listed.Add(binding.ConversationKey);
        }

        Assert.Equal(["kept"], listed);
        Assert.Equal(["kept"], (await database.SetMembersAsync($"{_prefix}bindings:assistants")).Select(v => (string)v!));
        var ex = await Assert.ThrowsAsync<ConversationConcurrencyException>(() => store.SaveAsync(expiring).AsTask());
        Assert.Equal(0, ex.ActualVersion);
    }

    [RedisFact]
    public async Task AConnectionString_ConnectsOnFirstUse_AndIsClosedOnDispose()
    {
        var connection = new RedisConnection(new RedisStoreOptions { ConnectionString = RedisServer.ConnectionString, KeyPrefix = _prefix }, NullLogger.Instance);
        var store = new RedisConversationStore(connection, _time);

        await store.SaveAsync(Binding("order-1"));
        var multiplexer = (await connection.GetDatabaseAsync(CancellationToken.None)).Multiplexer;
        Assert.NotSame(RedisServer.Multiplexer, multiplexer);
        Assert.True(multiplexer.IsConnected);
        await connection.DisposeAsync();

        Assert.False(multiplexer.IsConnected);
    }

    [RedisFact]
    public async Task AnExistingMultiplexer_IsUsed_AndNotClosed()
    {
        using var own = RedisServer.ConnectNew();
        var connection = new RedisConnection(new RedisStoreOptions { Multiplexer = own, KeyPrefix = _prefix }, NullLogger.Instance);
        await new RedisConversationStore(connection, _time).SaveAsync(Binding("order-1"));

        await connection.DisposeAsync();

        Assert.True(own.IsConnected);
        Assert.True(await own.GetDatabase().KeyExistsAsync($"{_prefix}binding:assistants:order-1"));
    }

    [RedisFact]
    public async Task AddRedisStore_ReplacesTheInMemoryStore_AndTheProviderClosesItsConnection()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddAssistantsKit().AddRedisStore(o =>
        {
            o.ConnectionString = RedisServer.ConnectionString;
            o.KeyPrefix = _prefix;
        });
        IConnectionMultiplexer multiplexer;
        await using (var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }))
        {
            var store = provider.GetRequiredService<IConversationStore>();
            Assert.IsType<RedisConversationStore>(store);
            Assert.Equal(_time.GetUtcNow(), (await store.SaveAsync(Binding("order-1"))).UpdatedAt);
            multiplexer = (await provider.GetRequiredService<RedisConnection>().GetDatabaseAsync(CancellationToken.None)).Multiplexer;
        }

        Assert.False(multiplexer.IsConnected);
        Assert.True(await RedisServer.Multiplexer.GetDatabase().KeyExistsAsync($"{_prefix}binding:assistants:order-1"));
    }

    [Fact]
    public void AddRedisStore_ReplacesTheStore_WithoutConnecting()
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddRedisStore("127.0.0.1:1,abortConnect=false");
        using var provider = services.BuildServiceProvider();

        Assert.IsType<RedisConversationStore>(provider.GetRequiredService<IConversationStore>());
        Assert.Single(services, d => d.ServiceType == typeof(IConversationStore));
        Assert.Equal(RedisStoreOptions.DefaultKeyPrefix, provider.GetRequiredService<RedisConnection>().KeyPrefix);
    }

    [RedisFact]
    public async Task AddRedisStore_RegistersItsFileIngestionStore_BeforeOrAfterAddFiles_AndTheRecordsSurviveARestart()
    {
        var record = new FileIngestionRecord("docs", new string('a', 64), "file-1", "handbook.md", 42, FileIngestionStatus.Added) { VectorStoreId = "vs_1" };
        foreach (var before in new[] { true, false })
        {
            var services = new ServiceCollection();
            var kit = services.AddAssistantsKit(o => o.ApiKey = "sk-test");
            Action<RedisStoreOptions> redis = o =>
            {
                o.ConnectionString = RedisServer.ConnectionString;
                o.KeyPrefix = _prefix;
            };
            _ = before ? kit.AddRedisStore(redis).AddFiles() : kit.AddFiles().AddRedisStore(redis);
            await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
            var store = provider.GetRequiredService<IFileIngestionStore>();

            Assert.IsType<RedisFileIngestionStore>(store);
            if (before)
            {
                await store.SaveAsync(record);
            }
            else
            {
                Assert.Equal(record, await store.GetAsync("docs", record.ContentHash));
            }
        }
    }

    [Fact]
    public void AddRedisStore_WithAMultiplexer_SetsItAndTheOtherOptions()
    {
        var services = new ServiceCollection();
        var multiplexer = UnusedMultiplexer.Create();
        services.AddAssistantsKit().AddRedisStore(multiplexer, o => o.BindingTimeToLive = TimeSpan.FromDays(30));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RedisStoreOptions>>().Value;

        Assert.Same(multiplexer, options.Multiplexer);
        Assert.Equal(TimeSpan.FromDays(30), options.BindingTimeToLive);
    }

    [Theory]
    [InlineData(null, "RedisStoreOptions.ConnectionString (or Multiplexer) is required, e.g. 'localhost:6379' (was '')")]
    [InlineData("password=hunter2", "RedisStoreOptions.ConnectionString names no server, e.g. 'localhost:6379' (was 'password=***')")]
    [InlineData("localhost:6379,password=hunter2,connectTimeout=soon", "RedisStoreOptions.ConnectionString is not a valid StackExchange.Redis configuration")]
    public void AnInvalidConnectionString_FailsWithAMessageNamingIt_PasswordMasked(string? connectionString, string expected)
    {
        var services = new ServiceCollection();
        services.AddAssistantsKit().AddRedisStore(o => o.ConnectionString = connectionString);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IConversationStore>());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherInvalidOptions_FailWithMessagesNamingTheValues()
    {
        var result = new RedisStoreOptionsValidator().Validate(null, new RedisStoreOptions
        {
            ConnectionString = "localhost:6379",
            Multiplexer = UnusedMultiplexer.Create(),
            KeyPrefix = "",
            Database = -2,
            BindingTimeToLive = TimeSpan.FromSeconds(-5),
        });

        Assert.Equal(
            [
                "RedisStoreOptions: set ConnectionString or Multiplexer, not both (ConnectionString was 'localhost:6379').",
                "RedisStoreOptions.KeyPrefix must not be empty (was '').",
                "RedisStoreOptions.Database must be -1 (the connection's default) or a database number (was -2).",
                "RedisStoreOptions.BindingTimeToLive must be positive, or null for no expiry (was -00:00:05).",
            ],
            result.Failures!);
    }

    [Fact]
    public void AddRedisStore_WithoutAConnectionString_IsRejectedAtOnce()
    {
        var builder = new ServiceCollection().AddAssistantsKit();

        Assert.ThrowsAny<ArgumentException>(() => builder.AddRedisStore(""));
        Assert.Throws<ArgumentNullException>(() => builder.AddRedisStore((IConnectionMultiplexer)null!));
    }

    [Fact]
    public void TheProbe_ReportsAnUnreachableServer_AsTheSkipReason()
    {
        Assert.Equal("no Redis server: set ASSISTANTS_KIT_REDIS=host:port to run the Redis tests (.ci/run starts one).", RedisServer.Probe(null).SkipReason);

        var (multiplexer, reason) = RedisServer.Probe("127.0.0.1:1");

        Assert.Null(multiplexer);
        Assert.StartsWith("ASSISTANTS_KIT_REDIS=127.0.0.1:1 is not reachable (", reason, StringComparison.Ordinal);
    }

    private RedisConversationStore Store(Action<RedisStoreOptions>? configure = null)
    {
        var options = new RedisStoreOptions { Multiplexer = RedisServer.Multiplexer, KeyPrefix = _prefix };
        configure?.Invoke(options);
        var connection = new RedisConnection(options, NullLogger.Instance);
        _connections.Add(connection);
        return new RedisConversationStore(connection, _time);
    }

    private static ConversationBinding Binding(string key) =>
        new() { ConversationKey = key, Protocol = AssistantsProtocol.Assistants, ThreadId = "thread_1" };

    /// <summary>A stand-in multiplexer for option tests: any call fails, none is expected.</summary>
    public class UnusedMultiplexer : DispatchProxy
    {
        public static IConnectionMultiplexer Create() => Create<IConnectionMultiplexer, UnusedMultiplexer>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            throw new NotSupportedException($"{targetMethod?.Name} was not expected in an options test.");
    }
}
