using Assistants.Kit.Redis.Internal;
using Assistants.Kit.Sqlite.Internal;
using Assistants.Kit.Stores.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Assistants.Kit.Stores.Tests.Contract;

/// <summary>The file ingestion contract against the core's in-memory store: the reference semantics.</summary>
public sealed class InMemoryFileIngestionContractTests : FileIngestionStoreContract
{
    private InMemoryFileIngestionStore? _store;

    protected override IFileIngestionStore OpenStore() => _store ??= new InMemoryFileIngestionStore();
}

/// <summary>The file ingestion contract against SQLite: a real database file; each store instance has its own <see cref="SqliteDatabase"/> (a restart).</summary>
public sealed class SqliteFileIngestionContractTests : FileIngestionStoreContract
{
    private readonly TempDirectory _directory = new();
    private readonly List<SqliteDatabase> _databases = [];

    protected override IFileIngestionStore OpenStore()
    {
        var database = new SqliteDatabase(new SqliteStoreOptions { Path = _directory.File("kit.db") }, new FakeTimeProvider(), NullLogger.Instance);
        _databases.Add(database);
        return new SqliteFileIngestionStore(database);
    }

    public override Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            database.Dispose();
        }

        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The file ingestion contract against Redis (<c>ASSISTANTS_KIT_REDIS</c>): each test writes under its own key prefix,
/// deleted afterwards; each store instance has its own <see cref="RedisConnection"/> (a restart).
/// </summary>
[RequiresRedis]
public sealed class RedisFileIngestionContractTests : FileIngestionStoreContract
{
    private readonly string _prefix = $"assistants-kit-tests:{Guid.NewGuid():N}:";

    protected override IFileIngestionStore OpenStore() =>
        new RedisFileIngestionStore(new RedisConnection(new RedisStoreOptions { Multiplexer = RedisServer.Multiplexer, KeyPrefix = _prefix }, NullLogger.Instance));

    public override Task DisposeAsync() => RedisServer.SkipReason is null ? RedisKeys.DeleteAsync(_prefix) : Task.CompletedTask;

    [RedisFact]
    public async Task Records_LiveInOneHashPerName_UnderThePrefix()
    {
        await Store.SaveAsync(Record("docs", Hash('a')));
        await Store.SaveAsync(Record("docs", Hash('b')));

        Assert.Equal([$"{_prefix}ingestion:docs"], await RedisKeys.ListAsync(_prefix));
        Assert.Equal(2, await RedisServer.Multiplexer.GetDatabase().HashLengthAsync($"{_prefix}ingestion:docs"));
    }
}
